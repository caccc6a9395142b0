"""The service's behaviour: validate, shorten (deduplicated), resolve."""

from urllib.parse import urlsplit

from shorturl.codec import decode, encode

MAX_URL_LENGTH = 2048


class InvalidUrl(ValueError):
    pass


class UnknownCode(KeyError):
    pass


def validate_url(url):
    if not isinstance(url, str) or not url:
        raise InvalidUrl("url must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrl(f"url is longer than {MAX_URL_LENGTH} characters")
    if any(char.isspace() for char in url):
        raise InvalidUrl("url must not contain whitespace")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidUrl(f"unsupported scheme {parts.scheme!r}: use http or https")
    if not parts.hostname:
        raise InvalidUrl("url has no host")
    return url


class ShortUrlService:
    def __init__(self, store, base="https://sho.rt/"):
        self.store = store
        self.base = base

    def shorten(self, url):
        validate_url(url)
        url_id = self.store.find(url)
        if url_id is None:
            url_id = self.store.add(url)
        return self.base + encode(url_id)

    def resolve(self, code):
        if code.startswith(self.base):
            code = code[len(self.base) :]
        try:
            url_id = decode(code)
        except ValueError as error:
            raise UnknownCode(code) from error
        url = self.store.get(url_id)
        if url is None:
            raise UnknownCode(code)
        return url
