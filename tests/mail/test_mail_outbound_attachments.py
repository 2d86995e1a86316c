"""An agent's reply brings its files to the requester by mail, within a size limit."""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import shutil
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from tests.factories import make_agent, make_requester, make_ticket

from expediter.mail import outbox
from expediter.mail.models import OutboundMessage, OutboundStatus
from expediter.mail.services import mail_receive
from expediter.staff.models import User
from expediter.tickets.models import Article, Attachment, Ticket
from expediter.tickets.services import NewAttachment, article_add
from expediter.tickets.storage import blob_path

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4  # binary, not UTF-8
NOTES = b"first line\r\nsecond line, latin-1: caf\xe9\r\n"  # CRLF and a byte that is not UTF-8
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02 image bytes" * 10


@pytest.fixture
def agent() -> User:
    return make_agent(name="Ann Agent")


@pytest.fixture
def reply(agent, django_capture_on_commit_callbacks):
    """Post an agent's reply the way the ticket page does, and run what its commit sets off."""

    def post(
        ticket: Ticket,
        *files: NewAttachment,
        internal: bool = False,
        body: str = "See..",
        before_send: Callable[[Article], object] | None = None,
    ) -> Article:
        """``before_send`` runs once the reply is queued and before its commit sends it."""
        with django_capture_on_commit_callbacks(execute=True):
            article = article_add(
                ticket_id=ticket.pk,
                author=agent,
                actor=agent,
                body=body,
                internal=internal,
                attachments=files,
            )
            if before_send is not None:
                before_send(article)
        return article

    return post


