from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "expediter.web"
    label = "web"
