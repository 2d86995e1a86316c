"""Writes about people, teams, skills and tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import Conflict, InvalidInput
from expediter.core.rows import first_instance, insert, selected_columns
from expediter.staff.models import (
    AgentSkill,
    ApiToken,
    AssignmentPolicy,
    Organisation,
    Role,
    Site,
    Skill,
    Team,
    TeamMembership,
    User,
)

_SKILL_ITEM = re.compile(r"^\s*([\w.+-]+)\s*:\s*(\d)\s*$")


def parse_skills(spec: str) -> dict[str, int]:
    """``net:4,windows:2`` -> ``{"net": 4, "windows": 2}``; levels must be 1-5."""
    skills: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        match = _SKILL_ITEM.match(item)
        if not match:
            raise InvalidInput(_("'%(item)s' is not NAME:LEVEL") % {"item": item}, field="skills")
        level = int(match.group(2))
        if not 1 <= level <= 5:
            raise InvalidInput(
                _("skill level of '%(skill)s' must be 1-5") % {"skill": match.group(1)},
                field="skills",
            )
        skills[match.group(1).lower()] = level
    return skills


def normalise_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("'%(email)s' is not an email address") % {"email": email}, field="email"
        ) from None
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def team_get_or_create(*, name: str) -> Team:
    name = name.strip()
    if not name:
        raise InvalidInput(_("a team needs a name"), field="team")
    team = Team.objects.filter(name__iexact=name).first()
    return team or Team.objects.create(name=name)


def team_set_policy(*, team_name: str, policy: str) -> Team:
    if policy not in AssignmentPolicy.values:
        raise InvalidInput(
            _("unknown policy '%(policy)s' (use %(known)s)")
            % {"policy": policy, "known": ", ".join(AssignmentPolicy.values)},
            field="policy",
        )
    team = Team.objects.filter(name__iexact=team_name).first()
    if team is None:
        raise InvalidInput(_("no team named '%(name)s'") % {"name": team_name}, field="team")
    team.assignment_policy = policy
    team.save(update_fields=["assignment_policy"])
    return team


def organisation_get_or_create(*, name: str) -> Organisation:
    org = Organisation.objects.filter(name__iexact=name.strip()).first()
    return org or Organisation.objects.create(name=name.strip())


def skill_get_or_create(*, name: str) -> Skill:
    skill, _ = Skill.objects.get_or_create(name=name.strip().lower())
    return skill


def site_create(
    *, name: str, latitude: float | None, longitude: float | None, address: str = ""
) -> Site:
    if latitude is not None and not -90 <= latitude <= 90:
        raise InvalidInput(_("latitude must be between -90 and 90"), field="lat")
    if longitude is not None and not -180 <= longitude <= 180:
        raise InvalidInput(_("longitude must be between -180 and 180"), field="lon")
    site, _created = Site.objects.update_or_create(
        name=name.strip(),
        defaults={"latitude": latitude, "longitude": longitude, "address": address},
    )
    return site


def site_get_or_create(*, name: str) -> Site:
    site = Site.objects.filter(name__iexact=name.strip()).first()
    return site or Site.objects.create(name=name.strip())


@transaction.atomic
def user_create(
    *,
    email: str,
    name: str,
    role: str = Role.REQUESTER,
    teams: Sequence[str] = (),
    skills: Mapping[str, int] | None = None,
    capacity: int | None = None,
    phone: str = "",
    organisation: str | None = None,
    site: str | None = None,
    language: str = "en",
    password: str | None = None,
    time_zone: str = "",
) -> User:
    """Create a person; teams, skills and organisations named are created if missing."""
    email = normalise_email(email)
    if role not in Role.values:
        raise InvalidInput(_("unknown role '%(role)s'") % {"role": role}, field="role")
    if language not in {"en", "fr"}:
        raise InvalidInput(_("language must be en or fr"), field="language")
    if capacity is not None and capacity < 0:
        raise InvalidInput(_("capacity cannot be negative"), field="capacity")
    if not name.strip():
        raise InvalidInput(_("a person needs a name"), field="name")
    if User.objects.with_email(email).exists():
        raise Conflict(
            _("a user with email %(email)s already exists") % {"email": email}, field="email"
        )
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        phone=normalise_phone(phone),
        language=language,
        time_zone=time_zone,
        capacity=8 if capacity is None else capacity,
    )
    if organisation:
        user.organisation = organisation_get_or_create(name=organisation)
    if site:
        user.site = site_get_or_create(name=site)
    if password:
        user.set_password(password)
    else:
        user.password = unusable_password()
    user.save()
    for index, team_name in enumerate(teams):
        TeamMembership.objects.get_or_create(
            user=user, team=team_get_or_create(name=team_name), defaults={"is_primary": index == 0}
        )
    agent_set_skills(agent=user, skills=skills or {})
    return user


def agent_set_skills(*, agent: User, skills: Mapping[str, int]) -> None:
    for name, level in skills.items():
        if not 1 <= int(level) <= 5:
            raise InvalidInput(
                _("skill level of '%(skill)s' must be 1-5") % {"skill": name}, field="skills"
            )
        AgentSkill.objects.update_or_create(
            agent=agent, skill=skill_get_or_create(name=name), defaults={"level": int(level)}
        )


def requester_get_or_create(*, email: str, name: str = "", language: str = "en") -> User:
    """The requester behind an address, created on first contact (email, phone, API)."""
    email = normalise_email(email)
    user = User.objects.by_email(email)
    if user is not None:
        return user
    user = User(email=email, name=name.strip() or email.split("@")[0], role=Role.REQUESTER)
    user.language = language if language in {"en", "fr"} else "en"
    user.password = unusable_password()
    return insert(user)


def unusable_password() -> str:
    """What ``set_unusable_password()`` stores: the ``!`` prefix, then random text.

    Drawn in one call: Django's draws each of its forty characters apart,
    which costs more than the rest of creating a requester on first contact.
    """
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def user_set_language(*, user: User, language: str) -> User:
    if language not in {"en", "fr"}:
        raise InvalidInput(_("language must be en or fr"), field="language")
    user.language = language
    user.save(update_fields=["language"])
    return user


def normalise_phone(phone: str) -> str:
    """Digits with a leading + kept, so lookups by caller number match."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    plus = phone.startswith("+")
    digits = re.sub(r"\D", "", phone)
    return ("+" if plus else "") + digits


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user: User, label: str = "") -> str:
    """Create a token and return its secret; only the digest is kept."""
    secret = "exp_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=_digest(secret), label=label)
    return secret


