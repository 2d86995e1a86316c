"""``parse_message``: raw RFC 5322 bytes in, one frozen ``ParsedMessage`` out.

This is the pure core that mail intake calls after storing the raw bytes. It
never raises: a message that cannot be understood comes back with
``quarantine_reason`` set, so the caller keeps it for an administrator instead
of losing it. Classification (auto-reply, bounce, bulk, loop) is computed here
too, because the intake needs it for every message and it depends on the
desk's own address.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from email import errors
from email.feedparser import BytesFeedParser
from email.message import Message
from email.parser import BytesParser

from expediter.mail.classify import Classification, classify
from expediter.mail.parsing.charsets import codec_for, order_hints
from expediter.mail.parsing.headers import (
    Address,
    decode_header_value,
    encoded_word_codecs,
    first_usable,
    guess_raw_header_charset,
    normalize_whitespace,
    parse_addresses,
    parse_date,
    parse_message_id,
    parse_message_ids,
    ticket_number_from_subject,
)
from expediter.mail.parsing.html import html_to_text, sanitize_html
from expediter.mail.parsing.mimepolicy import PARSING_POLICY
from expediter.mail.parsing.parts import Collected, ParsedAttachment, collect, plain_as_html
from expediter.mail.parsing.repair import repair_header_block
from expediter.mail.parsing.spans import message_body_spans

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_DESK_ADDRESS = "helpdesk@example.com"

# Only this much is read to show what an oversized message was.
_OVERSIZE_HEADER_BYTES = 256 * 1024
_BINARY_NUL_COUNT = 8
_FEED_CHUNK = 1024 * 1024
_BINARY_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Outlook .msg or other OLE compound file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """Everything the desk needs from one inbound message.

    Message-IDs (``message_id``, ``in_reply_to``, ``references``) are stored
    without angle brackets. ``text`` is the full plain-text body (from the
    text/plain part, else rendered from the HTML); ``html`` is the sanitised
    HTML body or None. ``headers`` are the top-level header fields in order,
    unfolded and decoded. All text is free of NUL characters, which databases
    refuse.
    """

    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[ParsedAttachment, ...]
    headers: tuple[tuple[str, str], ...]
    content_type: str
    size: int
    classification: Classification
    quarantine_reason: str | None = None
    reply_split: tuple[str, str] | None = None
    """What the sender wrote and the quotation under it, when worked out ahead
    (a bulk import's parsing process does, for a person's message); else None."""

    def header(self, name: str) -> str | None:
        """The first value of a header field (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def header_values(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Ids this message answers, nearest first: In-Reply-To, then References
        from the most recent backwards."""
        ordered = (*self.in_reply_to, *reversed(self.references))
        return tuple(dict.fromkeys(ordered))

    @property
    def ticket_number(self) -> int | None:
        return ticket_number_from_subject(self.subject)

    @property
    def outcome(self) -> str:
        """``quarantined`` or the classification kind: how intake should treat it."""
        return "quarantined" if self.quarantine_reason else self.classification.kind


def parse_message(
    raw: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    desk_address: str = DEFAULT_DESK_ADDRESS,
) -> ParsedMessage:
    """Parse and classify one message; never raises on any input.

    The result carries its classification, computed against ``desk_address``
    (:func:`expediter.mail.classify.classify` can recompute it). A message
    larger than ``max_bytes``, not RFC 5322 at all, or without a usable sender
    comes back with ``quarantine_reason`` set; an oversized one still has its
    headers parsed, so that an administrator can see what it was.
    """
    try:
        return _parse(raw, max_bytes=max_bytes, desk_address=desk_address)
    except Exception as error:  # a message must never be lost to a bug
        return _empty(raw, f"the message could not be parsed ({type(error).__name__})")


def _parse(raw: bytes, *, max_bytes: int, desk_address: str) -> ParsedMessage:
    if len(raw) > max_bytes:
        headers_only = BytesParser(policy=PARSING_POLICY).parsebytes(
            raw[:_OVERSIZE_HEADER_BYTES], headersonly=True
        )
        parsed = _from_headers(headers_only, raw, Collected(), ())
        reason = f"the message is larger than the {max_bytes}-byte limit ({len(raw)} bytes)"
        return replace(parsed, quarantine_reason=reason)
    not_mail = _binary_kind(raw)
    if not_mail:
        return _empty(raw, f"not an RFC 5322 message: {not_mail}")
    message = _parse_mime(raw)
    if not message.keys():
        return _empty(raw, "not an RFC 5322 message: no header fields")
    hints = _declared_codecs(message)
    body = collect(message, message_body_spans(raw, message), hints)
    parsed = _from_headers(message, raw, body, hints)
    parsed = replace(parsed, classification=classify(parsed, desk_address=desk_address))
    quarantine = _quarantine_reason(parsed)
    return replace(parsed, quarantine_reason=quarantine) if quarantine else parsed


def _parse_mime(raw: bytes) -> Message:
    """Parse, and parse again after repairing a damaged header block.

    The standard parser ends the header block at the first line that is not a
    field, losing every header after a stray unfolded line or all of them
    after a preamble line; both are common in real mail.
    """
    message = _feed(raw)
    damaged = not message.keys() or any(
        isinstance(defect, errors.MissingHeaderBodySeparatorDefect) for defect in message.defects
    )
    if damaged:
        repaired = repair_header_block(raw)
        if repaired is not None:
            return _feed(repaired)
    return message


def _feed(raw: bytes) -> Message:
    """Parse in chunks: handing the parser the whole message at once makes it
    split every line up front, which costs about eight times the message size
    in memory; chunks keep the peak near three times."""
    parser = BytesFeedParser(policy=PARSING_POLICY)
    view = memoryview(raw)
    for start in range(0, len(raw), _FEED_CHUNK):
        parser.feed(bytes(view[start : start + _FEED_CHUNK]))
    return parser.close()


def _binary_kind(raw: bytes) -> str | None:
    for signature, kind in _BINARY_SIGNATURES:
        if raw.startswith(signature):
            return kind
    if raw[:1024].count(b"\x00") >= _BINARY_NUL_COUNT:
        return "binary data"
    return None


def _quarantine_reason(parsed: ParsedMessage) -> str | None:
    """Delivery reports are understood without a sender: mail systems send
    them from a bare MAILER-DAEMON or the null sender, and they are never
    answered anyway."""
    if parsed.sender is not None and parsed.sender.is_usable:
        return None
    if parsed.classification.kind == "bounce":
        return None
    return "no usable sender address"


def _declared_codecs(message: Message) -> tuple[str, ...]:
    """Every charset the message declares, in its parts or its encoded words."""
    found = [codec_for(part.get_content_charset()) for part in message.walk()]
    declared = [codec for codec in found if codec is not None]
    return order_hints([*encoded_word_codecs(v for _, v in message.raw_items()), *declared])


def _from_headers(
    message: Message, raw: bytes, body: Collected, hints: tuple[str, ...]
) -> ParsedMessage:
    raw_items = list(message.raw_items())
    charset = guess_raw_header_charset((value for _, value in raw_items), hints)
    headers = tuple(
        (_clean(name), _clean(decode_header_value(value, charset))) for name, value in raw_items
    )
    raw_values = {name.lower(): value for name, value in reversed(raw_items)}
    subject = raw_values.get("subject", "")
    sender = _sender(raw_items, charset)
    html = _body_html(body)
    return ParsedMessage(
        sender=_clean_address(sender) if sender else None,
        reply_to=_addresses(raw_values.get("reply-to"), charset),
        to=_addresses(raw_values.get("to"), charset),
        cc=_addresses(raw_values.get("cc"), charset),
        subject=_clean(normalize_whitespace(decode_header_value(subject, charset))),
        message_id=parse_message_id(raw_values.get("message-id")),
        in_reply_to=parse_message_ids(raw_values.get("in-reply-to")),
        references=parse_message_ids(raw_values.get("references")),
        date=parse_date(raw_values.get("date")),
        text=_body_text(body),
        html=html,
        attachments=tuple(body.attachments),
        headers=headers,
        content_type=message.get_content_type(),
        size=len(raw),
        classification=Classification.normal(),
    )


def _sender(raw_items: list[tuple[str, str]], charset: str | None) -> Address | None:
    """The author: the first usable address of From (all of them, as some
    messages carry two), else Sender, else Reply-To; else whatever From held."""
    candidates: list[Address] = []
    for field in ("from", "sender", "reply-to"):
        values = [value for name, value in raw_items if name.lower() == field]
        addresses = [a for value in values for a in parse_addresses(value, charset)]
        usable = first_usable(tuple(addresses))
        if usable is not None and usable.is_usable:
            return usable
        candidates.extend(addresses)
    return candidates[0] if candidates else None


def _body_text(body: Collected) -> str:
    """The plain text of every segment, rendered from HTML where a segment
    has no usable plain text."""
    texts = []
    for segment in body.segments:
        if segment.plain is not None and segment.plain.strip():
            texts.append(segment.plain.strip("\n"))
        elif segment.html is not None:
            texts.append(html_to_text(segment.html))
    return _clean("\n\n".join(t for t in texts if t.strip()).strip())


def _body_html(body: Collected) -> str | None:
    """Sanitised HTML of the whole body, or None when no segment has HTML."""
    if not any(segment.html is not None for segment in body.segments):
        return None
    markup = "".join(
        segment.html if segment.html is not None else plain_as_html(segment.plain or "")
        for segment in body.segments
    )
    return _clean(sanitize_html(markup))


def _addresses(value: str | None, charset: str | None) -> tuple[Address, ...]:
    return tuple(_clean_address(a) for a in parse_addresses(value, charset))


def _clean_address(address: Address) -> Address:
    return Address(name=_clean(address.name), address=_clean(address.address))


def _clean(text: str) -> str:
    return text.replace("\x00", "")


def _empty(raw: bytes, reason: str) -> ParsedMessage:
    return ParsedMessage(
        sender=None,
        reply_to=(),
        to=(),
        cc=(),
        subject="",
        message_id=None,
        in_reply_to=(),
        references=(),
        date=None,
        text="",
        html=None,
        attachments=(),
        headers=(),
        content_type="application/octet-stream",
        size=len(raw),
        classification=Classification.normal(),
        quarantine_reason=reason,
    )
