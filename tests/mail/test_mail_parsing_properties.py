"""Properties of parse_message: it never fails, and what the standard library
writes into a message comes back out of it."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from expediter.mail.parsing import parse_message, ticket_number_from_subject
from expediter.mail.parsing.charsets import decode_bytes
from expediter.mail.parsing.headers import _plain_pairs, normalize_whitespace

_SEED_MESSAGE = (
    b"From: Ann <ann@example.org>\r\nTo: helpdesk@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n"
    b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
    b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nCaf\xe9\r\n--B\r\n"
    b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n--B\r\n"
    b'Content-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    b"JVBERi0=\r\n--B--\r\n"
)
_WORDS = st.characters(categories=("L", "N", "P", "Zs"), exclude_characters="\x85\xa0")
_NAMES = st.text(_WORDS, min_size=1, max_size=30).filter(lambda s: s.strip("\"' ") == s)
_FILENAMES = st.text(
    st.characters(categories=("L", "N", "Zs"), include_characters="-_()"), min_size=1, max_size=30
).filter(lambda s: s.strip() == s)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_result(raw: bytes) -> None:
    parsed = parse_message(raw)

    assert parsed.outcome in {"normal", "auto_reply", "bounce", "bulk", "loop", "quarantined"}
    assert parsed.size == len(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_SEED_MESSAGE)), st.binary(max_size=8)), max_size=8))
@example(edits=[(192, b"\x00")])  # a NUL inside a charset name: the stdlib raises ValueError
def test_damaged_real_messages_give_a_result(edits: list[tuple[int, bytes]]) -> None:
    raw = bytearray(_SEED_MESSAGE)
    for position, data in edits:
        raw[position : position + len(data)] = data

    parsed = parse_message(bytes(raw))

    assert parsed.outcome in {"normal", "auto_reply", "bounce", "bulk", "loop", "quarantined"}
    assert not (parsed.quarantine_reason or "").startswith("the message could not be parsed")


@settings(max_examples=100, deadline=None)
@given(
    subject=st.text(_WORDS, max_size=80),
    name=_NAMES,
    body=st.text(
        st.characters(categories=("L", "N", "P", "Zs"), include_characters="\n"), max_size=400
    ),
    files=st.lists(st.tuples(_FILENAMES, st.binary(max_size=300)), max_size=3),
)
@example(subject="AUTOREPLY", name="0", body="", files=[])
def test_what_the_standard_library_writes_comes_back(
    subject: str, name: str, body: str, files: list[tuple[str, bytes]]
) -> None:
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=name, addr_spec="sender@example.org")
    message["To"] = "helpdesk@example.com"
    message["Subject"] = subject
    message.set_content(body)
    for filename, content in files:
        message.add_attachment(
            content, maintype="application", subtype="octet-stream", filename=filename + ".bin"
        )

    parsed = parse_message(message.as_bytes())

    # Random words may spell an out-of-office subject ("AUTOREPLY"), rightly read as automatic.
    out_of_office = (f"out-of-office subject ({parsed.subject[:60]})",)
    assert parsed.outcome == "normal" or parsed.classification.reasons == out_of_office
    assert parsed.subject == normalize_whitespace(subject)
    assert parsed.sender is not None
    assert (parsed.sender.name, parsed.sender.key) == (name, "sender@example.org")
    assert parsed.text == body.strip("\n").strip()
    assert [(a.filename, a.content) for a in parsed.attachments] == [
        (f"{filename}.bin", content) for filename, content in files
    ]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**12), st.text(max_size=30), st.text(max_size=30))
def test_the_ticket_token_is_found_anywhere(number: int, before: str, after: str) -> None:
    subject = f"{before.replace('[#', '')} [#{number}] {after}"

    assert ticket_number_from_subject(subject) == number


@settings(max_examples=100, deadline=None)
@given(
    st.binary(max_size=500),
    st.sampled_from(
        [None, "utf-8", "us-ascii", "iso-8859-1", "gb2312", "iso-2022-jp", "utf-7", "x-nonsense"]
    ),
)
def test_decoding_never_fails(data: bytes, declared: str | None) -> None:
    assert isinstance(decode_bytes(data, declared), str)


_ATEXT = st.text(
    st.sampled_from("abcXYZ019!#$%&'*+/=?^_`{|}~-"), min_size=1, max_size=6
)  # RFC 5322 atext
_ADDR_SPECS = st.builds(
    lambda local, domain: f"{'.'.join(local)}@{'.'.join(domain)}",
    st.lists(_ATEXT, min_size=1, max_size=3),
    st.lists(_ATEXT, min_size=1, max_size=3),
)
_GAPS = st.sampled_from(["", " ", "  ", "\t", " \t "])
_PLAIN_MAILBOXES = st.one_of(
    st.builds(lambda gap, spec: f"{gap}{spec}{gap}", _GAPS, _ADDR_SPECS),
    st.builds(
        lambda words, gap, spec, end: (
            f"{gap}{gap.join(words) if gap else ' '.join(words)}{gap}<{spec}>{end}"
        ),
        st.lists(_ATEXT, max_size=3),
        _GAPS,
        _ADDR_SPECS,
        _GAPS,
    ),
)
_SOMETIMES_NOT_PLAIN = st.one_of(
    _PLAIN_MAILBOXES,
    st.builds(
        lambda mailbox, odd: mailbox + odd, _PLAIN_MAILBOXES, st.sampled_from('"()<>:;[]\\.@')
    ),
    st.text(max_size=20),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_SOMETIMES_NOT_PLAIN, min_size=1, max_size=4))
def test_plain_address_lists_read_as_the_standard_library_reads_them(entries: list[str]) -> None:
    value = ",".join(entries)
    plain = _plain_pairs(value)

    assert plain is None or plain == getaddresses([value])
