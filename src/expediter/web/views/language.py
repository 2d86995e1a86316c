"""Switching the language of the pages, for visitors and signed-in people alike."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from expediter.staff.services import user_set_language
from expediter.web.forms.language import LanguageForm
from expediter.web.middleware import LANGUAGE_COOKIE
from expediter.web.views._support import current_user

ONE_YEAR = 365 * 24 * 3600


def set_language_cookie(request: HttpRequest, response: HttpResponse, language: str) -> None:
    """The cookie the language middleware reads first (it runs before authentication)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=ONE_YEAR,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )


def _back(request: HttpRequest, candidate: str) -> str:
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("web:home")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseRedirect(_back(request, request.POST.get("next", "")))
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        user_set_language(user=current_user(request), language=language)
    response = HttpResponseRedirect(_back(request, form.cleaned_data["next"]))
    set_language_cookie(request, response, language)
    return response
