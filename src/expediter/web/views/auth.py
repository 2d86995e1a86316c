"""Signing in and out, and resetting a forgotten password.

Every failure gives the same answer whether the account exists or not, and
repeated failures are slowed down per address and account. Reset links are
built on ``settings.BASE_URL``, never on the ``Host`` header a client sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from expediter.staff.models import User
from expediter.web import ratelimit
from expediter.web.forms.auth import DeskPasswordResetForm, LoginForm
from expediter.web.views.language import set_language_cookie


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in: ``next`` when it stays on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("web:home")


def _authenticate(request: HttpRequest, form: LoginForm) -> User | None:
    """The person behind the credentials, unless too many attempts failed lately."""
    email = form.cleaned_data["email"].strip().lower()
    address = ratelimit.client_address(request)
    if ratelimit.LOGIN_PER_ACCOUNT.exceeded(address, email) or (
        ratelimit.LOGIN_PER_ADDRESS.exceeded(address)
    ):
        form.add_error(None, _("Too many failed attempts. Please try again in 15 minutes."))
        return None
    user = authenticate(request, username=email, password=form.cleaned_data["password"])
    if user is None:
        ratelimit.LOGIN_PER_ACCOUNT.hit(address, email)
        ratelimit.LOGIN_PER_ADDRESS.hit(address)
        form.add_error(None, _("This email and password do not match an active account."))
        return None
    ratelimit.LOGIN_PER_ACCOUNT.reset(address, email)
    return user  # type: ignore[return-value]


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method != "POST":
        return redirect(_next_url(request))
    form = LoginForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        user = _authenticate(request, form)
        if user is not None:
            login(request, user)
            response = HttpResponseRedirect(_next_url(request))
            set_language_cookie(request, response, user.language)
            return response
    context = {"form": form, "next": _next_url(request)}
    return render(request, "web/auth/login.html", context, status=422 if form.errors else 200)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, rate-limited, with links on the configured base URL."""

    form_class = DeskPasswordResetForm
    template_name = "web/auth/password_reset_form.html"
    email_template_name = "web/auth/password_reset_email.txt"
    subject_template_name = "web/auth/password_reset_subject.txt"
    success_url = reverse_lazy("web:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        address = ratelimit.client_address(self.request)
        # Over the limit, the answer is the same page, just without a message sent.
        if not (
            ratelimit.RESET_PER_ACCOUNT.exceeded(email)
            or ratelimit.RESET_PER_ADDRESS.exceeded(address)
        ):
            ratelimit.RESET_PER_ACCOUNT.hit(email)
            ratelimit.RESET_PER_ADDRESS.hit(address)
            base = urlsplit(settings.BASE_URL)
            form.save(
                domain_override=base.netloc,
                use_https=base.scheme == "https",
                token_generator=self.token_generator,
                from_email=settings.DEFAULT_FROM_EMAIL,
                email_template_name=self.email_template_name,
                subject_template_name=self.subject_template_name,
                request=self.request,
                extra_email_context={"base_url": settings.BASE_URL},
            )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/auth/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/auth/password_reset_confirm.html"
    success_url = reverse_lazy("web:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/auth/password_reset_complete.html"
