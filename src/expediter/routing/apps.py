from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "expediter.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from expediter.core import hooks, periodic
        from expediter.routing import tasks

        hooks.listen("ticket.event", tasks.on_ticket_event, after_commit=True)
        periodic.register(
            "routing.pull",
            every_seconds=30,
            enqueue=lambda: tasks.routing_sweep_task.enqueue(),
        )
