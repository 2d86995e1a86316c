from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "expediter.staff"
    label = "staff"
    verbose_name = "People and teams"
