"""Every write of the mail channel: intake of raw messages, outbound mail, sign-in links."""

from expediter.mail.services.imports import mail_import
from expediter.mail.services.ingest import (
    IngestResult,
    inbound_delete,
    inbound_process,
    inbound_release,
    inbound_retry_pending,
    inbound_store,
    mail_receive,
)
from expediter.mail.services.magic import (
    magic_link_create,
    magic_link_peek,
    magic_link_redeem,
    magic_links_purge,
)

__all__ = [
    "IngestResult",
    "inbound_delete",
    "inbound_process",
    "inbound_release",
    "inbound_retry_pending",
    "inbound_store",
    "magic_link_create",
    "magic_link_peek",
    "magic_link_redeem",
    "magic_links_purge",
    "mail_import",
    "mail_receive",
]
