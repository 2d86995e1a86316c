"""What every page view shares: access gates, htmx answers, domain errors as form errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from expediter.core.errors import DomainError, NotFound
from expediter.staff import policies
from expediter.staff.models import User

T = TypeVar("T")
View = Callable[..., HttpResponseBase]


def current_user(request: HttpRequest) -> User:
    """The signed-in person (the views that call this are behind ``login_required``)."""
    return cast(User, request.user)


def is_htmx(request: HttpRequest) -> bool:
    """An htmx swap; a history restore wants the whole page like a plain visit."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def not_found_as_404(view: View) -> View:
    """A ticket the person may not see answers exactly like a missing one."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from None

    return wrapper


def agent_required(view: View) -> View:
    """Pages for the people who work tickets; 404s from hidden tickets included."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not policies.is_agent(current_user(request)):
            raise PermissionDenied(_("This page is for the service desk staff."))
        return view(request, *args, **kwargs)

    return cast(View, login_required(not_found_as_404(wrapper)))


def member_required(view: View) -> View:
    """Pages for every signed-in person (the portal), hidden tickets as 404."""
    return cast(View, login_required(not_found_as_404(view)))


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """Go to another page; htmx is told to navigate rather than swap the page in."""
    if is_htmx(request):
        return HttpResponse(status=200, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


Explain = Callable[[DomainError], str]


def add_domain_error(
    form: forms.Form,
    error: DomainError,
    field_names: Mapping[str, str] | None = None,
    explain: Explain | None = None,
) -> None:
    """Show a service's refusal on the form, next to the field it names when there is one.

    ``explain`` words the refusal for the page where the view knows better
    than the service's own message (which is written for the API and logs).
    """
    field = (field_names or {}).get(error.field or "", error.field)
    message = explain(error) if explain is not None else error.detail
    form.add_error(field if field in form.fields else None, message)


def attempt(
    form: forms.Form,
    action: Callable[[], T],
    field_names: Mapping[str, str] | None = None,
    explain: Explain | None = None,
) -> T | None:
    """Run one service call; a refusal becomes a form error and the answer None.

    ``NotFound`` goes on up: a ticket that vanished or is hidden is a 404.
    """
    try:
        return action()
    except NotFound:
        raise
    except DomainError as error:
        add_domain_error(form, error, field_names, explain)
        return None


@dataclass(frozen=True)
class FormFailure:
    """How to answer a form that did not go through."""

    partial: str  # the template partial that holds the form
    target_id: str  # the element the partial replaces


def render_form_failure(
    request: HttpRequest,
    *,
    template: str,
    failure: FormFailure,
    context: Mapping[str, Any],
) -> HttpResponse:
    """htmx gets the form partial back in place; a plain POST gets the whole page.

    422 either way, so clients and tests can tell a refused form from a page.
    """
    if not is_htmx(request):
        return render(request, template, context, status=422)
    response = render(request, f"{template}#{failure.partial}", context, status=422)
    response["HX-Retarget"] = f"#{failure.target_id}"
    response["HX-Reswap"] = "outerHTML"
    return response
