import unittest

from shorturl.codec import ALPHABET, decode, encode


class CodecTest(unittest.TestCase):
    def test_zero_and_small_numbers(self):
        self.assertEqual(encode(0), "0")
        self.assertEqual(encode(61), "Z")
        self.assertEqual(encode(62), "10")

    def test_round_trip(self):
        for number in (1, 7, 61, 62, 3843, 3844, 10**9, 2**63):
            with self.subTest(number=number):
                self.assertEqual(decode(encode(number)), number)

    def test_codes_only_use_the_alphabet(self):
        self.assertTrue(set(encode(123456789)) <= set(ALPHABET))

    def test_negative_is_rejected(self):
        with self.assertRaises(ValueError):
            encode(-1)

    def test_bad_characters_are_rejected(self):
        for code in ("", "ab-c", "a b", "é"):
            with self.subTest(code=code), self.assertRaises(ValueError):
                decode(code)


if __name__ == "__main__":
    unittest.main()
