from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "expediter.tickets"
    label = "tickets"
