"""Delivery failure reports: recognising them and reading what failed.

Standard reports (RFC 3464) carry a ``message/delivery-status`` part with one
block of fields per recipient. Many mail systems still send free-form text
from MAILER-DAEMON or postmaster instead, so those are recognised by their
sender, subject and wording, and their failed addresses are read from the
explanation that precedes the returned copy of the message.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from expediter.mail.classify.fields import Fields

if TYPE_CHECKING:
    from expediter.mail.parsing import Address, ParsedMessage

DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
RETURNED_MESSAGE_TYPES = frozenset(
    {"message/rfc822", "message/global", "text/rfc822-headers", "text/global-headers"}
)
FEEDBACK_TYPE = "message/feedback-report"
_SUCCESS_ACTIONS = ("delivered", "deliverable", "relayed", "expanded")
_RECIPIENT_FIELDS = ("original-recipient", "final-recipient", "x-actual-recipient")
HEADER_SCAN_BYTES = 64 * 1024
_TEXT_SCAN_CHARS = 8_000
_MAX_RECIPIENTS = 50

_DAEMON_LOCAL_PART = re.compile(
    r"""^(?:mailer[-_.]?daemon|post[-_.]?master|mail[-_.]?daemon|maildaemon|mdaemon
        |mail[-_.]?delivery(?:[-_.]?(?:system|subsystem|service))?
        |mail[-_.]?administrator|mailadmin|smtp[-_.]?gateway|bounce[-_.]?notifications?
        |mailerdaemon|ndr|returns?|nobody)$""",
    re.IGNORECASE | re.VERBOSE,
)
_DAEMON_NAME = re.compile(
    r"mail\s*delivery\s*(?:system|subsystem|service)|mailer[-_ ]?daemon|postmaster"
    r"|mail\s*administrator|mail\s*system|delivery\s*status|returned\s*mail",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"""undeliver|not\s+delivered|delivery\s+(?:status\s+)?notification|delivery\s+fail
      |delivery\s+problem|delivery\s+report|failure\s+notice|failed\s+(?:mail|delivery)
      |mail\s+delivery|returned\s+mail|return(?:ed)?\s+to\s+sender|non[-\s]?deliver
      |could\s+not\s+(?:be\s+)?(?:deliver|sen[dt])|couldn't\s+be\s+delivered
      |mail\s+system\s+error|delivery\s+(?:has\s+)?failed|delayed\s+mail|message\s+delay
      |delivery\s+delay|has\s+been\s+delayed|unable\s+to\s+deliver|nondeliverable
      |mail\s+fail|return(?:ed|ing)?\s+to\s+sender|errors\s+from
      |mail\s+could\s+not|rejected|bounce|\bNDN\b|\bDSN\b|error\s+sending|mail\s+error
      |zustell|übermittlungsstatus|non\s+remis|non\s+distribu|non\s+recapit|no\s+entregado
      |onbestelbaar|配信|不達|送信エラー|退信|未送達|エラー
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Searched in lower-cased text: Python's re is three times slower on this many
# alternatives with IGNORECASE (every alternative is written in lower case).
_BOUNCE_TEXT = re.compile(
    r"""could\s+not\s+be\s+(?:delivered|sent)|couldn't\s+be\s+delivered|wasn't\s+delivered
      |was\s+not\s+delivered|(?:has\s+)?not\s+been\s+delivered|could\s+not\s+deliver
      |unable\s+to\s+deliver|delivery\s+to\s+the\s+following\s+recipient
      |delivery\s+(?:has\s+)?failed|permanent(?:ly)?\s+(?:fatal\s+)?error|fatal\s+error
      |user\s+unknown|unknown\s+(?:user|recipient|address)|no\s+such\s+(?:user|mailbox|recipient)
      |mailbox\s+(?:is\s+)?(?:unavailable|full|not\s+found|does\s+not\s+exist|disabled)
      |(?:address|recipient)\s+rejected|this\s+is\s+the\s+mail\s+system
      |qmail-send\s+program|sorry\s+to\s+have\s+to\s+inform\s+you
      |wasn't\s+able\s+to\s+deliver|message\s+(?:was\s+|has\s+been\s+)?(?:returned|rejected|bounced)
      |undeliverable|undelivered|did\s+not\s+reach|return(?:ed)?\s+to\s+(?:the\s+)?sender
      |mail\s+delivery\s+(?:failed|software|system)|delivery\s+status\s+notification
      |\b5\d\d[\s-]+\#?5\.\d{1,3}\.\d{1,3}|\b[45]\.\d{1,3}\.\d{1,3}\b|smtp\s+error
      |said:\s*[45]\d\d|diagnostic-code|final-recipient|retry\s+time(?:out)?\s+exceeded
      |has\s+been\s+delayed|giving\s+up|given\s+up|not\s+yet\s+been\s+delivered
      |quota\s+exceeded|over\s+quota|host\s+not\s+found|relay(?:ing)?\s+denied
      |unknown\s+host|no\s+valid\s+recipients|failed\s+addresses|transcript\s+of\s+session
      |copy\s+of\s+(?:your|the)\s+message|(?:email|message)\s+you\s+sent\s+was\s+rejected
    """,
    re.VERBOSE,
)
_REPLY_PREFIX = re.compile(r"^\s*(?:re|fw|fwd|aw|wg|tr|sv|vs)\s*:", re.IGNORECASE)
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
_RECIPIENT_FIELD = re.compile(
    r"^\s*(?:Original|Final)-Recipient:\s*(?:[\w.-]+\s*;)?\s*<?([^\s<>;]+@[^\s<>;]+)",
    re.IGNORECASE | re.MULTILINE,
)
_RETURNED_COPY = re.compile(
    r"""^(?:Received|Return-Path|Message-I[Dd]|DKIM-Signature|X-[\w-]+):
      |^[ \t>|-]*(?:below\s+this\s+line\s+is\s+a\s+copy\s+of.*|this\s+is\s+a\s+copy\s+of.*
      |original\s+(?:message|mail)(?:\s+(?:follows|as\s+follows))?|unsent\s+message\s+(?:below|follows)
      |returned\s+message|message\s+text\s+follows|(?:the\s+)?headers?\s+of\s+the\s+original.*
      |included\s+is\s+a\s+copy.*|message\s+headers\s+follow)[ \t.:|-]*$""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# Amazon SES delivers bounce and complaint notifications as JSON via SNS.
# The JSON may itself be quoted inside the SNS envelope, hence the optional backslashes.
_SES_NOTIFICATION = re.compile(r'\\?"notificationType\\?"\s*:\s*\\?"(?:Bounce|Complaint|Delivery)')
_SES_RECIPIENT = re.compile(r'\\?"emailAddress\\?"\s*:\s*\\?"([^"\\\s]+@[^"\\\s]+)')
# Microsoft's Junk Mail Reporting Program forwards complaints with this subject.
_JMRP_SUBJECT = re.compile(r"^complaint about message from \d{1,3}(?:\.\d{1,3}){3}$", re.I)
_NOT_A_RECIPIENT_LINE = re.compile(
    r"^\s*(?:from|sender|reply-to|return-path|message-id|in-reply-to|references)\s*:", re.I
)
_ADDRESS_TEXT = _ADDRESS.pattern
_FAILED_ADDRESS = re.compile(
    rf"""^[ \t]*(?:\d{{3}}[ \t-]+)?<?({_ADDRESS_TEXT})>?[ \t]*(?::|\.\.\.|\[|\(|on\s|$)
      |\bAddress:\s*<({_ADDRESS_TEXT})>
      |RCPT\s+TO:\s*<({_ADDRESS_TEXT})>
      |deliver(?:ing|y)\s+(?:of\s+)?(?:your\s+)?(?:mail|message|e-?mail)\s+to\s+<?({_ADDRESS_TEXT})""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
_HEADER_LINE = re.compile(r"^[ \t]*[\w-]+:", re.MULTILINE)
_RETURNED_TO = re.compile(r"^[ \t]*(?:To|Cc):(.*(?:\n[ \t]+\S.*)*)", re.IGNORECASE | re.MULTILINE)
_FEEDBACK_RECIPIENT = re.compile(
    r"^(?:Original-Rcpt-To|Removal-Recipient):\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_TEXT_MESSAGE_ID = re.compile(r"^\s*Message-I[Dd]:\s*<?([^<>\s]+@[^<>\s]+?)>?\s*$", re.M)


def has_null_return_path(fields: Fields) -> bool:
    """A null reverse-path is reserved for notifications (RFC 5321 4.5.5)."""
    return "return-path" in fields and fields.first("return-path").strip() in ("<>", "", "< >")


def is_daemon(sender: Address | None) -> bool:
    if sender is None:
        return False
    local_part = sender.address.split("@", 1)[0].strip("\"'")
    return bool(_DAEMON_LOCAL_PART.match(local_part) or _DAEMON_NAME.search(sender.name))


def non_standard_evidence(message: ParsedMessage, fields: Fields) -> list[str]:
    """Why a report without a delivery-status part is still a bounce, if it is.

    A mail system as sender, or an automatic message, must also speak of a
    delivery failure; anything else needs both a first-hand failure subject
    and failure wording, so that a person forwarding a bounce ("Fwd:
    Undeliverable: ...") to the desk is still a person.
    """
    special = _special_report(message)
    if special:
        return [special]
    subject_hit = _BOUNCE_SUBJECT.search(message.subject)
    daemon = is_daemon(message.sender)
    automatic = has_null_return_path(fields) or _auto_submitted(fields)
    first_hand = not _REPLY_PREFIX.match(message.subject)
    if not (daemon or automatic or (first_hand and subject_hit)):
        return []
    text_hit = _BOUNCE_TEXT.search(message.text[:_TEXT_SCAN_CHARS].lower())
    returns_message = any(a.content_type in RETURNED_MESSAGE_TYPES for a in message.attachments)
    found = []
    if daemon and (subject_hit or text_hit or returns_message):
        found.append(f"sent by a mail system ({message.sender.address if message.sender else ''})")
    elif automatic and (subject_hit or text_hit):
        found.append("automatic message reporting a delivery failure")
    elif first_hand and subject_hit and text_hit:
        found.append("subject and text report a delivery failure")
    else:
        return []
    if subject_hit:
        found.append(f"delivery-failure subject ({message.subject[:60]})")
    return found


def _is_ses_notification(text: str) -> bool:
    """Whether ``text`` is the JSON of an Amazon SES notification.

    The pattern begins with an optional backslash, which keeps ``re`` from
    skipping ahead to its literal part: a substring test does that first,
    for every message, at a twentieth of the cost.
    """
    return "notificationType" in text and _SES_NOTIFICATION.search(text) is not None


def _special_report(message: ParsedMessage) -> str | None:
    """Reports of large senders that carry no delivery-status part."""
    if _is_ses_notification(message.text[:_TEXT_SCAN_CHARS]):
        return "Amazon SES delivery notification"
    if _JMRP_SUBJECT.match(message.subject) and any(
        a.content_type in RETURNED_MESSAGE_TYPES for a in message.attachments
    ):
        return "Microsoft JMRP complaint report"
    return None


def _auto_submitted(fields: Fields) -> bool:
    value = fields.first("auto-submitted").strip().lower()
    return bool(value) and not value.startswith("no")


def failed_recipients(message: ParsedMessage, *, exclude: tuple[str, ...]) -> tuple[str, ...]:
    """Lower-cased addresses that a report says were not delivered, in report order.

    The most reliable source wins: delivery-status fields, then feedback-report
    fields, then addresses the explanation names as failed, then the recipients
    of the returned message, and only then any other address in the explanation.
    """
    reports = [a.content for a in message.attachments if a.content_type in DSN_TYPES]
    if reports:
        failed = [r for report in reports for r in _dsn_failed_recipients(report)]
        if failed or any(_dsn_has_recipients(report) for report in reports):
            return _distinct(failed)
    feedback = [a.content for a in message.attachments if a.content_type == FEEDBACK_TYPE]
    text = message.text[:_TEXT_SCAN_CHARS]
    if _is_ses_notification(text):
        return _distinct([a.lower() for a in _SES_RECIPIENT.findall(text)])
    strategies = (
        lambda: _feedback_recipients(feedback),
        lambda: _distinct([a.lower() for a in _RECIPIENT_FIELD.findall(text)]),
        lambda: _named_as_failed(_explanation(text), exclude=exclude),
        lambda: _returned_message_recipients(message, exclude=_excluded(message, exclude)),
        lambda: _any_address(_explanation(text), exclude=_excluded(message, exclude)),
    )
    for strategy in strategies:
        found = strategy()
        if found:
            return found
    return ()


def _dsn_blocks(report: bytes) -> list[dict[str, str]]:
    """Field blocks of a delivery-status part; a repeated recipient field
    starts a new block, as some servers omit the blank line between them."""
    text = report.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        name = ""
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name in _RECIPIENT_FIELDS and name in fields:
                    blocks.append(fields)
                    fields = {}
                fields[name] = value.strip()
        blocks.append(fields)
    return blocks


def _dsn_has_recipients(report: bytes) -> bool:
    return any(_dsn_address(block) for block in _dsn_blocks(report))


def _dsn_failed_recipients(report: bytes) -> list[str]:
    """Recipients whose Action is ``failed``, ``delayed`` (or a non-standard
    ``expired``, or absent); ``delivered``, ``relayed`` and ``expanded`` are
    successes."""
    found = []
    for block in _dsn_blocks(report):
        address = _dsn_address(block)
        action = block.get("action", "failed").strip().lower()
        if address and not action.startswith(_SUCCESS_ACTIONS):
            found.append(address)
    return found


def _dsn_address(block: dict[str, str]) -> str | None:
    for field in _RECIPIENT_FIELDS:
        value = block.get(field, "")
        match = _ADDRESS.search(value.split(";", 1)[-1])
        if match:
            return match.group(0).lower()
    return None


def _feedback_recipients(reports: list[bytes]) -> tuple[str, ...]:
    """``Original-Rcpt-To`` and ``Removal-Recipient`` of ARF reports (RFC 5965)."""
    found: list[str] = []
    for report in reports:
        text = report.decode("utf-8", errors="replace")
        found.extend(a.lower() for a in _FEEDBACK_RECIPIENT.findall(text))
    return _distinct(found)


def _explanation(text: str) -> str:
    """The part of a bounce before the returned copy of the message."""
    match = _RETURNED_COPY.search(text)
    return text[: match.start()] if match else text


def _named_as_failed(explanation: str, *, exclude: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses the explanation lists as failed: alone at the start of a line
    (``<a@b>: host said...``, ``a@b [User unknown]``), after ``RCPT TO:``, or
    after "delivering your mail to"."""
    excluded = {e.strip().lower() for e in exclude}
    found = [
        next(group for group in match.groups() if group).lower().strip(".")
        for match in _FAILED_ADDRESS.finditer(explanation)
    ]
    return _distinct([a for a in found if a not in excluded])


def _any_address(explanation: str, *, exclude: set[str]) -> tuple[str, ...]:
    found = []
    for line in explanation.split("\n"):
        if _NOT_A_RECIPIENT_LINE.match(line):
            continue
        for address in _ADDRESS.findall(line):
            lowered = address.lower().strip(".")
            if lowered not in exclude and not _is_daemon_address(lowered):
                found.append(lowered)
    return _distinct(found)


def _returned_message_recipients(message: ParsedMessage, *, exclude: set[str]) -> tuple[str, ...]:
    """The recipients the returned message was addressed to: from an attached
    copy, else from the copy quoted after the explanation."""
    heads = [
        attachment.content[:HEADER_SCAN_BYTES].decode("utf-8", errors="replace")
        for attachment in message.attachments
        if attachment.content_type in RETURNED_MESSAGE_TYPES
    ]
    text = message.text[:_TEXT_SCAN_CHARS]
    copy = _RETURNED_COPY.search(text)
    if copy:
        heads.append(text[copy.start() :])
    for head in heads:
        lines = _RETURNED_TO.findall(_first_header_block(head))
        found = [a.lower() for line in lines for a in _ADDRESS.findall(line)]
        found = [a for a in found if a not in exclude]
        if found:
            return _distinct(found)
    return ()


def _first_header_block(text: str) -> str:
    """The header lines at the start of a returned copy, skipping its marker."""
    start = _HEADER_LINE.search(text)
    if start is None:
        return ""
    return re.split(r"\r?\n[ \t]*\r?\n", text[start.start() :], maxsplit=1)[0]


def _excluded(message: ParsedMessage, exclude: tuple[str, ...]) -> set[str]:
    excluded = {e.strip().lower() for e in exclude}
    excluded.update(a.key for a in message.to)
    if message.sender is not None:
        excluded.add(message.sender.key)
    return excluded


def _is_daemon_address(address: str) -> bool:
    return bool(_DAEMON_LOCAL_PART.match(address.split("@", 1)[0]))


def _distinct(addresses: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(addresses))[:_MAX_RECIPIENTS]


def message_id_in_text(text: str) -> str | None:
    """The first Message-ID header quoted in the text of a bounce."""
    match = _TEXT_MESSAGE_ID.search(text[: _TEXT_SCAN_CHARS * 5])
    return match.group(1) if match else None
