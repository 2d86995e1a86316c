"""split_reply and friends: against the corpus fixtures and on their own."""

from __future__ import annotations

import email
import json
import re
from email import policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.mail.parsing import html_to_text
from expediter.mail.quoting import split_quotation, split_reply, split_signature

FIXTURES = (
    Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail" / "reply_stripping"
)
needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"the reply-stripping fixtures are not at {FIXTURES}"
)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _json_cases(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["cases"]) if path.is_file() else []


# talon's HTML-to-HTML cases test an HTML rewriter we do not have (we collapse
# text); its patched cases ran with a setting we do not reproduce.
TALON_PLAIN = [
    case
    for case in _json_lines(FIXTURES / "talon" / "inline_cases.jsonl")
    if case["function"] == "extract_from_plain" and not case["patched"]
]
TALON_FILES = _json_cases(FIXTURES / "talon" / "expectations.json")
REPLY_PARSER = _json_cases(FIXTURES / "email-reply-parser" / "expectations.json")


def _ids(cases: list[dict[str, Any]], key: str) -> list[str]:
    return [f"{case.get(key)}-{index}" for index, case in enumerate(cases)]


@needs_fixtures
@pytest.mark.parametrize("case", TALON_PLAIN, ids=_ids(TALON_PLAIN, "test"))
def test_talon_plain_text_quotations(case: dict[str, Any]) -> None:
    visible, _ = split_quotation(case["input"])

    assert visible.strip() == (case["expected"] or "").strip()


def _first_plain_part(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return str(part.get_content())  # type: ignore[attr-defined]


@needs_fixtures
@pytest.mark.parametrize(
    "case",
    [c for c in TALON_FILES if c["function"] == "extract_from_plain"],
    ids=lambda case: case["input"].rsplit("/", 1)[-1],
)
def test_talon_standard_replies(case: dict[str, Any]) -> None:
    visible, _ = split_quotation(_first_plain_part(FIXTURES / "talon" / case["input"]))

    assert visible.strip() == case["expected"].strip()


@needs_fixtures
@pytest.mark.parametrize(
    "case",
    [c for c in TALON_FILES if c["function"].startswith("extract_from_html then")],
    ids=lambda case: case["input"].rsplit("/", 1)[-1],
)
def test_talon_html_replies_rendered_as_text(case: dict[str, Any]) -> None:
    text = html_to_text((FIXTURES / "talon" / case["input"]).read_text(encoding="utf-8"))

    visible, _ = split_quotation(text)

    assert re.sub(r"\s", "", visible) == re.sub(r"\s", "", case["expected"])


@needs_fixtures
def test_talon_reply_sharing_a_block_with_its_quotation() -> None:
    raw = (FIXTURES / "talon/tests/fixtures/reply-quotations-share-block.eml").read_text()

    visible, _ = split_quotation(raw)

    assert visible.strip()
    assert "From" not in visible


@needs_fixtures
@pytest.mark.parametrize(
    "case",
    [c for c in TALON_FILES if c["function"].startswith("talon.signature")],
    ids=lambda case: case["input"].rsplit("/", 1)[-1],
)
def test_talon_signatures(case: dict[str, Any]) -> None:
    body = (FIXTURES / "talon" / case["input"]).read_text(encoding="utf-8")
    sender = (FIXTURES / "talon" / case["sender_file"]).read_text(encoding="utf-8").strip()
    signature_file = FIXTURES / "talon" / case["expected_signature_file"]
    expected = signature_file.read_text(encoding="utf-8").strip() if signature_file.exists() else ""

    text, signature = split_signature(body, sender_name=sender)

    assert signature == expected
    assert text == body.strip()[: len(body.strip()) - len(expected)].strip()


@needs_fixtures
@pytest.mark.parametrize("case", REPLY_PARSER, ids=_ids(REPLY_PARSER, "input"))
def test_email_reply_parser_visible_reply(case: dict[str, Any]) -> None:
    text = (FIXTURES / "email-reply-parser" / case["input"]).read_text(encoding="utf-8")

    new_text, _ = split_reply(text)

    if "parse_reply_equals" in case:
        assert new_text == case["parse_reply_equals"]
    if "reply_strip_equals" in case:
        assert new_text.strip() == case["reply_strip_equals"]
    for fragment in case.get("reply_contains", []):
        assert fragment in new_text
    for fragment in case.get("parse_reply_not_contains", []):
        assert fragment not in new_text
    assert new_text or not text.strip()


@needs_fixtures
def test_interleaved_replies_keep_every_answer_and_collapse_the_final_quote() -> None:
    text = (FIXTURES / "email-reply-parser/test/emails/email_1_8.txt").read_text()

    new_text, tail = split_reply(text)

    assert "I will reply under this one" in new_text
    assert "and under this." in new_text
    assert "Hey there, this is my signature" in tail
    assert "After you reply to this" in tail


# --- on their own ---------------------------------------------------------------


def test_top_posted_reply_with_attribution_and_signature() -> None:
    text = (
        "Thanks, it works now.\n\n-- \nAnn Example\nIT, 3rd floor\n\n"
        "On Tue, 3 Mar 2026 at 10:15, Helpdesk <helpdesk@example.com> wrote:\n"
        "> Please restart the printer.\n> \n> Regards\n"
    )

    new_text, tail = split_reply(text)

    assert new_text == "Thanks, it works now."
    assert tail.startswith("-- \nAnn Example")
    assert "> Please restart the printer." in tail


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Ursprüngliche Nachricht -----",
        "Le mar. 3 mars 2026 à 10:15, Support <support@example.com> a écrit :",
        "Am 03.03.2026 um 10:15 schrieb Support <support@example.com>:",
        "From: Support [mailto:support@example.com]\nSent: Tuesday, March 3, 2026 10:15\n"
        "To: Ann\nSubject: RE: printer",
        "De : Support\nEnvoyé : mardi 3 mars 2026 10:15\nÀ : Ann\nObjet : imprimante",
    ],
)
def test_quotation_separators(separator: str) -> None:
    text = f"New words.\n\n{separator}\n\nOld words.\n"

    new_text, tail = split_reply(text)

    assert new_text == "New words."
    assert tail.endswith("Old words.")


