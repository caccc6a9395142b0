"""Base62 codes for numeric ids: short, URL-safe, case-sensitive."""

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}


def encode(number: int) -> str:
    if number < 0:
        raise ValueError(f"cannot encode a negative id: {number}")
    if number == 0:
        return ALPHABET[0]
    digits = []
    while number:
        number, remainder = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def decode(code: str) -> int:
    if not code:
        raise ValueError("cannot decode an empty code")
    number = 0
    for char in code:
        if char not in _INDEX:
            raise ValueError(f"invalid character {char!r} in code {code!r}")
        number = number * len(ALPHABET) + _INDEX[char]
    return number
