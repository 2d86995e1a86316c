from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "expediter.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        """Clocks follow every ticket write in its transaction; the worker sweeps them."""
        from expediter.core import hooks, periodic
        from expediter.sla import tasks
        from expediter.sla.services import on_ticket_event, on_ticket_opening

        hooks.listen("ticket.opening", on_ticket_opening, after_commit=False)
        hooks.listen("ticket.event", on_ticket_event, after_commit=False)
        periodic.register("sla.sweep", every_seconds=15, enqueue=lambda: tasks.sla_sweep.enqueue())
        periodic.register(
            "sla.public_holidays",
            every_seconds=86_400,
            enqueue=lambda: tasks.public_holidays_keep_ahead.enqueue(),
        )
