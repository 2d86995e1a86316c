"""WSGI entry point used by ``expediter serve``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expediter.config.settings")
application = get_wsgi_application()
