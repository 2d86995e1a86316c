from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "expediter.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from expediter.core import hooks, periodic
        from expediter.routing import tasks

        hooks.listen(
            "ticket.event", tasks.on_ticket_event, after_commit=True, when=tasks.wants_event
        )
        _watch_roster()
        periodic.register(
            "routing.pull",
            every_seconds=30,
            enqueue=lambda: tasks.routing_sweep_task.enqueue(),
        )


def _watch_roster() -> None:
    """Every save or delete of what a routing roster holds replaces the roster's token.

    Signals rather than calls in the services, so that the admin, the
    commands and any future writer are covered too.
    """
    from django.db.models.signals import post_delete, post_save

    from expediter.routing.selectors import roster
    from expediter.schedules.models import ExtraShift, Shift, TimeOff
    from expediter.staff.models import AgentSkill, Skill, Team, TeamMembership, User
    from expediter.tickets.models import ServiceSkill

    post_save.connect(roster.user_saved, sender=User, dispatch_uid="roster-user")
    post_delete.connect(roster.roster_changed, sender=User, dispatch_uid="roster-user")
    watched = (Team, TeamMembership, AgentSkill, Skill, Shift, ExtraShift, TimeOff, ServiceSkill)
    for model in watched:
        uid = f"roster-{model._meta.label_lower}"
        post_save.connect(roster.roster_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(roster.roster_changed, sender=model, dispatch_uid=uid)
