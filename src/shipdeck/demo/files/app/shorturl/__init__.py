"""shorturl: a tiny URL shortener (the application the demo's `ci` pipeline builds)."""

from shorturl.codec import decode, encode
from shorturl.service import InvalidUrl, ShortUrlService, UnknownCode
from shorturl.store import UrlStore

__all__ = ["InvalidUrl", "ShortUrlService", "UnknownCode", "UrlStore", "decode", "encode"]
__version__ = "0.0.0+dev"
