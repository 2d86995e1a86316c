"""People, teams, skills and places.

A single user model carries every role: requesters, agents, leads and admins
are all people who sign in with their email address. Leads are agents too.
"""

from __future__ import annotations

import functools

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from expediter.core.rows import first_instance, selected_columns


class Role(models.TextChoices):
    REQUESTER = "requester", _("Requester")
    AGENT = "agent", _("Agent")
    LEAD = "lead", _("Team lead")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = (Role.AGENT, Role.LEAD, Role.ADMIN)


class AssignmentPolicy(models.TextChoices):
    SKILLS = "skills", _("Skills, load and urgency")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    ROUND_ROBIN = "round_robin", _("Round robin")
    MANUAL = "manual", _("Manual")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    members_see_all_tickets = models.BooleanField(
        _("members see the organisation's tickets"), default=False
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A place: where a requester sits, or an agent's home base."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.TextField(_("address"), blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    assignment_policy = models.CharField(
        _("assignment policy"),
        max_length=20,
        choices=AssignmentPolicy.choices,
        default=AssignmentPolicy.SKILLS,
    )
    email = models.EmailField(_("team address"), blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    def with_email(self, email: str | None) -> models.QuerySet[User]:
        """People by address, whatever its case, through ``user_email_lower_idx``.

        ``email__iexact`` is a LIKE on SQLite and UPPER() on PostgreSQL, which
        no index serves: every sender of every mail scanned all people.
        """
        return self.alias(email_lower=Lower("email")).filter(
            email_lower=(email or "").strip().lower()
        )

    def by_email(self, email: str | None) -> User | None:
        """The person with this address, whatever its case: ``with_email(...).first()``.

        Every mail's sender is looked up, and building that query anew cost
        several times running it; this statement is built once per process.
        """
        found = first_instance(User, _email_lookup_sql(), [(email or "").strip().lower()])
        return None if found is None else found[0]

    def get_by_natural_key(self, username: str | None) -> User:
        return self.with_email(username).get()


@functools.cache
def _email_lookup_sql() -> str:
    """``with_email(...).first()`` written once: same index, same order (``Meta.ordering``)."""
    quote = connection.ops.quote_name
    return (
        f"SELECT {selected_columns(User, 'u')} FROM {quote(User._meta.db_table)} u "  # noqa: S608
        f"WHERE LOWER(u.{quote('email')}) = %s ORDER BY u.{quote('name')}, u.{quote('id')} LIMIT 1"
    )


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.REQUESTER)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=8)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), auto_now_add=True)
    teams: models.ManyToManyField[Team, TeamMembership] = models.ManyToManyField(
        Team, through="TeamMembership", related_name="members"
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = UserManager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(Lower("email"), name="user_email_lower_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_staff(self) -> bool:  # Django admin access: configuration is for admins
        return self.role == Role.ADMIN

    @property
    def is_agent(self) -> bool:
        """Agents, leads and admins work tickets."""
        return self.role in STAFF_ROLES

    @property
    def is_lead_or_admin(self) -> bool:
        return self.role in (Role.LEAD, Role.ADMIN)


class TeamMembership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="unique_team_membership")
        ]


class AgentSkill(models.Model):
    agent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="skill_levels")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agent_levels")
    level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="unique_agent_skill"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="agent_skill_level_1_5"
            ),
        ]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
