from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "expediter.telephony"
    label = "telephony"
    verbose_name = "Phone"
