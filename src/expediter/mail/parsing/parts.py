"""Walking a parsed MIME tree into body segments and attachments.

Which parts are "the message" and which are files follows what mail clients
show. The body is a sequence of segments in message order (a client may send
text, an image, then more text); ``multipart/alternative`` yields one segment
with its plain and its HTML rendering, and any other alternative (an Outlook
``text/calendar`` invitation) becomes a file. Text parts with a filename or an
``attachment`` disposition are files; ``message/*`` parts (forwards, delivery
reports) are kept whole as files, byte for byte when their span is known. A
file uuencoded into plain text (Lotus Notes) is a file too.
"""

from __future__ import annotations

import binascii
import html as html_lib
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO
from typing import Any

from expediter.mail.parsing.charsets import decode_bytes
from expediter.mail.parsing.headers import (
    decode_header_value,
    guess_raw_header_charset,
    normalize_whitespace,
)
from expediter.mail.parsing.mimepolicy import VERBATIM_POLICY
from expediter.mail.parsing.uuencode import extract_uuencoded

MAX_DEPTH = 40

_LINE_BREAK = re.compile(rb"\r?\n")
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\]+")
_FILENAME_LIKE = re.compile(r"^[\w .()+-]{1,120}\.[A-Za-z][A-Za-z0-9]{0,4}$")
_EXTENSIONS = {
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "message/feedback-report": ".txt",
    "text/rfc822-headers": ".txt",
    "text/global-headers": ".txt",
    "text/calendar": ".ics",
    "text/plain": ".txt",
    "text/html": ".html",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "application/octet-stream": ".bin",
}
_DEFAULT_STEMS = {
    "message/rfc822": "message",
    "message/global": "message",
    "message/delivery-status": "delivery-status",
    "message/global-delivery-status": "delivery-status",
    "message/disposition-notification": "disposition-notification",
    "message/feedback-report": "feedback-report",
    "text/rfc822-headers": "headers",
    "text/global-headers": "headers",
    "text/calendar": "invite",
    "text/html": "document",
}
_STEMS_BY_MAINTYPE = {"image": "image", "video": "video", "audio": "audio"}
_EMBEDDED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """A file carried by a message, byte for byte as the sender attached it."""

    filename: str
    content_type: str
    content: bytes
    content_id: str | None
    inline: bool

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of body: its plain text, its HTML, or both renderings."""

    plain: str | None
    html: str | None


@dataclass
class Collected:
    """What a subtree contributes to the message."""

    segments: list[Segment] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)

    def extend(self, other: Collected) -> None:
        self.segments.extend(other.segments)
        self.attachments.extend(other.attachments)


@dataclass(frozen=True, slots=True)
class _Context:
    """Per-message facts the walk needs: raw spans of ``message/*`` parts and
    the charsets declared anywhere in the message, for unlabelled text."""

    raw_bodies: dict[int, bytes]
    hints: tuple[str, ...]


def collect(part: Message, raw_bodies: dict[int, bytes], hints: tuple[str, ...]) -> Collected:
    """Body segments and attachments of ``part`` and everything under it."""
    return _collect(part, _Context(raw_bodies, hints), 0)


def _collect(part: Message, context: _Context, depth: int) -> Collected:
    if depth > MAX_DEPTH:
        return Collected()
    content_type = part.get_content_type()
    if content_type.startswith("message/") and isinstance(_stored_payload(part), list):
        return Collected(attachments=[_message_attachment(part, content_type, context)])
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if content_type == "multipart/alternative":
            return _collect_alternative(children, context, depth)
        result = Collected()
        for child in children:
            result.extend(_collect(child, context, depth + 1))
        return result
    return _collect_leaf(part, content_type, context)


def _collect_alternative(children: list[Message], context: _Context, depth: int) -> Collected:
    """One segment with a plain and an HTML rendering; other parts become files.

    The first alternative with plain text supplies the text (later ones are
    richer renderings of it); the last one with HTML supplies the HTML, as RFC
    2046 orders alternatives from plainest to richest.
    """
    renderings = [_collect(child, context, depth + 1) for child in children]
    plain = next((text for r in renderings if (text := _plain_of(r.segments))), None)
    html = next((markup for r in reversed(renderings) if (markup := _html_of(r.segments))), None)
    result = Collected()
    if plain is not None or html is not None:
        result.segments.append(Segment(plain=plain, html=html))
    for rendering in renderings:
        result.attachments.extend(rendering.attachments)
    return result


def _plain_of(segments: list[Segment]) -> str | None:
    texts = [s.plain for s in segments if s.plain is not None and s.plain.strip()]
    return "\n".join(texts) if texts else None


def _html_of(segments: list[Segment]) -> str | None:
    if not any(s.html is not None for s in segments):
        return None
    return "".join(s.html if s.html is not None else plain_as_html(s.plain or "") for s in segments)


def plain_as_html(text: str) -> str:
    """Plain text shown among HTML segments, escaped, its line breaks kept."""
    return "<div>" + html_lib.escape(text).replace("\n", "<br>\n") + "</div>"


def _collect_leaf(part: Message, content_type: str, context: _Context) -> Collected:
    disposition = part.get_content_disposition()
    filename = _declared_filename(part)
    is_body_type = content_type in ("text/plain", "text/html") or content_type.startswith(
        "multipart/"
    )
    if is_body_type and disposition != "attachment" and not filename:
        text = _decoded_text(part, context.hints)
        if content_type == "text/html":
            return Collected(segments=[Segment(plain=None, html=text)])
        text, files = extract_uuencoded(text)
        return Collected(
            segments=[Segment(plain=_unflow(text, part), html=None)],
            attachments=[_uuencoded_attachment(name, data) for name, data in files],
        )
    return Collected(attachments=[_leaf_attachment(part, content_type, disposition, filename)])


def _decoded_text(part: Message, hints: tuple[str, ...]) -> str:
    text = decode_bytes(_payload_bytes(part), part.get_content_charset(), hints)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _payload_bytes(part: Message, *, canonical_breaks: bool = False) -> bytes:
    """The transfer-decoded content. With ``canonical_breaks``, the hard line
    breaks of quoted-printable decode to CRLF, as RFC 2045 6.7 defines, so a
    file stored with local line endings comes out as the sender's bytes."""
    raw = _stored_payload(part)
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if isinstance(raw, str) and encoding == "base64":
        return _tolerant_base64(raw)
    if isinstance(raw, str) and encoding == "quoted-printable" and canonical_breaks:
        data = raw.encode("ascii", "surrogateescape")
        return binascii.a2b_qp(_LINE_BREAK.sub(b"\r\n", data))
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    raw = _stored_payload(part)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _stored_payload(part: Message) -> Any:
    """The payload as the parser stored it, without decoding.

    ``get_payload()`` re-decodes an 8-bit body with the part's charset and
    only survives an unknown one; a charset with a NUL in it raises
    ``ValueError`` instead, and the stored text is what we want anyway.
    """
    try:
        return part.get_payload()
    except ValueError:
        return part._payload  # type: ignore[attr-defined]  # what get_payload() failed to re-decode


def _tolerant_base64(text: str) -> bytes:
    """Base64 as senders write it: stray characters skipped, a dangling final
    character dropped, missing padding supplied."""
    data = text.encode("ascii", "ignore")
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        cleaned = cleaned[: len(cleaned) - len(cleaned) % 4 if len(cleaned) % 4 == 1 else None]
        return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))


def _leaf_attachment(
    part: Message, content_type: str, disposition: str | None, filename: str | None
) -> ParsedAttachment:
    content_id = _content_id(part)
    return ParsedAttachment(
        filename=filename or _generated_filename(part, content_type, content_id, None),
        content_type=content_type,
        content=_payload_bytes(part, canonical_breaks=True),
        content_id=content_id,
        inline=disposition == "inline" or (disposition is None and content_id is not None),
    )


def _uuencoded_attachment(name: str, data: bytes) -> ParsedAttachment:
    filename = clean_filename(name) or "attachment.bin"
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return ParsedAttachment(
        filename=filename, content_type=content_type, content=data, content_id=None, inline=False
    )


def _message_attachment(part: Message, content_type: str, context: _Context) -> ParsedAttachment:
    payload = _stored_payload(part)
    first = payload[0] if isinstance(payload, list) and payload else None
    embedded = (
        first if isinstance(first, Message) and content_type in _EMBEDDED_MESSAGE_TYPES else None
    )
    raw_body = context.raw_bodies.get(id(part))
    if raw_body is not None:
        content = _transfer_decoded(raw_body, part)
    elif embedded is not None:
        content = _flatten(embedded)
    else:
        content = _body_of(_flatten(part))
    subject = _embedded_subject(embedded, context.hints) if embedded is not None else None
    content_id = _content_id(part)
    return ParsedAttachment(
        filename=_declared_filename(part)
        or _generated_filename(part, content_type, content_id, subject),
        content_type=content_type,
        content=content,
        content_id=content_id,
        inline=False,
    )


def _transfer_decoded(raw_body: bytes, part: Message) -> bytes:
    """``message/*`` must not be transfer-encoded (RFC 2046 5.2.1), yet some are."""
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            return binascii.a2b_base64(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw_body))
        if encoding == "quoted-printable":
            return quopri.decodestring(raw_body)
    except (binascii.Error, ValueError):
        return raw_body
    return raw_body


def _flatten(message: Message) -> bytes:
    buffer = BytesIO()
    generator = BytesGenerator(buffer, mangle_from_=False, policy=VERBATIM_POLICY)
    generator.flatten(message)  # type: ignore[arg-type]  # any Message flattens
    return buffer.getvalue()


def _body_of(flattened: bytes) -> bytes:
    """Drop the MIME headers of a flattened part, keeping its body."""
    _, separator, body = flattened.partition(b"\n\n")
    return body if separator else b""


def _embedded_subject(message: Message, hints: tuple[str, ...]) -> str | None:
    items = list(message.raw_items())
    raw = next((value for name, value in items if name.lower() == "subject"), None)
    if raw is None:
        return None
    charset = guess_raw_header_charset((value for _, value in items), hints)
    return normalize_whitespace(decode_header_value(raw, charset)) or None


def _content_id(part: Message) -> str | None:
    raw = next((value for name, value in part.raw_items() if name.lower() == "content-id"), None)
    if raw is None:
        return None
    value = normalize_whitespace(decode_header_value(raw)).strip("<>").strip()
    return value or None


def _declared_filename(part: Message) -> str | None:
    try:
        raw = part.get_filename()
    except Exception:  # malformed parameters must not lose the file
        raw = None
    if not raw:
        return None
    return clean_filename(decode_header_value(raw)) or None


def clean_filename(name: str) -> str:
    """A filename without directories, control characters or edge spaces."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE_FILENAME.sub(" ", name).strip(". ")


def _generated_filename(
    part: Message, content_type: str, content_id: str | None, subject: str | None
) -> str:
    """A name for a nameless part: the forwarded message's subject, a
    filename-like Content-ID (``image001.jpg@01CD...``), the part's
    description, or a stem naming its type."""
    local_id = (content_id or "").split("@", 1)[0]
    if _FILENAME_LIKE.match(local_id):
        return clean_filename(local_id)
    description = part.get("content-description")
    described = clean_filename(decode_header_value(str(description))) if description else ""
    stem = (
        clean_filename(normalize_whitespace(subject or ""))
        or described
        or _DEFAULT_STEMS.get(content_type)
        or _STEMS_BY_MAINTYPE.get(content_type.split("/", 1)[0], "attachment")
    )
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ""
    if extension and stem.lower().endswith(extension.lower()):
        return stem
    return f"{stem}{extension}"


def _unflow(text: str, part: Message) -> str:
    """Join the soft line breaks of ``format=flowed`` text (RFC 3676)."""
    if str(part.get_param("format") or "").lower() != "flowed":
        return text
    delete_space = str(part.get_param("delsp") or "").lower() == "yes"
    lines: list[str] = []
    joining = False
    for line in text.split("\n"):
        quote, content = _split_flowed_quote(line)
        if joining and lines and quote == _split_flowed_quote(lines[-1])[0]:
            lines[-1] += content
        else:
            lines.append(quote + content)
        joining = content.endswith(" ") and content != "-- "
        if joining and delete_space:
            lines[-1] = lines[-1][:-1]
    return "\n".join(lines)


def _split_flowed_quote(line: str) -> tuple[str, str]:
    depth = len(line) - len(line.lstrip(">"))
    content = line[depth:]
    if content.startswith(" "):
        content = content[1:]  # space-stuffing
    return (">" * depth + (" " if depth else "")), content
