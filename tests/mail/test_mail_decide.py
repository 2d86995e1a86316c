"""The intake's rules as a pure function: no database, every combination tried."""

from __future__ import annotations

from email.utils import parseaddr

from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.mail.addresses import bare
from expediter.mail.decide import Facts, decide
from expediter.mail.mentions import Person, mentioned

KINDS = ["normal", "auto_reply", "bounce", "bulk", "loop"]

facts_strategy = st.builds(
    Facts,
    kind=st.sampled_from(KINDS),
    quarantine_reason=st.one_of(st.none(), st.just("too large")),
    duplicate_reason=st.one_of(st.none(), st.just("a copy")),
    own_message=st.booleans(),
    joined_by=st.sampled_from([None, "headers", "token", "bounce"]),
    sender_is_requester=st.booleans(),
    sender_is_watcher=st.booleans(),
    sender_is_agent=st.booleans(),
    released=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(facts_strategy)
def test_nothing_automatic_is_ever_acknowledged(facts: Facts) -> None:
    decision = decide(facts)
    if decision.acknowledge:
        assert facts.kind == "normal" and not facts.own_message
        assert decision.action == "create" and facts.quarantine_reason is None


@settings(max_examples=400, deadline=None)
@given(facts_strategy)
def test_a_stranger_with_a_ticket_number_never_speaks_publicly(facts: Facts) -> None:
    decision = decide(facts)
    stranger = not (facts.sender_is_requester or facts.sender_is_watcher)
    if decision.action == "append" and facts.joined_by != "headers" and stranger:
        assert decision.internal and not decision.sender_becomes_watcher
        assert not decision.cc_become_watchers and not decision.changes_state


@settings(max_examples=400, deadline=None)
@given(facts_strategy)
def test_unthreaded_machine_mail_is_never_a_ticket(facts: Facts) -> None:
    decision = decide(facts)
    if facts.joined_by is None and facts.kind != "normal" and not facts.released:
        assert decision.action in ("ignore", "quarantine")


@settings(max_examples=200, deadline=None)
@given(facts_strategy)
def test_quarantine_wins_over_everything(facts: Facts) -> None:
    if facts.quarantine_reason:
        assert decide(facts).action == "quarantine"


def test_the_contract_cases() -> None:
    assert decide(Facts(kind="normal")).action == "create"
    assert decide(Facts(kind="normal")).acknowledge
    by_headers = decide(Facts(kind="normal", joined_by="headers"))
    assert by_headers.sender_becomes_watcher and by_headers.cc_become_watchers
    assert not by_headers.internal
    requester = decide(Facts(kind="normal", joined_by="token", sender_is_requester=True))
    assert not requester.internal and requester.changes_state
    stranger = decide(Facts(kind="normal", joined_by="token"))
    assert stranger.internal and stranger.article_kind == "unknown_sender"
    ooo = decide(Facts(kind="auto_reply", joined_by="headers", sender_is_requester=True))
    assert ooo.article_kind == "auto_reply" and not ooo.changes_state
    bounce = decide(Facts(kind="bounce", joined_by="bounce"))
    assert bounce.article_kind == "bounce" and bounce.internal and bounce.mark_bounced
    assert decide(Facts(kind="bounce")).action == "ignore"
    assert decide(Facts(kind="bounce")).mark_bounced
    assert decide(Facts(kind="loop", joined_by="headers")).action == "ignore"
    assert decide(Facts(kind="normal", own_message=True)).action == "ignore"
    assert decide(Facts(kind="bulk", released=True)).action == "create"
    assert not decide(Facts(kind="bulk", released=True)).acknowledge


PEOPLE = [
    Person(1, "Ann Lee", "ann@desk.example"),
    Person(2, "Bob", "bob@desk.example"),
    Person(3, "Bo", "bo@desk.example"),
]


def test_mentions_by_full_name_or_address() -> None:
    assert mentioned("ping @Ann Lee, thanks", PEOPLE) == [1]
    assert mentioned("ping @bob@desk.example.", PEOPLE) == [2]
    assert mentioned("@Bob and @bo", PEOPLE) == [2, 3]
    assert mentioned("@Bobby is not Bob", PEOPLE) == []
    assert mentioned("mail ann@desk.example directly", PEOPLE) == []
    assert mentioned("no mention here", PEOPLE) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_mentions_never_fail_and_only_name_known_people(text: str) -> None:
    assert set(mentioned(text, PEOPLE)) <= {1, 2, 3}


ADDRESS_CHARACTERS = list('abZ.@<>"() ,;:\\[]-_+É\t')


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(ADDRESS_CHARACTERS), max_size=16))
def test_an_address_is_made_bare_as_the_standard_parser_reads_it(text: str) -> None:
    assert bare(text) == (parseaddr(text)[1] or text).strip().lower()


def test_bare_takes_the_address_out_of_a_name_and_brackets() -> None:
    assert bare('"Dupont, Anne" <Anne.Dupont@Example.ORG>') == "anne.dupont@example.org"
    assert bare("Anne.Dupont@Example.ORG") == "anne.dupont@example.org"
