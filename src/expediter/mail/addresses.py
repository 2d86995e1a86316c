"""Which addresses the desk must not write to automatically, and why.

Kept apart from the outbox so that every automatic message, whoever enqueues
it (acknowledgements, status mail, invitations, notifications), passes the
same checks: addresses that bounce, the desk's own addresses, and the
per-address rate limit on automatic replies that stops two auto-responders
from answering each other for ever.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from email.utils import parseaddr

from django.conf import settings
from django.db.models import F

from expediter.core import clock
from expediter.mail.models import AutoReplyRecord, FailingAddress, InboundMessage, OutboundMessage
from expediter.staff.models import Team

RATE_WINDOW = dt.timedelta(hours=1)
# Kinds of automatic mail that answer inbound mail: the ones a loop can feed.
RATE_LIMITED_KINDS = frozenset({"ack"})


def bare(address: str) -> str:
    """``Name <a@b>`` or ``a@b`` -> ``a@b``, lower-cased."""
    return (parseaddr(address)[1] or address).strip().lower()


def auto_reply_limit() -> int:
    return int(getattr(settings, "MAIL_AUTO_REPLY_LIMIT", 5))


_DESK_CACHE_SECONDS = 30.0
_desk_cache: dict[str, tuple[float, frozenset[str]]] = {}


def desk_addresses() -> frozenset[str]:
    """The desk's own addresses: mail from them is ours, mail to them is never sent.

    Asked several times for every message; a team's new address is known
    within half a minute.
    """
    key = settings.MAIL_FROM
    cached = _desk_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < _DESK_CACHE_SECONDS:
        return cached[1]
    teams = Team.objects.exclude(email="").values_list("email", flat=True)
    found = frozenset({bare(settings.MAIL_FROM), *(bare(t) for t in teams)})
    _desk_cache.clear()
    _desk_cache[key] = (now, found)
    return found


def failing_addresses(addresses: Iterable[str]) -> set[str]:
    keys = {bare(a) for a in addresses}
    return set(FailingAddress.objects.filter(address__in=keys).values_list("address", flat=True))


def address_mark_failing(*, address: str, inbound: InboundMessage | None) -> None:
    """Record a bounce for ``address`` (call inside the intake's transaction)."""
    key = bare(address)
    now = clock.now()
    updated = FailingAddress.objects.filter(address=key).update(
        bounces=F("bounces") + 1, last_failed_at=now, last_inbound=inbound
    )
    if not updated:
        FailingAddress.objects.create(
            address=key, first_failed_at=now, last_failed_at=now, last_inbound=inbound
        )


def address_clear_failing(*, address: str) -> bool:
    """An address that writes to us works again."""
    deleted, _ = FailingAddress.objects.filter(address=bare(address)).delete()
    return deleted > 0


def recent_auto_replies(address: str) -> int:
    since = clock.now() - RATE_WINDOW
    return AutoReplyRecord.objects.filter(address=bare(address), at__gt=since).count()


def auto_mail_block_reason(*, kind: str, recipients: Sequence[str]) -> str | None:
    """Why this automatic message must not be sent, or None when it may be."""
    keys = [bare(r) for r in recipients if r.strip()]
    if not keys:
        return "no recipient"
    own = desk_addresses().intersection(keys)
    if own:
        return f"never mailed automatically to the desk's own address {sorted(own)[0]}"
    failing = failing_addresses(keys)
    if failing:
        return f"mail to {sorted(failing)[0]} bounced; automatic mail to it is stopped"
    if kind in RATE_LIMITED_KINDS:
        limit = auto_reply_limit()
        for key in keys:
            if recent_auto_replies(key) >= limit:
                return f"rate limit: {limit} automatic replies to {key} within the last hour"
    return None


def auto_reply_record(*, message: OutboundMessage) -> None:
    """Count an automatic reply against each recipient's rate limit."""
    if message.kind not in RATE_LIMITED_KINDS:
        return
    AutoReplyRecord.objects.bulk_create(
        AutoReplyRecord(address=bare(a), at=message.created_at, message=message) for a in message.to
    )
