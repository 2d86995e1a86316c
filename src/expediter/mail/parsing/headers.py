"""Header values as people mean them: RFC 2047 words, raw 8-bit, broken lists.

The standard library's structured headers (``policy.default``) are strict and
slow on hostile input and sometimes raise deep inside; everything here starts
from the raw value and degrades to "best effort text", never to an exception.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from expediter.mail.parsing.charsets import codec_for, decode_bytes, guess_charset, order_hints

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r\n|\r|\n")
_SPACES = re.compile(r"[\s\x00-\x1f\x7f]+", re.ASCII)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_LOOSE_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
_TICKET_TOKEN = re.compile(r"\[#(\d{1,18})\]")
_PHRASE_WITH_COMMENT = re.compile(r"^([^()]*[^()\s])\s*(\([^()]*\))$")
_RAW_BYTE = re.compile("[\udc80-\udcff]")
_SPACE = re.compile(r"\s")  # what str.isspace() calls a space, found without a loop in Python
# A mailbox in its plainest form (RFC 5322 atoms only): ``local@domain`` or
# ``Display Name <local@domain>``, names of plain words (encoded words among them).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
_PLAIN_MAILBOX = re.compile(
    rf"[ \t]*(?:(?P<bare>{_ADDR_SPEC})"
    rf"|(?P<name>{_ATOM}(?:[ \t]+{_ATOM})*)?[ \t]*<(?P<angle>{_ADDR_SPEC})>)[ \t]*"
)


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox: the decoded display name and the address as written.

    ``key`` is the lower-cased address, what the desk matches people by
    (local parts are case-sensitive in theory, never in practice).
    """

    name: str
    address: str

    @property
    def key(self) -> str:
        return self.address.lower()

    @property
    def is_usable(self) -> bool:
        """An address that mail can be sent back to: ``local@domain``."""
        local, at, domain = self.address.rpartition("@")
        if not (at and local and domain) or _SPACE.search(domain):
            return False
        quoted = len(local) > 1 and local.startswith('"') and local.endswith('"')
        return quoted or not _SPACE.search(local)


def has_raw_bytes(value: str) -> bool:
    """True when the parser kept undecodable 8-bit bytes as surrogates."""
    return _RAW_BYTE.search(value) is not None


def decode_raw_bytes(value: str, raw_charset: str | None = None) -> str:
    """Re-decode 8-bit bytes that arrived unlabelled in a header.

    ``raw_charset`` is the charset guessed from all such bytes of the message
    together: one display name is too short for a reliable guess.
    """
    if not has_raw_bytes(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    if raw_charset is not None:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return decode_bytes(data, raw_charset, hints=("cp1252",))


def guess_raw_header_charset(values: Iterable[str], hints: tuple[str, ...] = ()) -> str | None:
    """The charset of the unlabelled 8-bit bytes in a message's headers.

    A charset the sender declared in the encoded words of the same headers is
    the best hint (a sender mixing both styles uses one charset); otherwise
    all such bytes are guessed together, as one name is too short to guess.
    """
    values = list(values)
    raw = [v.encode("utf-8", "surrogateescape") for v in values if has_raw_bytes(v)]
    if not raw:
        return None
    data = b"\n".join(raw)
    for codec in (*encoded_word_codecs(values), *hints):
        if _decodes(data, codec):
            return codec
    return guess_charset(data)


def encoded_word_codecs(values: Iterable[str]) -> tuple[str, ...]:
    """Codecs declared by the RFC 2047 words of header values, multi-byte first."""
    names = [m.group(1).split("*", 1)[0] for v in values for m in _ENCODED_WORD.finditer(v)]
    return order_hints([c for c in map(codec_for, names) if c is not None])


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeError, LookupError):
        return False
    return True


def unfold(value: str) -> str:
    """Join folded header lines (RFC 5322 2.2.3)."""
    return _FOLD.sub("", value)


def decode_header_value(value: str, raw_charset: str | None = None) -> str:
    """Unfold, decode 8-bit bytes and RFC 2047 encoded words; never raises."""
    text = decode_raw_bytes(unfold(value), raw_charset)
    if "=?" not in text:
        return text
    return _decode_encoded_words(text)


