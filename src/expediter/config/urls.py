"""Top-level routes: the pages, the API and the configuration admin."""

from django.contrib import admin
from django.urls import include, path

from expediter.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("expediter.web.urls")),
]
