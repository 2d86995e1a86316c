from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "expediter.api"
    label = "api"