def _decode_encoded_words(text: str) -> str:
    pieces: list[str] = []
    pending: list[tuple[str, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (pending and between.isspace()):
            _flush(pending, pieces)
            pieces.append(between)
        charset = match.group(1).split("*", 1)[0]
        pending.append((charset, _word_bytes(match.group(2), match.group(3))))
        position = match.end()
    _flush(pending, pieces)
    pieces.append(text[position:])
    return "".join(pieces)


def _flush(pending: list[tuple[str, bytes]], pieces: list[str]) -> None:
    """Decode runs of words sharing a charset together: senders split
    multi-byte characters across adjacent encoded words."""
    run_charset: str | None = None
    run: list[bytes] = []
    for charset, data in pending:
        if run and charset.lower() != (run_charset or "").lower():
            pieces.append(decode_bytes(b"".join(run), run_charset))
            run = []
        run_charset = charset
        run.append(data)
    if run:
        pieces.append(decode_bytes(b"".join(run), run_charset))
    pending.clear()


def _word_bytes(encoding: str, payload: str) -> bytes:
    raw = payload.encode("ascii", "replace")
    if encoding in "qQ":
        return binascii.a2b_qp(raw, header=True)
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned)
    except binascii.Error:
        return raw


def normalize_whitespace(text: str) -> str:
    """Collapse runs of ASCII whitespace and control characters to one space."""
    return _SPACES.sub(" ", text).strip()


def parse_addresses(value: str | None, raw_charset: str | None = None) -> tuple[Address, ...]:
    """Every mailbox of an address-list header, display names decoded.

    Parsing happens before decoding, so that commas and quotes inside encoded
    display names cannot split an address; a header whose whole text was
    encoded is decoded and parsed a second time.
    """
    if not value:
        return ()
    raw = unfold(value)
    found = _parse_list(raw, raw_charset)
    if not any(address.is_usable for address in found) and "=?" in raw:
        found = _parse_list(decode_header_value(raw, raw_charset), raw_charset)
    return found


def _parse_list(raw: str, raw_charset: str | None) -> tuple[Address, ...]:
    pairs = _plain_pairs(raw)
    if pairs is None:
        try:
            pairs = getaddresses([raw])
        except Exception:  # the standard parser has raised on hostile input
            pairs = []
    result = []
    for name, address in pairs:
        decoded = _decoded_address(name, address, raw_charset, raw_list=raw)
        if decoded.address or decoded.name:
            result.append(decoded)
    if not any(address.is_usable for address in result):
        loose = _LOOSE_ADDRESS.findall(decode_raw_bytes(raw, raw_charset))
        result.extend(Address(name="", address=address) for address in loose)
    return tuple(result)


def _plain_pairs(raw: str) -> list[tuple[str, str]] | None:
    """``getaddresses([raw])`` for a list of plain mailboxes only, else None.

    Most address headers are one or two mailboxes of plain words, which the
    standard parser walks character by character in Python (a quarter of
    the time a plain message takes to parse). Anything else (quotes,
    comments, groups, 8-bit bytes, an empty entry) is left to it.
    """
    pairs = []
    for entry in raw.split(","):
        plain = _PLAIN_MAILBOX.fullmatch(entry)
        if plain is None:
            return None
        bare, name, angle = plain.group("bare", "name", "angle")
        pairs.append(("", bare) if bare else (" ".join((name or "").split()), angle))
    return pairs


def _decoded_address(name: str, address: str, raw_charset: str | None, *, raw_list: str) -> Address:
    """A mailbox with its name decoded; a bare encoded word without ``@`` (a
    group or a name that lost its address) is a name, not an address. A
    comment after an unquoted name ("MAILER-DAEMON (Mail Delivery System)")
    is not part of the name; inside quotes, parentheses are."""
    address = decode_raw_bytes(address, raw_charset).strip()
    if "@" not in address and "=?" in address:
        name, address = f"{name} {address}", ""
    name = normalize_whitespace(decode_header_value(name, raw_charset)).strip("\"' ")
    phrase = _PHRASE_WITH_COMMENT.match(name)
    is_comment = phrase is not None and '"' not in raw_list and phrase.group(2) in raw_list
    return Address(name=phrase.group(1) if phrase and is_comment else name, address=address)


def first_usable(addresses: tuple[Address, ...]) -> Address | None:
    """The first address that can be replied to, else the first one at all."""
    for address in addresses:
        if address.is_usable:
            return address
    return addresses[0] if addresses else None


def parse_message_ids(value: str | None) -> tuple[str, ...]:
    """Message-IDs of an ``In-Reply-To`` or ``References`` header.

    Ids are returned without their angle brackets everywhere in this package;
    a header without any bracketed id falls back to whitespace-separated words
    (some mailers drop the brackets).
    """
    if not value:
        return ()
    text = decode_raw_bytes(unfold(value))
    ids = _MESSAGE_ID.findall(text)
    if not ids:
        ids = [word.strip("<>,;") for word in text.split() if "@" in word]
    return tuple(dict.fromkeys(i for i in ids if i))


def parse_message_id(value: str | None) -> str | None:
    ids = parse_message_ids(value)
    if ids:
        return ids[0]
    stripped = normalize_whitespace(decode_raw_bytes(value or "")).strip("<>")
    return stripped or None


def parse_date(value: str | None) -> datetime | None:
    """The ``Date`` header as an aware datetime (UTC when no zone was given)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(normalize_whitespace(decode_raw_bytes(value)))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def ticket_number_from_subject(subject: str | None) -> int | None:
    """The ticket number of the first ``[#<number>]`` token in a subject."""
    if not subject:
        return None
    match = _TICKET_TOKEN.search(subject)
    return int(match.group(1)) if match else None
