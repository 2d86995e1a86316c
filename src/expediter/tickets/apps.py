from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "expediter.tickets"
    label = "tickets"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from expediter.tickets.models import PriorityRule
        from expediter.tickets.services.tickets import priority_matrix_changed

        for signal in (post_save, post_delete):
            signal.connect(priority_matrix_changed, sender=PriorityRule, dispatch_uid="matrix")
