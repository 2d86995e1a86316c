from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "expediter.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from expediter.core import hooks, periodic
        from expediter.mail import tasks
        from expediter.mail.services.events import on_ticket_event, wants_event

        hooks.listen("ticket.event", on_ticket_event, after_commit=True, when=wants_event)
        periodic.register(
            "mail.outbox_flush", every_seconds=30, enqueue=lambda: tasks.outbox_flush.enqueue()
        )
        periodic.register(
            "mail.inbound_retry", every_seconds=120, enqueue=lambda: tasks.inbound_retry.enqueue()
        )
        periodic.register(
            "mail.mailboxes_poll", every_seconds=30, enqueue=lambda: tasks.mailboxes_poll.enqueue()
        )
        periodic.register(
            "mail.magic_links_purge",
            every_seconds=86400,
            enqueue=lambda: tasks.magic_links_purge.enqueue(),
        )
        periodic.register(
            "mail.orphan_packs_remove",
            every_seconds=3600,
            enqueue=lambda: tasks.orphan_packs_remove.enqueue(),
        )
