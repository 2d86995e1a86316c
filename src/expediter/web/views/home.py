"""The root of the site sends each person where their work is."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from expediter.staff import policies
from expediter.web.views._support import current_user


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:login")
    if policies.is_agent(current_user(request)):
        return redirect("web:queue", name="mine")
    return redirect("web:portal")
