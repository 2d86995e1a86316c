"""Where people are, for on-site work: a requester's site, an agent's home base.

``staff.services`` creates people with a site; moving someone later is
needed by the visits (and the demo), so it lives here until staff grows it.
"""

from __future__ import annotations

from expediter.staff.models import Site, User


def person_set_site(*, person: User, site: Site | None) -> User:
    """Where the person's on-site visits go (requester) or their day starts (agent)."""
    person.site = site
    person.save(update_fields=["site"])
    return person
