"""Sentences from modules that run without Django, said in the reader's language.

The pure modules (weekly hours, business time, availability, the visit
planner) must work without Django's settings and stay language-neutral, so
they cannot translate. They mark each sentence for the catalogue with this
module's :func:`gettext_noop` and build it as a :class:`Wording`: a ``str``
holding the English sentence, so logs, command output and comparisons read
as before, that also remembers its template and values. The service that
hands the sentence to a person calls :func:`translated`, which says it in the
language active for that request.
"""

from __future__ import annotations

from django.utils.translation import gettext


def gettext_noop(message: str) -> str:
    """Mark ``message`` for the catalogue; ``makemessages`` finds it by this name.

    Django's own ``gettext_noop`` reads the settings, which the pure modules
    may run without (benchmarks, the simulator's scenario files).
    """
    return message


class Wording(str):
    """The English sentence ``template % values``, kept translatable."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Wording:
        wording = super().__new__(cls, template % values if values else template)
        wording.template = template
        wording.values = values
        return wording


def translated(text: str) -> str:
    """``text`` in the active language when it is a :class:`Wording` (values too)."""
    if not isinstance(text, Wording):
        return text
    template = gettext(text.template)
    if not text.values:
        return template
    values = {
        name: translated(value) if isinstance(value, str) else value
        for name, value in text.values.items()
    }
    return template % values


def wording_of(error: Exception) -> str:
    """An exception's message, as the :class:`Wording` it was raised with when it was one."""
    message = error.args[0] if len(error.args) == 1 else None
    return message if isinstance(message, Wording) else str(error)


def translated_error(error: Exception) -> str:
    """An exception's message in the active language when it was raised as a :class:`Wording`."""
    return translated(wording_of(error))
