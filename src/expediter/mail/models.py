"""Mail state: inbound messages (stored raw first), the outbox, mailboxes, notifications.

Inbound mail is recorded before anything reads it: the raw bytes go to the
content-addressed store and an :class:`InboundMessage` row points at them, so
a crash while processing loses nothing and ``mail retry`` finds the row still
``pending``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from expediter.core.fields import EncryptedTextField
from expediter.tickets.models import Article, StoredBlob, Ticket, TicketEvent


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    RETRYING = "retrying", _("Retrying")
    HELD = "held", _("Held: no mail relay configured")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent (suppressed)")


class OutboundMessage(models.Model):
    """One email to send; the worker sends it with retries and back-off."""

    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound_mail"
    )
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound_mail"
    )
    kind = models.CharField(max_length=30)  # ack, reply, status, notification, invitation...
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    auto = models.BooleanField(default=False)  # automatic: Auto-Submitted: auto-replied
    calendar = models.TextField(blank=True)  # a text/calendar part (invitations)
    calendar_method = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)}: {self.subject}"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("A ticket is assigned to me")
    REQUESTER_REPLIED = "requester_replied", _("The requester replied on my ticket")
    MENTIONED = "mentioned", _("I am mentioned in a note")
    SLA_WARNING = "sla_warning", _("An SLA is about to be breached")
    SLA_BREACHED = "sla_breached", _("An SLA was breached")
    PAGED = "paged", _("I am paged while on call")
    CALLBACK = "callback", _("A caller is waiting for a call back")


class Notification(models.Model):
    """An in-app notification; the email copy goes through the outbox."""

    user = models.ForeignKey("staff.User", on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    text = models.TextField()
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]


class NotificationPreference(models.Model):
    """A person's choice for one kind of notification (absent = both channels on)."""

    user = models.ForeignKey(
        "staff.User", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="unique_notification_pref")
        ]


class InboundSource(models.TextChoices):
    PIPE = "pipe", _("MTA pipe")
    IMPORT = "import", _("Maildir or mbox import")
    IMAP = "imap", _("IMAP mailbox")
    SMTP = "smtp", _("Built-in SMTP receiver")


class InboundStatus(models.TextChoices):
    PENDING = "pending", _("Stored, not processed yet")
    CREATED = "created", _("Created a ticket")
    APPENDED = "appended", _("Added to a ticket")
    IGNORED = "ignored", _("Ignored")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundMessage(models.Model):
    """One received message: its raw bytes (content-addressed) and what became of it.

    The same bytes are stored once (``sha256`` is unique), which is what makes
    a second delivery of an identical message harmless.
    """

    blob = models.ForeignKey(StoredBlob, on_delete=models.PROTECT, related_name="inbound_mail")
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    source_detail = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=12, choices=InboundStatus.choices, default=InboundStatus.PENDING
    )
    reason = models.TextField(blank=True)
    kind = models.CharField(max_length=12, blank=True)  # normal, auto_reply, bounce, bulk, loop
    evidence = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    from_email = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    reply_text = models.TextField(blank=True)  # what the sender just wrote (split_reply)
    quoted_text = models.TextField(blank=True)  # signature and quotations, collapsed on pages
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_status_idx")]

    def __str__(self) -> str:
        return f"{self.status}: {self.from_email or '?'}: {self.subject}"


class MailboxSecurity(models.TextChoices):
    SSL = "ssl", _("TLS (port 993)")
    STARTTLS = "starttls", _("STARTTLS")
    PLAIN = "plain", _("None (loopback only)")


class MailboxAuth(models.TextChoices):
    PASSWORD = "password", _("Password")
    OAUTH2 = "oauth2", _("OAuth2 bearer token (XOAUTH2)")


class MailboxAfter(models.TextChoices):
    SEEN = "seen", _("Mark as read")
    MOVE = "move", _("Move to another folder")


# Encrypted at rest; never shown back, and written only when an administrator types them.
MAILBOX_SECRET_FIELDS = ["secret", "oauth_client_secret", "oauth_refresh_token"]


class Mailbox(models.Model):
    """An IMAP mailbox the worker polls; each is configured by an administrator."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=MailboxSecurity.choices, default=MailboxSecurity.SSL
    )
    username = models.CharField(_("user name"), max_length=255)
    auth = models.CharField(
        _("authentication"),
        max_length=10,
        choices=MailboxAuth.choices,
        default=MailboxAuth.PASSWORD,
    )
    # Secrets are encrypted at rest (``core.secrets``): the database holds tokens only.
    secret = EncryptedTextField(_("password or access token"), blank=True)
    # PEM certificates of the authorities trusted for this server instead of
    # the system's (an internal CA): see ``transports.imap.tls_context``.
    tls_ca_certificates = models.TextField(_("trusted CA certificates"), blank=True)
    # OAuth2: the access token (``secret``) is renewed with the refresh token
    # before it expires, so a mailbox keeps working past the token's hour.
    oauth_token_url = models.URLField(_("OAuth2 token URL"), max_length=500, blank=True)
    oauth_client_id = models.CharField(_("OAuth2 client ID"), max_length=255, blank=True)
    oauth_client_secret = EncryptedTextField(_("OAuth2 client secret"), blank=True)
    oauth_refresh_token = EncryptedTextField(_("OAuth2 refresh token"), blank=True)
    oauth_scope = models.CharField(_("OAuth2 scope"), max_length=500, blank=True)
    oauth_expires_at = models.DateTimeField(_("access token expires at"), null=True, blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    after = models.CharField(
        _("after processing"),
        max_length=10,
        choices=MailboxAfter.choices,
        default=MailboxAfter.SEEN,
    )
    move_to = models.CharField(_("move to folder"), max_length=255, blank=True)
    poll_every_seconds = models.PositiveIntegerField(_("poll every (seconds)"), default=60)
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.username}@{self.host})"


class FailingAddress(models.Model):
    """An address mail bounced from: automatic mail to it is no longer sent."""

    address = models.CharField(max_length=254, unique=True)  # lower-cased
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    bounces = models.PositiveIntegerField(default=1)
    last_inbound = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_failed_at"]

    def __str__(self) -> str:
        return self.address


class AutoReplyRecord(models.Model):
    """One automatic reply sent to an address: what the per-address rate limit counts."""

    address = models.CharField(max_length=254)
    at = models.DateTimeField()
    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["address", "at"], name="autoreply_rate_idx")]


class MagicLink(models.Model):
    """A single-use, time-limited sign-in link mailed to a requester.

    Only the SHA-256 of the token is stored; the token itself is in the mail.
    """

    user = models.ForeignKey("staff.User", on_delete=models.CASCADE, related_name="magic_links")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)


class MailedEvent(models.Model):
    """A ticket event the mail listener has handled: handling it again does nothing."""

    event = models.OneToOneField(
        TicketEvent, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    handled_at = models.DateTimeField()
