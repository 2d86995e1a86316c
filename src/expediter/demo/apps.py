from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "expediter.demo"
    label = "demo"
