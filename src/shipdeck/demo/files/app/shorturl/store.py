"""Where short codes live: an in-memory map that can be saved to and loaded from JSON."""

import json
import os
import tempfile


class UrlStore:
    def __init__(self):
        self._urls = {}
        self._next_id = 1

    def add(self, url):
        new_id = self._next_id
        self._urls[new_id] = url
        self._next_id += 1
        return new_id

    def get(self, url_id):
        return self._urls.get(url_id)

    def find(self, url):
        for url_id, known in self._urls.items():
            if known == url:
                return url_id
        return None

    def __len__(self):
        return len(self._urls)

    def save(self, path):
        data = {"next_id": self._next_id, "urls": {str(k): v for k, v in self._urls.items()}}
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, sort_keys=True)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        store = cls()
        store._urls = {int(k): v for k, v in data["urls"].items()}
        store._next_id = data["next_id"]
        return store
