from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "expediter.schedules"
    label = "schedules"
    verbose_name = "Schedules"
