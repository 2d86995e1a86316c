from django.apps import AppConfig

REMINDER_JOB_SECONDS = 600


class AppointmentsConfig(AppConfig):
    name = "expediter.appointments"
    label = "appointments"
    verbose_name = "Appointments"

    def ready(self) -> None:
        from expediter.appointments import tasks
        from expediter.core import periodic

        periodic.register(
            "appointments.reminders",
            every_seconds=REMINDER_JOB_SECONDS,
            enqueue=lambda: tasks.appointment_reminders.enqueue(),
        )
