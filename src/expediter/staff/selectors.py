"""Reads about people."""

from __future__ import annotations

from django.db.models import QuerySet

from expediter.staff.models import STAFF_ROLES, User


def agents_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=STAFF_ROLES)


def user_by_phone(*, phone: str) -> User | None:
    from expediter.staff.services import normalise_phone

    number = normalise_phone(phone)
    if not number:
        return None
    return User.objects.filter(phone=number).order_by("id").first()


def team_ids_of(user: User) -> list[int]:
    return list(user.memberships.values_list("team_id", flat=True))
