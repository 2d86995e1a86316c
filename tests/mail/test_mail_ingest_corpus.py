"""The whole shared mail corpus through the intake service into the database.

One pass feeds every file to :func:`mail_receive` and checks what became of
each against what the parser says it is: nothing raises, everything is
stored, bounces and other automatic mail never become tickets nor get
answered, people's mail does. Another imports the corpus in batches with
:func:`mail_import` and checks it ends exactly where one message at a time does.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction

from expediter.mail.models import FailingAddress, InboundMessage, OutboundMessage
from expediter.mail.parsing import parse_message
from expediter.mail.services import IngestResult, mail_import, mail_receive

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"
if not CORPUS.is_dir():
    pytest.skip(f"the shared mail corpus is not at {CORPUS}", allow_module_level=True)

pytestmark = pytest.mark.django_db

_NOT_MAIL = frozenset({".json", ".jsonl", ".tsv", ".md", ".yml", ".ics"})
AUTOMATIC = {"auto_reply", "bulk", "bounce", "loop"}


def corpus_files() -> list[Path]:
    return [
        path
        for path in sorted(CORPUS.rglob("*"))
        if path.is_file()
        and path.suffix not in _NOT_MAIL
        and not path.name.startswith(("LICENSE", "COPYING", "NOTICE", "README"))
        and ("reply_stripping" not in path.parts or path.suffix == ".eml")
    ]


@dataclass(frozen=True)
class Seen:
    path: Path
    kind: str  # what the parser says: normal, auto_reply, ..., quarantined
    result: IngestResult


def allowed(seen: Seen) -> bool:
    """What a message of this kind may become."""
    status, reason = seen.result.status, seen.result.reason or ""
    if seen.kind == "quarantined":
        return status == "quarantined"
    if seen.result.duplicate or "same Message-ID" in reason:
        return status == "ignored"
    if seen.kind in AUTOMATIC:
        return status == "ignored" or (status == "appended" and seen.result.ticket is not None)
    if status == "quarantined":
        return "sender address" in reason  # e.g. a quoted local part with spaces
    return status in ("created", "appended")


def test_every_corpus_message_is_stored_and_handled_by_its_kind(settings) -> None:
    settings.MAIL_AUTO_REPLY_LIMIT = 10_000  # the corpus reuses a few addresses many times
    seen = []
    for path in corpus_files():
        raw = path.read_bytes()
        kind = parse_message(raw, max_bytes=settings.MAIL_MAX_BYTES).outcome
        seen.append(Seen(path, kind, mail_receive(raw=raw, source="import")))

    wrong = [(s.path.relative_to(CORPUS), s.kind, s.result) for s in seen if not allowed(s)]
    assert wrong == []
    distinct = {path.read_bytes() for path in corpus_files()}
    assert InboundMessage.objects.count() == len(distinct)
    assert not InboundMessage.objects.filter(status="pending").exists()

    by_source: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for item in seen:
        by_source[item.path.relative_to(CORPUS).parts[0]][item.result.status] += 1
    sisimai = by_source["sisimai"]
    assert sisimai["created"] + sisimai["appended"] <= 0.01 * sum(sisimai.values())
    assert by_source["zammad"]["created"] >= 60
    assert by_source["django-helpdesk"]["created"] == 6

    # nothing automatic was ever answered: every acknowledgement answers a created ticket
    answered = set(OutboundMessage.objects.filter(kind="ack").values_list("ticket_id", flat=True))
    automatic_tickets = {
        s.result.ticket for s in seen if s.kind in AUTOMATIC and s.result.status == "created"
    }
    assert automatic_tickets == set()
    created = {s.result.ticket for s in seen if s.result.status == "created"}
    assert answered <= created


class _RolledBack(Exception):
    pass


def _described(result: IngestResult) -> tuple[str, bool, bool, str]:
    """What a result says, without the ids that differ from one run to the next."""
    reason = re.sub(r"\d+", "N", result.reason or "")
    return result.status, result.duplicate, result.ticket is None, reason


def _state() -> tuple[collections.Counter[tuple[str, str]], set[tuple[str, int]]]:
    mail = collections.Counter(OutboundMessage.objects.values_list("kind", "status"))
    failing = set(FailingAddress.objects.values_list("address", "bounces"))
    return mail, failing


def test_importing_the_corpus_in_batches_does_what_one_by_one_does(settings) -> None:
    settings.MAIL_AUTO_REPLY_LIMIT = 3  # low enough for the limit to bite within a batch
    raws = [path.read_bytes() for path in corpus_files()]
    try:
        with transaction.atomic():
            alone = [_described(mail_receive(raw=raw, source="import")) for raw in raws]
            state_alone = _state()
            raise _RolledBack
    except _RolledBack:
        pass
    assert not InboundMessage.objects.exists()
    batched = [_described(r) for r in mail_import(messages=[("corpus", raw) for raw in raws])]
    assert batched == alone
    assert _state() == state_alone
