import unittest

from shorturl.service import ShortUrlService, UnknownCode
from shorturl.store import UrlStore


class ServiceTest(unittest.TestCase):
    def setUp(self):
        self.service = ShortUrlService(UrlStore())

    def test_shorten_then_resolve(self):
        short = self.service.shorten("https://example.com/a/long/path?q=1")
        self.assertTrue(short.startswith("https://sho.rt/"))
        self.assertEqual(self.service.resolve(short), "https://example.com/a/long/path?q=1")

    def test_same_url_gets_the_same_code(self):
        first = self.service.shorten("https://example.com")
        second = self.service.shorten("https://example.com")
        self.assertEqual(first, second)
        self.assertEqual(len(self.service.store), 1)

    def test_resolve_accepts_a_bare_code(self):
        short = self.service.shorten("https://example.com")
        self.assertEqual(self.service.resolve(short.rsplit("/", 1)[1]), "https://example.com")

    def test_unknown_codes(self):
        for code in ("zz", "not-a-code", ""):
            with self.subTest(code=code), self.assertRaises(UnknownCode):
                self.service.resolve(code)


if __name__ == "__main__":
    unittest.main()
