"""Bytes to text for mail that lies about its charset.

Real mail declares charsets that Python does not know (``iso-8859-8-i``,
``cp-1251``), declares ``us-ascii`` or ``iso-8859-1`` and then sends UTF-8 or
Windows-1252, or declares nothing at all. Decoding must never fail and should
be right as often as possible, so a declared charset is tried first (widened to
the superset that mail clients actually use), then UTF-8, then a statistical
guess by ``charset-normalizer``, and only then a decode with replacement
characters.
"""

from __future__ import annotations

import codecs
import re

# Declared names that mean "no information".
_MEANINGLESS = frozenset({"", "unknown", "unknown-8bit", "x-unknown", "default", "charset", "none"})

# Names Python does not know, mapped to a codec that decodes what senders meant.
_ALIASES = {
    "iso-8859-8-i": "iso8859_8",
    "iso-8859-6-i": "iso8859_6",
    "iso-8859-8-e": "iso8859_8",
    "iso-8859-6-e": "iso8859_6",
    "x-sjis": "cp932",
    "x-euc-jp": "euc_jp",
    "x-gbk": "gb18030",
    "x-mac-roman": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-user-defined": "cp1252",
    "unicode": "utf-16",
    "ucs-2": "utf-16",
    "utf8mb4": "utf-8",
}

# Declared codecs widened to the superset that the sending software really uses
# (the same substitutions WHATWG's encoding standard makes for the web).
_SUPERSETS = {
    "ascii": "utf-8",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}
_ISO2022_JP = frozenset({"iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_ext"})

# Codecs under which every byte sequence decodes: a strict failure after the
# widening above means the label is wrong, and latin-1 keeps every byte visible.
_SINGLE_BYTE_FALLBACK = frozenset({"cp1252", "cp1254", "cp874"})

_MIN_GUESS_BYTES = 16
_SINGLE_BYTE = frozenset(
    {"cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258"}
    | {f"iso8859-{n}" for n in range(1, 17)}
    | {"koi8-r", "koi8-u", "mac-roman", "cp874", "cp437", "cp850", "cp866"}
)
_WINDOWS_NAME = re.compile(r"^(?:cp|windows|win|ms)[-_ ]?(\d{3,4})$")


def codec_for(declared: str | None) -> str | None:
    """The Python codec to try for a declared charset, or None when unknown."""
    if declared is None:
        return None
    name = declared.strip().strip("\"'").split(";", 1)[0].strip().lower()
    if name in _MEANINGLESS:
        return None
    name = _ALIASES.get(name, name)
    windows = _WINDOWS_NAME.match(name)
    if windows:
        name = f"cp{windows.group(1)}"
    codec = _lookup(name) or (_lookup(name[2:]) if name.startswith("x-") else None)
    if codec is None:
        return None
    return _SUPERSETS.get(codec, codec)


def _lookup(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, declared: str | None = None, hints: tuple[str, ...] = ()) -> str:
    """Decode ``data`` as text; never raises, never drops bytes silently.

    ``hints`` are codecs declared elsewhere in the same message, tried before
    guessing: a sender who labels one part usually writes all in that charset.
    """
    if not data:
        return ""
    codec = codec_for(declared)
    if codec in _ISO2022_JP:
        return decode_iso2022_jp(data)
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            return text
        if codec in _SINGLE_BYTE_FALLBACK:
            return data.decode("latin-1")
    if data.isascii():
        return data.decode("ascii")
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    if codec == "utf-8" and _mostly_utf8(data):
        return data.decode("utf-8", errors="replace")
    for hint in hints:
        text = _strict(data, hint)
        if text is not None:
            return text
    guessed = _guess(data) if _worth_guessing(data) else None
    if guessed is not None:
        return guessed
    return _strict(data, "cp1252") or data.decode("latin-1")


def _worth_guessing(data: bytes) -> bool:
    """A statistical guess needs material: a handful of 8-bit bytes in a
    Western message is far more often Windows-1252 than anything else."""
    return sum(1 for byte in data if byte > 127) >= _MIN_GUESS_BYTES


def order_hints(codecs_found: list[str]) -> tuple[str, ...]:
    """Distinct hint codecs, multi-byte ones first: they fail when wrong,
    while a single-byte codec decodes anything."""
    distinct = [c for c in dict.fromkeys(codecs_found) if c not in ("utf-8", "ascii")]
    return tuple(sorted(distinct, key=lambda codec: codec in _SINGLE_BYTE))


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _mostly_utf8(data: bytes) -> bool:
    """True when a text labelled UTF-8 has only a few broken sequences.

    A message typed in UTF-8 with one pasted Windows-1252 character is better
    shown with one replacement character than re-guessed as a whole.
    """
    decoded = data.decode("utf-8", errors="replace")
    broken = decoded.count("\ufffd")
    valid = sum(1 for ch in decoded if ord(ch) > 127) - broken
    return broken <= valid


def _guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes  # 9 MB: loaded by the first guess, not at start

    best = from_bytes(data).best()
    if best is None:
        return None
    return str(best)


def guess_charset(data: bytes) -> str | None:
    """The most likely codec of undeclared 8-bit text (None when it is UTF-8
    or nothing fits)."""
    if data.isascii() or _strict(data, "utf-8") is not None:
        return None
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best is not None else None


_JIS_ESCAPE = re.compile(rb"\x1b(\$@|\$B|\$\(D|\(B|\(J|\(I)")


def decode_iso2022_jp(data: bytes) -> str:
    """ISO-2022-JP as Japanese mail clients write it, with Windows extensions.

    Senders routinely include NEC and IBM extension characters (circled
    digits, roman numerals) that Python's ISO-2022-JP codecs reject; mapping
    JIS X 0208 to Shift_JIS and decoding with cp932 accepts them, as mail
    clients do.
    """
    out = bytearray()
    mode = b"(B"
    position = 0
    for match in _JIS_ESCAPE.finditer(data):
        out += _jis_to_sjis(data[position : match.start()], mode)
        mode = match.group(1)
        position = match.end()
    out += _jis_to_sjis(data[position:], mode)
    return out.decode("cp932", errors="replace")


def _jis_to_sjis(chunk: bytes, mode: bytes) -> bytes:
    if mode == b"(I":
        return bytes(b + 0x80 if 0x21 <= b <= 0x5F else b for b in chunk)
    if mode not in (b"$@", b"$B"):
        return chunk
    out = bytearray()
    for index in range(0, len(chunk) - 1, 2):
        first, second = chunk[index], chunk[index + 1]
        if not (0x21 <= first <= 0x7E and 0x21 <= second <= 0x7E):
            out += chunk[index : index + 2]
            continue
        lead = ((first + 1) >> 1) + (0x70 if first <= 0x5E else 0xB0)
        trail = second + (0x1F if first & 1 else 0x7E)
        if first & 1 and trail >= 0x7F:
            trail += 1
        out += bytes((lead, trail))
    if len(chunk) % 2:
        out += chunk[-1:]
    return bytes(out)
