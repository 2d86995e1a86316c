"""Which addresses the desk must not write to automatically, and why.

Kept apart from the outbox so that every automatic message, whoever enqueues
it (acknowledgements, status mail, invitations, notifications), passes the
same checks: addresses that bounce, the desk's own addresses, and the
per-address rate limit on automatic replies that stops two auto-responders
from answering each other for ever.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import Count

from expediter.core import clock
from expediter.core.rows import (
    Stamp,
    executed,
    insert_all,
    insert_batch,
    quoted_columns,
    stored_value,
)
from expediter.mail.models import AutoReplyRecord, FailingAddress, InboundMessage, OutboundMessage
from expediter.staff.models import Team

RATE_WINDOW = dt.timedelta(hours=1)
# Kinds of automatic mail that answer inbound mail: the ones a loop can feed.
RATE_LIMITED_KINDS = frozenset({"ack"})


# An address with nothing for ``parseaddr`` to take apart: no name, comment,
# quoting or angle brackets. Most addresses asked about are already bare.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\\",;:@]+@[^\s<>()\[\]\\\",;:@]+")


def bare(address: str) -> str:
    """``Name <a@b>`` or ``a@b`` -> ``a@b``, lower-cased."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return address.lower()
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
    bounces = Bounces.first(at=clock.now(), inbound_id=inbound.pk if inbound else None)
    _bounces_add(bare(address), bounces)


@dataclass(frozen=True)
class Bounces:
    """Bounces of one address, counted in memory during a batch intake."""

    first_at: dt.datetime
    last_at: dt.datetime
    count: int
    last_inbound_id: int | None
    recorded: bool = True  # the address may already have a record (else it had none)

    @classmethod
    def first(cls, *, at: dt.datetime, inbound_id: int | None, recorded: bool = True) -> Bounces:
        return cls(first_at=at, last_at=at, count=1, last_inbound_id=inbound_id, recorded=recorded)

    def again(self, *, at: dt.datetime, inbound_id: int) -> Bounces:
        return replace(self, last_at=at, count=self.count + 1, last_inbound_id=inbound_id)


def address_bounces_record(*, bounces: Mapping[str, Bounces]) -> None:
    """Write the bounces a batch counted (call inside its transaction, keys bare).

    The addresses that had no record get theirs in one INSERT; should one
    appear meanwhile (another process), each is added to one by one.
    """
    new = {key: b for key, b in bounces.items() if not b.recorded}
    stamp = Stamp(FailingAddress)
    try:
        with transaction.atomic():
            insert_batch(
                [
                    stamp.make(
                        address=key,
                        first_failed_at=b.first_at,
                        last_failed_at=b.last_at,
                        bounces=b.count,
                        last_inbound_id=b.last_inbound_id,
                    )
                    for key, b in new.items()
                ]
            )
    except IntegrityError:
        new = {}
    for key, b in bounces.items():
        if key not in new:
            _bounces_add(key, b)


def _bounces_add(key: str, bounces: Bounces) -> None:
    """Add to the address's record, or create it.

    The UPDATE is written once, not compiled by the ORM for every address:
    a batch of bounces adds to many records, and the ORM's compiling cost
    ten times what the database then took to run it.
    """
    db = connections[router.db_for_write(FailingAddress)]
    last_failed_at = stored_value(
        FailingAddress._meta.get_field("last_failed_at"), bounces.last_at, db
    )
    params = [bounces.count, last_failed_at, bounces.last_inbound_id, key]
    with executed(_add_bounces_sql(db.vendor), params, using=db.alias) as cursor:
        updated = cursor.rowcount
    if not updated:
        FailingAddress.objects.create(
            address=key,
            first_failed_at=bounces.first_at,
            last_failed_at=bounces.last_at,
            bounces=bounces.count,
            last_inbound_id=bounces.last_inbound_id,
        )


@functools.cache
def _add_bounces_sql(vendor: str) -> str:
    """``UPDATE ... SET bounces = bounces + %s, ... WHERE address = %s`` (quoted for ``vendor``)."""
    column = quoted_columns(FailingAddress)
    bounces = column["bounces"]
    return (
        f"UPDATE {connection.ops.quote_name(FailingAddress._meta.db_table)}"  # noqa: S608
        f" SET {bounces} = {bounces} + %s, {column['last_failed_at']} = %s,"
        f" {column['last_inbound']} = %s WHERE {column['address']} = %s"
    )


def address_clear_failing(*, address: str) -> bool:
    """An address that writes to us works again."""
    deleted, _ = FailingAddress.objects.filter(address=bare(address)).delete()
    return deleted > 0


def recent_auto_replies(address: str) -> int:
    since = clock.now() - RATE_WINDOW
    return AutoReplyRecord.objects.filter(address=bare(address), at__gt=since).count()


def recent_auto_reply_counts(keys: Collection[str]) -> dict[str, int]:
    """``recent_auto_replies`` for many bare addresses in one query (absent: none)."""
    since = clock.now() - RATE_WINDOW
    recent = AutoReplyRecord.objects.filter(address__in=list(keys), at__gt=since)
    counts = recent.order_by().values("address").annotate(sent=Count("id"))
    return dict(counts.values_list("address", "sent"))


class AutoMailChecks:
    """What the rules on automatic mail read: here one query per question.

    Intake asks the same questions for a whole batch of messages and answers
    them from memory (``expediter.mail.services.lookups.IntakeLookups``).
    """

    def failing(self, keys: Sequence[str]) -> set[str]:
        return failing_addresses(keys)

    def recent_auto_replies(self, key: str) -> int:
        return recent_auto_replies(key)

    def auto_replied(self, keys: Sequence[str]) -> None:
        """An automatic reply to each of ``keys`` was recorded (the database counts it)."""


DATABASE_CHECKS = AutoMailChecks()


def auto_mail_block_reason(
    *, kind: str, recipients: Sequence[str], checks: AutoMailChecks = DATABASE_CHECKS
) -> str | None:
    """Why this automatic message must not be sent, or None when it may be."""
    keys = [bare(r) for r in recipients if r.strip()]
    if not keys:
        return "no recipient"
    own = desk_addresses().intersection(keys)
    if own:
        return f"never mailed automatically to the desk's own address {sorted(own)[0]}"
    failing = checks.failing(keys)
    if failing:
        return f"mail to {sorted(failing)[0]} bounced; automatic mail to it is stopped"
    if kind in RATE_LIMITED_KINDS:
        limit = auto_reply_limit()
        for key in keys:
            if checks.recent_auto_replies(key) >= limit:
                return f"rate limit: {limit} automatic replies to {key} within the last hour"
    return None


def auto_reply_record(
    *, message: OutboundMessage, checks: AutoMailChecks = DATABASE_CHECKS
) -> None:
    """Count an automatic reply against each recipient's rate limit."""
    if message.kind not in RATE_LIMITED_KINDS:
        return
    keys = [bare(a) for a in message.to]
    insert_all(
        [AutoReplyRecord(address=key, at=message.created_at, message=message) for key in keys]
    )
    checks.auto_replied(keys)