def token_authenticate(*, secret: str) -> User | None:
    """The active user behind a bearer secret, or None."""
    if not secret:
        return None
    found = first_instance(User, _token_lookup_sql(), [_digest(secret.strip())])
    if found is None or not found[0].is_active:
        return None
    user, (token_id, last_used) = found
    now = clock.now()
    last_used = _aware(last_used)
    if last_used is None or (now - last_used).total_seconds() > 300:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


@functools.cache
def _token_lookup_sql() -> str:
    """One statement for the user behind a token digest, built once per process.

    Every API request starts here. The ORM's select-related query built
    afresh on each call cost about ten times the statement it runs; the same
    join written once, its row turned into a user by ``first_instance``
    (which still converts the user's fields), keeps the lookup off every
    request's bill.
    """
    quote = connection.ops.quote_name
    users, tokens = User._meta, ApiToken._meta
    columns = selected_columns(User, "u")
    # Only the models' own table and column names are spliced in, each quoted.
    return (
        f"SELECT {columns}, t.{quote(tokens.pk.column)} AS token_id, "  # noqa: S608
        f"t.{quote(tokens.get_field('last_used_at').column)} AS token_last_used_at "
        f"FROM {quote(tokens.db_table)} t "
        f"INNER JOIN {quote(users.db_table)} u "
        f"ON u.{quote(users.pk.column)} = t.{quote(tokens.get_field('user').column)} "
        f"WHERE t.{quote(tokens.get_field('digest').column)} = %s"
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A raw column's timestamp (naive UTC on SQLite) as an aware datetime."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
