"""Pure parsing of inbound mail: bytes in, frozen dataclasses out."""

from expediter.mail.parsing.headers import Address, ticket_number_from_subject
from expediter.mail.parsing.html import html_to_text, sanitize_html
from expediter.mail.parsing.message import (
    DEFAULT_DESK_ADDRESS,
    DEFAULT_MAX_BYTES,
    ParsedMessage,
    parse_message,
)
from expediter.mail.parsing.parts import ParsedAttachment

__all__ = [
    "DEFAULT_DESK_ADDRESS",
    "DEFAULT_MAX_BYTES",
    "Address",
    "ParsedAttachment",
    "ParsedMessage",
    "html_to_text",
    "parse_message",
    "sanitize_html",
    "ticket_number_from_subject",
]
