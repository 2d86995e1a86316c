"""classify: loops, bounces, auto-replies and bulk mail, rule by rule."""

from __future__ import annotations

import pytest

from expediter.mail.classify import Classification
from expediter.mail.parsing import ParsedMessage, parse_message

DESK = "helpdesk@example.com"


def parse(raw: str | bytes, desk: str = DESK) -> ParsedMessage:
    data = raw.encode() if isinstance(raw, str) else raw
    return parse_message(data.replace(b"\n", b"\r\n"), desk_address=desk)


def plain(*headers: str, body: str = "Hello, my printer is broken.", sender: str = "") -> str:
    lines = [f"From: {sender or 'Ann <ann@example.org>'}", "To: helpdesk@example.com", *headers]
    if not any(h.lower().startswith("subject:") for h in headers):
        lines.append("Subject: Printer")
    return "\n".join(lines) + "\n\n" + body + "\n"


def test_ordinary_mail_is_normal() -> None:
    result = parse(plain()).classification

    assert result == Classification(kind="normal")
    assert not result.is_automatic


# --- loops ----------------------------------------------------------------------


def test_our_own_x_loop_value_is_a_loop() -> None:
    result = parse(plain("X-Loop: helpdesk@example.com")).classification

    assert result.kind == "loop"
    assert any("X-Loop" in reason for reason in result.reasons)


def test_mail_from_the_desk_address_is_a_loop_whatever_the_case() -> None:
    result = parse(plain(sender="Desk <HelpDesk@Example.com>")).classification

    assert result.kind == "loop"


def test_the_desk_address_may_be_given_with_a_display_name() -> None:
    message = parse(plain("X-Loop: helpdesk@example.com"), desk="Desk <helpdesk@example.com>")

    assert message.classification.kind == "loop"


def test_another_systems_x_loop_is_not_our_loop() -> None:
    assert parse(plain("X-Loop: rt@other.example")).classification.kind == "normal"


# --- auto-replies ---------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Auto-Submitted: auto-notified; owner-email=x@y",
        "X-Autoreply: yes",
        "X-Autorespond: on vacation",
        "X-Auto-Response-Suppress: All",
        "X-Auto-Response-Suppress: OOF, AutoReply",
        "Precedence: auto_reply",
        "Return-Path: <>",
    ],
)
def test_auto_reply_headers(header: str) -> None:
    result = parse(plain(header)).classification

    assert result.kind == "auto_reply"
    assert result.is_automatic


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: no", "X-Autoreply: no", "X-Auto-Response-Suppress: DR, RN"]
)
def test_negative_auto_reply_headers_are_ignored(header: str) -> None:
    assert parse(plain(header)).classification.kind == "normal"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Printer",
        "Automatic reply: Printer",
        "AutoReply: Printer",
        "Auto-Reply: your message",
        "Abwesenheitsnotiz: Drucker",
        "Réponse automatique : Imprimante",
        "Risposta automatica: Stampante",
        "Respuesta automática: Impresora",
        "Automatisch antwoord: printer",
        "自動応答: プリンター",
        "Out of the office",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    assert parse(plain(f"Subject: {subject}")).classification.kind == "auto_reply"


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Out of Office settings do not work",
        "How do I set up an automatic reply?",
        "Fwd: Automatic reply: Printer",
    ],
)
def test_people_writing_about_out_of_office_are_people(subject: str) -> None:
    assert parse(plain(f"Subject: {subject}")).classification.kind == "normal"


def test_a_read_receipt_is_automatic() -> None:
    raw = plain(
        "Subject: Read: Printer",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="B"',
        body="--B\nContent-Type: text/plain\n\nYour message was read.\n--B--",
    )

    assert parse(raw).classification.kind == "auto_reply"


# --- bulk -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "List-Id: <users.lists.example.org>",
        "List-Unsubscribe: <mailto:leave@lists.example.org>",
        "List-Post: <mailto:users@lists.example.org>",
    ],
)
def test_bulk_and_list_mail(header: str) -> None:
    assert parse(plain(header)).classification.kind == "bulk"


def test_kinds_are_decided_from_the_most_dangerous_and_every_reason_is_listed() -> None:
    result = parse(plain("Auto-Submitted: auto-replied", "Precedence: bulk")).classification

    assert result.kind == "auto_reply"
    assert "Precedence: bulk" in result.reasons


# --- bounces --------------------------------------------------------------------

_DSN = """\
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: helpdesk@example.com
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example.com.
I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; Gone@Example.org
Original-Recipient: rfc822;gone@example.org
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; slow@example.org
Action: delayed
Status: 4.4.1

Final-Recipient: rfc822; fine@example.org
Action: delivered
Status: 2.0.0

--B
Content-Type: text/rfc822-headers

From: helpdesk@example.com
To: gone@example.org
Subject: [#12] Your printer
Message-ID: <reply-12-3@helpdesk.example.com>

--B--
"""


