"""parse_message: headers, bodies, attachments and quarantine, on built messages."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from expediter.mail.parsing import (
    Address,
    ParsedMessage,
    html_to_text,
    parse_message,
    sanitize_html,
    ticket_number_from_subject,
)
from expediter.mail.parsing.charsets import codec_for, decode_bytes, decode_iso2022_jp
from expediter.mail.parsing.headers import decode_header_value, parse_addresses


def build(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("from_", "Ann Example <ann@example.org>")
    message["To"] = headers.pop("to", "helpdesk@example.com")
    message["Subject"] = headers.pop("subject", "Printer on fire")
    message["Message-ID"] = headers.pop("message_id", "<m1@example.org>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def parse(message: EmailMessage | bytes, **options: object) -> ParsedMessage:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    return parse_message(raw, **options)  # type: ignore[arg-type]


# --- headers --------------------------------------------------------------------


def test_sender_name_is_decoded_and_the_address_kept_as_written() -> None:
    message = build(from_="=?utf-8?q?Ren=C3=A9e_M=C3=BCller?= <Renee.Muller@Example.org>")
    message.set_content("hello")

    parsed = parse(message)

    assert parsed.sender == Address(name="Renée Müller", address="Renee.Muller@Example.org")
    assert parsed.sender is not None and parsed.sender.key == "renee.muller@example.org"


def test_to_and_cc_lists_are_parsed_with_names() -> None:
    message = build(to="Desk <helpdesk@example.com>, bob@example.org", Cc='"Doe, Jane" <j@x.org>')
    message.set_content("hello")

    parsed = parse(message)

    assert [a.key for a in parsed.to] == ["helpdesk@example.com", "bob@example.org"]
    assert parsed.cc == (Address(name="Doe, Jane", address="j@x.org"),)


def test_threading_ids_are_stored_without_angle_brackets() -> None:
    message = build(In_Reply_To="<b@x>", References="<a@x> <b@x>")
    message.set_content("hello")

    parsed = parse(message)

    assert parsed.message_id == "m1@example.org"
    assert parsed.in_reply_to == ("b@x",)
    assert parsed.references == ("a@x", "b@x")
    assert parsed.thread_ids == ("b@x", "a@x")


def test_subject_is_decoded_and_its_whitespace_normalised() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: =?utf-8?b?w4ljaGVj?=\r\n"
        b" =?utf-8?q?_de_l=27imprimante?=\r\n"
        b"\t[#42]   again\r\n\r\nbody\r\n"
    )

    parsed = parse(raw)

    assert parsed.subject == "Échec de l'imprimante [#42] again"
    assert parsed.ticket_number == 42


def test_date_is_aware() -> None:
    message = build(Date="Tue, 03 Mar 2026 10:15:00 +0100")
    message.set_content("hello")

    parsed = parse(message)

    assert parsed.date == datetime(2026, 3, 3, 10, 15, tzinfo=timezone(timedelta(hours=1)))


def test_a_date_without_zone_is_taken_as_utc_and_a_broken_one_ignored() -> None:
    assert parse(b"From: a@b.org\nDate: 3 Mar 2026 10:15:00\n\nx").date == datetime(
        2026, 3, 3, 10, 15, tzinfo=UTC
    )
    assert parse(b"From: a@b.org\nDate: yesterday-ish\n\nx").date is None


def test_headers_are_kept_in_order_and_decoded() -> None:
    parsed = parse(
        b"From: a@b.org\nX-Loop: helpdesk@example.com\nX-Note: =?utf-8?q?caf=C3=A9?=\n\nx"
    )

    assert parsed.header("x-note") == "café"
    assert parsed.header_values("X-LOOP") == ("helpdesk@example.com",)
    assert [name for name, _ in parsed.headers] == ["From", "X-Loop", "X-Note"]


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Re: [#1234] Printer", 1234),
        ("[#7][#8] two tokens", 7),
        ("Fwd: AW: [#0042]", 42),
        ("[# 12] spaced", None),
        ("Ticket #12", None),
        ("", None),
        (None, None),
    ],
)
def test_ticket_number_from_subject(subject: str | None, number: int | None) -> None:
    assert ticket_number_from_subject(subject) == number


def test_adjacent_encoded_words_may_split_a_multibyte_character() -> None:
    encoded = "=?utf-8?b?w6k=?= =?utf-8?b?w6k=?="  # two 'é'
    split = "=?utf-8?q?=C3?= =?utf-8?q?=A9t=C3=A9?="  # 'été' cut inside 'é'

    assert decode_header_value(encoded) == "éé"
    assert decode_header_value(split) == "été"


def test_raw_8bit_headers_are_decoded_with_one_guess_for_the_whole_message() -> None:
    raw = ('From: "武兰成" <wu@example.cn>\nSubject: 转发：整体提升企业服务水平\n\nbody').encode(
        "gb18030"
    )

    parsed = parse(raw)

    assert parsed.sender == Address(name="武兰成", address="wu@example.cn")
    assert parsed.subject == "转发：整体提升企业服务水平"


def test_a_charset_declared_in_encoded_words_decodes_raw_bytes_of_the_same_headers() -> None:
    raw = b"From: a@b.org\nTo: =?iso-8859-1?q?G=FCnther?= <k.g\xfcnther@example.com>\n\nx"

    assert parse(raw).to[0].address == "k.günther@example.com"


def test_encoded_words_are_never_decoded_inside_an_address() -> None:
    parsed = parse(b"From: =?utf-8?Q?agent?=@example.com\n\nx")

    assert parsed.sender is not None
    assert parsed.sender.address == "=?utf-8?Q?agent?=@example.com"


def test_a_comment_after_a_display_name_is_dropped() -> None:
    addresses = parse_addresses("MAILER-DAEMON (Mail Delivery System) <postmaster@example.com>")
    comment_only = parse_addresses("marc@example.com (Marc Smith)")

    assert addresses == (Address(name="MAILER-DAEMON", address="postmaster@example.com"),)
    assert comment_only == (Address(name="Marc Smith", address="marc@example.com"),)


def test_the_first_usable_from_address_wins_then_sender_then_reply_to() -> None:
    two_froms = b"From: [??????]\nFrom: Real <real@example.org>\n\nx"
    empty_from = b'From: "Me" <>\nReply-To: <reply@example.org>\n\nx'

    assert parse(two_froms).sender == Address(name="Real", address="real@example.org")
    assert parse(empty_from).sender == Address(name="", address="reply@example.org")


# --- charsets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "codec"),
    [
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "utf-8"),
        ("cp-1251", "cp1251"),
        ("windows-1252", "cp1252"),
        ("iso-8859-8-i", "iso8859-8"),
        ("gb2312", "gb18030"),
        ('"utf-8"', "utf-8"),
        ("x-unknown", None),
        ("no-such-charset", None),
        (None, None),
    ],
)
def test_declared_charsets_map_to_the_codec_senders_mean(
    declared: str | None, codec: str | None
) -> None:
    assert codec_for(declared) == codec


def test_mislabelled_and_unlabelled_text_is_still_decoded() -> None:
    assert decode_bytes("déjà vu".encode(), "us-ascii") == "déjà vu"
    assert decode_bytes("“quoted” – dash".encode("cp1252"), "iso-8859-1") == "“quoted” – dash"
    assert decode_bytes("Grüße aus Köln".encode("latin-1"), None) == "Grüße aus Köln"
    assert decode_bytes(b"caf\xc3\xa9 na\xefve", "utf-8") == "café na\ufffdve"


def test_iso_2022_jp_with_windows_extension_characters() -> None:
    text = "①１都３県の鯵と、ｱｲｳ"
    encoded = text.encode("cp932")  # build the JIS form by hand from Shift_JIS
    jis = _shift_jis_to_iso2022(encoded)

    assert decode_iso2022_jp(jis) == text
    assert decode_bytes(jis, "ISO-2022-JP") == text


def _shift_jis_to_iso2022(data: bytes) -> bytes:
    out = bytearray()
    mode = "ascii"
    index = 0
    while index < len(data):
        byte = data[index]
        if 0xA1 <= byte <= 0xDF:
            if mode != "kana":
                out += b"\x1b(I"
                mode = "kana"
            out.append(byte - 0x80)
            index += 1
            continue
        if byte < 0x80:
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out.append(byte)
            index += 1
            continue
        if mode != "jis":
            out += b"\x1b$B"
            mode = "jis"
        lead, trail = byte, data[index + 1]
        row = (lead - (0x70 if lead <= 0x9F else 0xB0)) * 2
        if trail < 0x9F:
            out += bytes((row - 1, trail - (0x1F if trail < 0x7F else 0x20)))
        else:
            out += bytes((row, trail - 0x7E))
        index += 2
    if mode != "ascii":
        out += b"\x1b(B"
    return bytes(out)


def test_a_short_unlabelled_body_uses_a_charset_declared_elsewhere_in_the_message() -> None:
    raw = (
        b"From: a@b.org\nSubject: =?iso-8859-1?q?aa=E4=F6=FC=DFad?=\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain\n\n\xe4\xf6\xfc\xdf ad asd\n"
    )

    assert parse(raw).text == "äöüß ad asd"


def test_utf7_is_decoded() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: text/plain; charset=unicode-1-1-utf-7\n\n+ANw-bermittlung\n"
    )

    assert parse(raw).text == "Übermittlung"


# --- bodies ---------------------------------------------------------------------


def test_plain_text_comes_from_the_text_part_and_html_is_sanitised() -> None:
    message = build()
    message.set_content("Plain words")
    message.add_alternative(
        '<p onclick="x()">Rich <b>words</b><script>alert(1)</script>'
        '<a href="javascript:evil()">a</a><img src="cid:logo@x"></p>',
        subtype="html",
    )

    parsed = parse(message)

    assert parsed.text == "Plain words"
    assert parsed.html is not None
    assert "<b>words</b>" in parsed.html
    assert "script" not in parsed.html and "onclick" not in parsed.html
    assert "javascript" not in parsed.html
    assert 'src="cid:logo@x"' in parsed.html


def test_text_is_derived_from_html_when_there_is_no_usable_plain_part() -> None:
    message = build()
    message.set_content("   \n")
    message.add_alternative(
        "<html><head><title>T</title><style>p{}</style></head><body><p>One</p>"
        "<p>Two<br>Three</p><ul><li>a</li><li>b</li></ul></body></html>",
        subtype="html",
    )

    assert parse(message).text == "One\n\nTwo\nThree\n\n- a\n- b"


def test_mixed_plain_and_html_parts_keep_every_segment_in_order() -> None:
    message = build()
    message.make_mixed()
    for part in (("text one", "plain"), ("<p>html two</p>", "html"), ("text three", "plain")):
        sub = EmailMessage()
        sub.set_content(part[0], subtype=part[1])
        message.attach(sub)

    parsed = parse(message)

    assert parsed.text == "text one\n\nhtml two\n\ntext three"
    assert parsed.html is not None
    assert parsed.html.index("text one") < parsed.html.index("html two")


def test_format_flowed_soft_breaks_are_joined() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: text/plain; format=flowed; delsp=no\n\n"
        b"This line is \nwrapped.\n> quoted \n> too\n-- \nsig\n"
    )

    assert parse(raw).text == "This line is wrapped.\n> quoted too\n-- \nsig"


def test_nul_characters_never_reach_the_text() -> None:
    parsed = parse(b"From: a@b.org\nSubject: a\x00b\n\nbo\x00dy\n")

    assert parsed.subject == "a b"
    assert parsed.text == "body"


# --- attachments ----------------------------------------------------------------


def test_attachments_keep_their_bytes_and_rfc2231_names() -> None:
    payload = bytes(range(256)) * 4
    message = build()
    message.set_content("see attached")
    message.add_attachment(
        payload, maintype="application", subtype="pdf", filename="Rechnung März.pdf"
    )

    parsed = parse(message)

    assert "filename*=" in message.as_string()
    (attachment,) = parsed.attachments
    assert attachment.filename == "Rechnung März.pdf"
    assert attachment.content == payload
    assert attachment.content_type == "application/pdf"
    assert attachment.inline is False


def test_rfc2047_encoded_filenames_and_path_parts_are_cleaned() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
        b"Content-Type: text/plain\n\nhi\n--B\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="=?utf-8?q?..=2F..=2Fetc=2Fpa=C3=9F.txt?="\n'
        b"Content-Transfer-Encoding: base64\n\naGVsbG8=\n--B--\n"
    )

    (attachment,) = parse(raw).attachments

    assert attachment.filename == "paß.txt"
    assert attachment.content == b"hello"


def test_inline_images_keep_their_content_id() -> None:
    message = build()
    message.set_content("text")
    message.add_alternative('<p>logo <img src="cid:logo123@x"></p>', subtype="html")
    html_part = next(part for part in message.walk() if part.get_content_type() == "text/html")
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<logo123@x>")

    (image,) = parse(message).attachments

    assert image.content_id == "logo123@x"
    assert image.inline is True
    assert image.content == b"\x89PNG fake"
    assert image.filename == "image.png"


def test_a_filename_like_content_id_names_a_nameless_image() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: multipart/related; boundary=B\n\n--B\n"
        b"Content-Type: text/html\n\n<img src=cid:image001.jpg@01CD>\n--B\n"
        b"Content-Type: image/jpeg\nContent-ID: <image001.jpg@01CD>\n"
        b"Content-Transfer-Encoding: base64\n\n/9j/\n--B--\n"
    )

    (image,) = parse(raw).attachments

    assert image.filename == "image001.jpg"


def test_forwarded_messages_are_kept_whole_byte_for_byte() -> None:
    inner = (
        b"From: Old <old@example.org>\r\nSubject: =?utf-8?q?Vieux_probl=C3=A8me?=\r\n"
        b"X-Long: " + b"x" * 120 + b"\r\n\r\nOriginal body\r\n"
    )
    raw = (
        b"From: a@b.org\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: text/plain\r\n\r\nFYI\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner
        + b"\r\n--B--\r\n"
    )

    parsed = parse(raw)

    (forward,) = parsed.attachments
    assert forward.content_type == "message/rfc822"
    assert forward.content == inner
    assert forward.filename == "Vieux problème.eml"
    assert parsed.text == "FYI"


def test_calendar_parts_are_kept_as_attachments() -> None:
    message = build()
    message.set_content("You are invited")
    message.add_alternative("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", subtype="calendar")

    parsed = parse(message)

    (invite,) = parsed.attachments
    assert invite.content_type == "text/calendar"
    assert invite.filename == "invite.ics"
    assert invite.content.startswith(b"BEGIN:VCALENDAR")
    assert parsed.text == "You are invited"


def test_sloppy_base64_is_decoded_like_mail_clients_do() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
        b"Content-Type: video/quicktime\nContent-Transfer-Encoding: base64\n\n"
        b"/9j/4AAQSkZJABC123456\n--B--\n"
    )

    (video,) = parse(raw).attachments

    assert video.content == base64.b64decode("/9j/4AAQSkZJABC12345=")[:15]
    assert video.filename == "video.mov"


def test_quoted_printable_files_decode_hard_line_breaks_to_crlf() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
        b'Content-Type: application/pdf; name="a.pdf"\n'
        b"Content-Transfer-Encoding: quoted-printable\n"
        b"\n%PDF-1.2=0A=\nline two\nline =\nthree\n--B--\n"
    )

    (pdf,) = parse(raw).attachments

    assert pdf.content == b"%PDF-1.2\nline two\r\nline three"


def _uuencoded(name: str, data: bytes) -> str:
    lines = [binascii.b2a_uu(data[i : i + 45]).decode() for i in range(0, len(data), 45)]
    return f"begin 644 {name}\n{''.join(lines)}`\nend\n"


def test_a_file_uuencoded_into_the_text_becomes_an_attachment() -> None:
    photo = bytes(range(256)) * 3
    message = build()
    message.set_content(
        "Here is the photo.\n\n" + _uuencoded("Head shot.jpg", photo) + "\nRegards, Ann\n"
    )

    parsed = parse(message)

    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content_type) == ("Head shot.jpg", "image/jpeg")
    assert attachment.content == photo and not attachment.inline
    assert parsed.text == "Here is the photo.\n\n\nRegards, Ann"


def test_text_that_only_looks_like_a_uuencoded_block_stays_text() -> None:
    message = build()
    written = "begin 644 notes.txt\nthese are words, not data\nend\n"
    message.set_content("Odd, but mine:\n" + written + _uuencoded("x.bin", b"").replace("`\n", ""))

    parsed = parse(message)

    assert parsed.attachments == ()
    assert "these are words, not data" in parsed.text and "begin 644 x.bin" in parsed.text


# --- quarantine -----------------------------------------------------------------


def test_a_message_over_the_size_limit_is_quarantined_with_its_headers() -> None:
    message = build(subject="Big one")
    message.set_content("x" * 5000)

    parsed = parse(message, max_bytes=1000)

    assert parsed.outcome == "quarantined"
    assert "limit" in (parsed.quarantine_reason or "")
    assert parsed.subject == "Big one"
    assert parsed.text == ""


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "OLE"),
        (b"%PDF-1.4\n...", "PDF"),
        (b"Lorem ipsum dolor sit amet\nconsectetur adipiscing\n", "no header fields"),
        (b"", "no header fields"),
    ],
)
def test_things_that_are_not_mail_are_quarantined(raw: bytes, reason: str) -> None:
    parsed = parse(raw)

    assert parsed.outcome == "quarantined"
    assert reason in (parsed.quarantine_reason or "")


def test_a_message_without_a_usable_sender_is_quarantined() -> None:
    parsed = parse(b"From: nobody\nSubject: who?\n\nbody\n")

    assert parsed.outcome == "quarantined"
    assert parsed.quarantine_reason == "no usable sender address"


def test_a_bounce_from_a_bare_mailer_daemon_is_not_quarantined() -> None:
    raw = (
        b"From: MAILER-DAEMON (Mail Delivery System)\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"\nThis is the mail system at host x.\n<gone@example.org>: user unknown\n"
    )

    parsed = parse(raw)

    assert parsed.outcome == "bounce"
    assert parsed.classification.bounced_recipients == ("gone@example.org",)


def test_a_preamble_line_and_unfolded_header_lines_are_repaired() -> None:
    preamble = b"---- Original email message ----\nFrom: a@b.org\nSubject: Contact\n\nHello\n"
    broken_fold = (
        b"From: a@b.org\nX-Tracker: AAAA\nBBBBBBBBB\nCCCCCCCC\nSubject: Kept\n"
        b"Content-Type: text/plain\n\nbody\n"
    )

    assert (parse(preamble).subject, parse(preamble).text) == ("Contact", "Hello")
    assert (parse(broken_fold).subject, parse(broken_fold).text) == ("Kept", "body")


def test_an_mbox_from_line_is_accepted() -> None:
    parsed = parse(b"From a@b.org Sat Oct  4 08:00:09 2025\nFrom: a@b.org\nSubject: s\n\nx\n")

    assert parsed.outcome == "normal"
    assert parsed.subject == "s"


# --- html helpers -----------------------------------------------------------------


def test_html_to_text_keeps_blocks_and_drops_markup() -> None:
    html = (
        "<div>a&nbsp;&amp;&nbsp;b</div><table><tr><td>c</td><td>d</td></tr></table>"
        "<pre>x\n  y</pre>"
    )

    assert html_to_text(html) == "a & b\n\nc d\n\nx\n  y"


def test_sanitize_keeps_safe_links_only() -> None:
    cleaned = sanitize_html('<a href="https://x.org">x</a><a href="data:text/html,1">y</a>')

    assert 'href="https://x.org"' in cleaned
    assert "data:" not in cleaned
    assert 'rel="noopener noreferrer"' in cleaned
