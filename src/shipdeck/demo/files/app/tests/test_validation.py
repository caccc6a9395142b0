import unittest

from shorturl.service import MAX_URL_LENGTH, InvalidUrl, validate_url


class ValidationTest(unittest.TestCase):
    def test_accepts_http_and_https(self):
        for url in ("http://example.com", "https://example.com:8443/x#frag"):
            with self.subTest(url=url):
                self.assertEqual(validate_url(url), url)

    def test_rejects_bad_urls(self):
        bad = [
            "",
            None,
            "ftp://example.com",
            "javascript:alert(1)",
            "https://",
            "https://exa mple.com",
            "https://example.com/" + "x" * MAX_URL_LENGTH,
        ]
        for url in bad:
            with self.subTest(url=url), self.assertRaises(InvalidUrl):
                validate_url(url)


if __name__ == "__main__":
    unittest.main()