def test_a_standard_delivery_status_notification() -> None:
    result = parse(_DSN).classification

    assert result.kind == "bounce"
    assert result.bounced_recipients == ("gone@example.org", "slow@example.org")
    assert result.original_message_id == "reply-12-3@helpdesk.example.com"
    assert "multipart/report; report-type=delivery-status" in result.reasons


def test_a_bounce_outranks_its_auto_submitted_header() -> None:
    result = parse(_DSN).classification

    assert result.kind == "bounce"
    assert "Auto-Submitted: auto-replied" in result.reasons


def test_a_returned_message_gives_the_original_message_id() -> None:
    raw = _DSN.replace("text/rfc822-headers", "message/rfc822").replace(
        "Message-ID: <reply-12-3@helpdesk.example.com>",
        "Message-ID: <full-copy@helpdesk.example.com>\n\nThe original body",
    )

    assert parse(raw).classification.original_message_id == "full-copy@helpdesk.example.com"


_QMAIL = """\
From: MAILER-DAEMON@mx4.example.jp
To: helpdesk@example.com
Return-Path: <>
Subject: failure notice

Hi. This is the qmail-send program at mx4.example.jp.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<kijitora@example.ne.jp>:
remote host 192.0.2.32 said: 550 Unknown user kijitora@example.ne.jp

--- Below this line is a copy of the message.

Return-Path: <helpdesk@example.com>
Message-ID: <original-1@helpdesk.example.com>
From: helpdesk@example.com
To: kijitora@example.ne.jp
Subject: [#7] Hello
"""


def test_a_free_form_bounce_from_a_mail_system() -> None:
    result = parse(_QMAIL).classification

    assert result.kind == "bounce"
    assert result.bounced_recipients == ("kijitora@example.ne.jp",)
    assert result.original_message_id == "original-1@helpdesk.example.com"


def test_failed_recipients_fall_back_to_the_returned_copy_recipients() -> None:
    raw = """\
From: Mail Delivery System <mailer-daemon@example.net>
To: helpdesk@example.com
Subject: Mail delivery failed

Your message could not be delivered.

------ This is a copy of the message, including all the headers. ------

From: helpdesk@example.com
To: Lost Person <lost@example.org>
Subject: [#9] Update
"""
    assert parse(raw).classification.bounced_recipients == ("lost@example.org",)


def test_amazon_ses_notifications_are_bounces_with_their_recipients() -> None:
    body = (
        '{"notificationType":"Bounce","bounce":{"bouncedRecipients":'
        '[{"emailAddress":"Nobody@Example.org"}]}}'
    )
    raw = plain("Subject: AWS Notification Message", sender="no-reply@sns.amazonaws.com", body=body)

    result = parse(raw).classification

    assert result.kind == "bounce"
    assert result.bounced_recipients == ("nobody@example.org",)


def test_an_abuse_feedback_report_names_its_recipients() -> None:
    raw = plain(
        "Subject: FW: complaint",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=feedback-report; boundary="B"',
        sender="abuse@isp.example",
        body=(
            "--B\nContent-Type: text/plain\n\nAn abuse report.\n--B\n"
            "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
            "Original-Rcpt-To: one@example.org\nOriginal-Rcpt-To: two@example.org\n--B--"
        ),
    )

    result = parse(raw).classification

    assert result.kind == "bounce"
    assert result.bounced_recipients == ("one@example.org", "two@example.org")


def test_a_person_forwarding_a_bounce_is_a_person() -> None:
    raw = plain(
        "Subject: Fwd: Undeliverable: Printer",
        body="Why did this bounce?\n\nYour message could not be delivered: user unknown",
    )

    assert parse(raw).classification.kind == "normal"


def test_a_first_hand_failure_subject_and_text_are_a_bounce_even_from_an_unknown_sender() -> None:
    raw = plain(
        "Subject: Undeliverable: Printer",
        sender="Microsoft Outlook <relay@corp.example>",
        body="Delivery has failed to these recipients or groups:\n\nboss@corp.example",
    )

    result = parse(raw).classification

    assert result.kind == "bounce"
    assert result.bounced_recipients == ("boss@corp.example",)


@pytest.mark.parametrize(
    "body", ["DELIVERY HAS FAILED to these recipients", "Delivery Has Failed to these recipients"]
)
def test_failure_wording_is_recognised_in_any_case(body: str) -> None:
    raw = plain(
        "Subject: Undeliverable: Printer",
        sender="Microsoft Outlook <relay@corp.example>",
        body=f"{body}:\n\nboss@corp.example",
    )

    assert parse(raw).classification.kind == "bounce"


def test_bounces_are_never_loops_of_ours_unless_they_carry_our_x_loop() -> None:
    assert parse(_DSN).classification.kind == "bounce"
    assert parse("X-Loop: helpdesk@example.com\n" + _DSN).classification.kind == "loop"