def received(index: int = -1) -> EmailMessage:
    raw = mail.outbox[index].message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def files_of(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    """``{filename: (content type, bytes)}`` of the parts a mail client offers as files."""
    return {
        str(part.get_filename()): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def test_an_agent_reply_carries_its_files_byte_for_byte_with_names_and_types(reply) -> None:
    ticket = make_ticket(requester=make_requester(email="zoe@corp.example"))
    reply(
        ticket,
        NewAttachment(filename="résumé été.pdf", data=PDF, content_type="application/pdf"),
        NewAttachment(filename="notes.txt", data=NOTES, content_type="text/plain"),
        NewAttachment(filename="photo.png", data=PNG),  # type guessed from the name
    )
    sent = received()
    assert sent["To"] == "zoe@corp.example"
    assert files_of(sent) == {
        "résumé été.pdf": ("application/pdf", PDF),
        "notes.txt": ("text/plain", NOTES),
        "photo.png": ("image/png", PNG),
    }
    raw = mail.outbox[-1].message().as_string()
    assert "filename*=utf-8''r%C3%A9sum%C3%A9%20%C3%A9t%C3%A9.pdf" in raw
    assert "See.." in text_of(sent) and "not attached" not in text_of(sent)
    row = OutboundMessage.objects.get(kind="reply")
    assert row.status == OutboundStatus.SENT and row.last_error == ""


def test_an_internal_note_s_files_are_never_mailed(reply) -> None:
    ticket = make_ticket(requester=make_requester(email="zoe@corp.example"))
    reply(
        ticket,
        NewAttachment(filename="secret-plan.pdf", data=PDF),
        internal=True,
        body="between us",
    )
    assert mail.outbox == []
    reply(ticket, body="We are on it.")
    assert len(mail.outbox) == 1
    sent = received()
    assert files_of(sent) == {}
    assert "secret-plan" not in mail.outbox[0].message().as_string()


def test_files_over_the_limit_are_named_with_the_portal_link_instead(reply, settings) -> None:
    settings.MAIL_OUTBOUND_ATTACHMENTS_MAX_BYTES = 1000
    ticket = make_ticket(requester=make_requester(email="zoe@corp.example"))
    reply(
        ticket,
        NewAttachment(filename="small.txt", data=b"s" * 300),
        NewAttachment(filename="big <video>.bin", data=b"b" * 900),  # 1200 in all: left out
        NewAttachment(filename="tail.csv", data=b"t" * 200),  # 500 in all: still fits
    )
    sent = received()
    assert set(files_of(sent)) == {"small.txt", "tail.csv"}
    text = text_of(sent)
    words = text.index("See..")
    notice = text.index("This file is too large to be sent by email (limit: 1000\xa0bytes")
    signature = text.index("\n-- \n")  # clients fold what follows: the notice comes before
    assert words < notice < signature < text.index(f"{settings.BASE_URL}/magic/")
    assert "- big <video>.bin (900\xa0bytes)" in text
    assert "on your request online, through the link in this message" in text
    html = html_of(sent)
    assert "<li>big &lt;video&gt;.bin (900\xa0bytes)</li>" in html
    assert html.index("/magic/") < html.index("too large") < html.index("</body>")
    assert "small.txt" not in text  # only what was left out is named


def test_a_french_requester_reads_the_left_out_files_in_french(reply, settings) -> None:
    settings.MAIL_OUTBOUND_ATTACHMENTS_MAX_BYTES = 1000
    ticket = make_ticket(requester=make_requester(email="zoe@corp.example", language="fr"))
    reply(
        ticket,
        NewAttachment(filename="résumé été.pdf", data=PDF),
        NewAttachment(filename="photo.png", data=PNG),
    )
    sent = received()
    assert set(files_of(sent)) == {"photo.png"}
    text = text_of(sent)
    assert "Ce fichier est trop volumineux pour être envoyé par courriel" in text
    assert "(limite : 1000\xa0octets par message)" in text
    assert "vous le trouverez dans votre demande en ligne, grâce au lien de ce message" in text
    assert "- résumé été.pdf (1,0\xa0Kio)" in text  # 1033 bytes, in French units
    assert "photo.png" not in text
    assert "Ce fichier est trop volumineux" in html_of(sent)


def test_a_file_gone_from_the_store_is_named_and_the_reply_still_goes(reply) -> None:
    def lose_the_scan(article: Article) -> None:
        lost = Attachment.objects.select_related("blob").get(
            article=article, filename="lost scan.pdf"
        )
        blob_path(lost.blob.sha256).unlink()

    ticket = make_ticket(requester=make_requester(email="zoe@corp.example"))
    reply(
        ticket,
        NewAttachment(filename="kept.pdf", data=PDF + b"kept"),
        NewAttachment(filename="lost scan.pdf", data=PDF + b"lost"),
        body="Both files attached.",
        before_send=lose_the_scan,
    )
    sent = received()
    assert set(files_of(sent)) == {"kept.pdf"}
    text = text_of(sent)
    assert "This file could not be attached to this message" in text
    assert "- lost scan.pdf" in text and "too large" not in text
    assert "<li>lost scan.pdf</li>" in html_of(sent)
    row = OutboundMessage.objects.get(kind="reply")
    assert row.status == OutboundStatus.SENT
    assert row.last_error == "sent without lost scan.pdf: missing from the file store"
    warned = Template("{% load mail_display %}{% mail_trouble ticket %}").render(
        Context({"ticket": ticket})
    )
    assert "sent without lost scan.pdf" in warned


def test_a_file_that_cannot_be_read_now_holds_the_reply_for_a_retry(reply, at) -> None:
    """Only a file that is gone is given up on; an unreadable store is retried, never skipped."""
    now = at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    ticket = make_ticket(requester=make_requester(email="zoe@corp.example"))

    def stored_file(article: Article) -> Path:
        return blob_path(Attachment.objects.get(article=article).blob.sha256)

    def make_unreadable(article: Article) -> None:
        path = stored_file(article)
        path.rename(path.with_name("kept"))
        path.mkdir()  # reading it fails (IsADirectoryError), even for root

    article = reply(
        ticket,
        NewAttachment(filename="report.pdf", data=PDF + b"unreadable"),
        body="Attached.",
        before_send=make_unreadable,
    )
    path = stored_file(article)
    row = OutboundMessage.objects.get(kind="reply")
    assert mail.outbox == []
    assert row.status == OutboundStatus.RETRYING and "IsADirectoryError" in row.last_error
    shutil.rmtree(path)
    path.with_name("kept").rename(path)
    at(now + dt.timedelta(minutes=5))
    assert outbox.outbox_send(message_pk=row.pk) == "sent"
    assert files_of(received()) == {"report.pdf": ("application/pdf", PDF + b"unreadable")}


def test_an_image_the_agent_s_mail_shows_travels_inline_beside_the_html(
    django_capture_on_commit_callbacks,
) -> None:
    make_agent(email="ann@corp.example", name="Ann Agent")
    first = EmailMessage()
    first["From"] = "Zoé Martin <zoe@corp.example>"
    first["To"] = "helpdesk@example.com"
    first["Subject"] = "VPN is down"
    first["Message-ID"] = email.utils.make_msgid(domain="corp.example")
    first.set_content("Hello, the VPN is down.")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_id = mail_receive(raw=first.as_bytes(), source="pipe").ticket
    ack = OutboundMessage.objects.get(kind="ack")

    answer = EmailMessage()
    answer["From"] = "Ann Agent <ann@corp.example>"
    answer["To"] = "helpdesk@example.com"
    answer["Subject"] = f"Re: {ack.subject}"
    answer["Message-ID"] = email.utils.make_msgid(domain="corp.example")
    answer["In-Reply-To"] = ack.message_id
    answer.set_content("Click the button shown below.")
    answer.add_alternative('<p>Click this button: <img src="cid:shot@corp.example"></p>', "html")
    answer.get_payload()[1].add_related(PNG, "image", "png", cid="<shot@corp.example>")
    answer.add_attachment(b"log line\n", "text", "plain", filename="vpn.log")
    with django_capture_on_commit_callbacks(execute=True):
        assert mail_receive(raw=answer.as_bytes(), source="pipe").ticket == ticket_id

    sent = received()
    assert sent["To"] == "zoe@corp.example"
    html = sent.get_body(("html",))
    assert 'src="cid:shot@corp.example"' in html.get_content()
    related = next(p for p in sent.walk() if p.get_content_type() == "multipart/related")
    image = related.get_payload()[1]
    assert related.get_payload()[0].get_content_type() == "text/html"
    assert image["Content-ID"] == "<shot@corp.example>"
    assert image.get_content_disposition() == "inline"
    assert image.get_payload(decode=True) == PNG
    assert files_of(sent) == {"vpn.log": ("text/plain", b"log line\n")}


def test_building_a_reply_reads_its_files_in_one_query_however_many(reply) -> None:
    ticket = make_ticket(requester=make_requester(email="zoe@corp.example"))
    one = reply(ticket, NewAttachment(filename="a.txt", data=b"a"))
    many = reply(ticket, *[NewAttachment(filename=f"{n}.txt", data=b"%d" % n) for n in range(5)])

    def queries_to_build(article_id: int) -> int:
        message = OutboundMessage.objects.get(article_id=article_id)
        with CaptureQueriesContext(connection) as queries:
            built = outbox.build_email(message)
        assert len(built.attachments) == Attachment.objects.filter(article_id=article_id).count()
        return len(queries)

    assert queries_to_build(one.pk) == queries_to_build(many.pk) == 1
