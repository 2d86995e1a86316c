from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "expediter.core"
    label = "core"

    def ready(self) -> None:
        from expediter.core import periodic, tasks

        periodic.register(
            "core.database_optimize",
            every_seconds=3600,
            enqueue=lambda: tasks.database_optimize_task.enqueue(),
        )