@pytest.mark.parametrize(
    "signature", ["Sent from my iPhone", "Envoyé de mon iPhone", "Von meinem iPad gesendet"]
)
def test_mobile_signatures(signature: str) -> None:
    assert split_reply(f"Yes, please.\n\n{signature}\n") == ("Yes, please.", signature)


def test_a_forwarded_message_is_content_not_a_quotation() -> None:
    text = "FYI\n\n---------- Forwarded message ---------\nFrom: x@example.org\nDate: today\n\nBody"

    assert split_reply(text) == (text, "")


def test_nothing_to_collapse_leaves_the_text_alone() -> None:
    text = "On Monday I sent:\n- a list\n- of things\n\nand this -- is not a signature"

    assert split_reply(text) == (text, "")


def test_a_message_that_is_only_a_quotation_collapses_whole() -> None:
    text = "> just a quote\n> of two lines"

    assert split_reply(text) == ("", text)


# --- invariants -------------------------------------------------------------------

_LINES = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40),
        st.sampled_from(
            [
                "> quoted",
                ">",
                "-- ",
                "--",
                "Sent from my iPhone",
                "On Tue, 3 Mar 2026, Bob <b@x.org> wrote:",
                "From: Bob",
                "Sent: today",
                "-----Original Message-----",
                "",
            ]
        ),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(_LINES)
def test_collapsing_only_moves_lines_between_the_two_parts(lines: list[str]) -> None:
    text = "\n".join(lines)

    new_text, tail = split_reply(text)

    original = [line.strip() for line in _lines(text) if line.strip()]
    kept = [line.strip() for line in _lines(new_text + "\n" + tail) if line.strip()]
    assert sorted(kept) == sorted(original) or _shared_line_split(original, kept)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _shared_line_split(original: list[str], kept: list[str]) -> bool:
    """A reply sharing its line with an attribution is split in two pieces."""
    return "".join(sorted("".join(original).split())) == "".join(sorted("".join(kept).split()))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_split_reply_never_fails_and_never_invents_text(text: str) -> None:
    new_text, tail = split_reply(text)

    for line in _lines(new_text) + _lines(tail):
        assert line.strip() in text.replace("\r", "\n") or not line.strip()
