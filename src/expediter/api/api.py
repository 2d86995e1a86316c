"""The ``/api/v1`` application: bearer auth, problem+json errors, routers."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from expediter.api.auth import BearerToken
from expediter.api.problems import problem, validation_problem
from expediter.api.routers import attachments, tickets, worklogs
from expediter.core.errors import DomainError, NotPermitted

api = NinjaAPI(
    title="Expediter API",
    version="1.0.0",
    description="The service desk's HTTP API: tickets, conversation, history, work.",
    auth=BearerToken(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra = {"field": exc.field} if exc.field else {}
    if isinstance(exc, NotPermitted):
        return problem(403, exc.title, exc.detail, **extra)
    return problem(exc.status, exc.title, exc.detail, **extra)


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return validation_problem(request, list(exc.errors))


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(401, "Unauthorized", _("a valid bearer token is required"))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, "Not found", _("not found"))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, "Error", str(exc))


api.add_router("", tickets.router)
api.add_router("", worklogs.router)
api.add_router("", attachments.router)

from expediter.api.routers import telephony as telephony_router  # noqa: E402

api.add_router("", telephony_router.router)

from expediter.api.routers import appointments as appointments_router  # noqa: E402

api.add_router("", appointments_router.router)

from expediter.api.routers import sla as sla_router  # noqa: E402

api.add_router("", sla_router.router)

from expediter.api.routers import mail as mail_router  # noqa: E402

api.add_router("", mail_router.router)
