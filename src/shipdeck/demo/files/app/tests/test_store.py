import os
import tempfile
import unittest

from shorturl.store import UrlStore


class StoreTest(unittest.TestCase):
    def test_ids_increase_from_one(self):
        store = UrlStore()
        self.assertEqual(store.add("https://a.example"), 1)
        self.assertEqual(store.add("https://b.example"), 2)
        self.assertEqual(len(store), 2)

    def test_find_and_get(self):
        store = UrlStore()
        url_id = store.add("https://a.example")
        self.assertEqual(store.find("https://a.example"), url_id)
        self.assertIsNone(store.find("https://missing.example"))
        self.assertIsNone(store.get(999))

    def test_save_and_load_round_trip(self):
        store = UrlStore()
        store.add("https://a.example/x?y=1")
        store.add("https://b.example")
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "urls.json")
            store.save(path)
            loaded = UrlStore.load(path)
            self.assertEqual(os.listdir(directory), ["urls.json"])
        self.assertEqual(loaded.get(1), "https://a.example/x?y=1")
        self.assertEqual(loaded.add("https://c.example"), 3)


if __name__ == "__main__":
    unittest.main()
