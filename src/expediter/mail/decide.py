"""What intake does with a parsed message: the rules, as a pure function.

Every input is a plain fact the intake service has looked up (the message's
classification, which ticket it threads to and how, who the sender is to that
ticket); the answer says what to record and whether anyone may be mailed
back. Kept free of the database so the security rules (a guessable ticket
number never lets a stranger post publicly or become a watcher; nothing
automatic is ever answered) are tested exhaustively in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["create", "append", "ignore", "quarantine"]
JoinedBy = Literal["headers", "token", "bounce"]
ArticleKind = Literal["message", "auto_reply", "bounce", "unknown_sender"]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the intake knows about one message before acting on it."""

    kind: str  # the classification: normal, auto_reply, bounce, bulk, loop
    quarantine_reason: str | None = None
    duplicate_reason: str | None = None
    own_message: bool = False  # its Message-ID is one we sent
    joined_by: JoinedBy | None = None  # how it threads to a ticket, if it does
    sender_is_requester: bool = False
    sender_is_watcher: bool = False
    sender_is_agent: bool = False
    released: bool = False  # an administrator asked for it to be processed anyway


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str | None = None
    article_kind: ArticleKind = "message"
    internal: bool = False
    changes_state: bool = True
    sender_becomes_watcher: bool = False
    cc_become_watchers: bool = False
    acknowledge: bool = False
    mark_bounced: bool = False


def decide(facts: Facts) -> Decision:
    """The rules of the contract's "Mail" section, most defensive first."""
    if facts.quarantine_reason:
        return Decision("quarantine", reason=facts.quarantine_reason)
    if facts.released:
        # An administrator read it and wants it handled as a person's message.
        return _threaded(facts) if facts.joined_by else _unthreaded(facts)
    if facts.duplicate_reason:
        return Decision("ignore", reason=facts.duplicate_reason)
    if facts.own_message or facts.kind == "loop":
        return Decision("ignore", reason="the desk's own mail came back")
    if facts.kind == "bounce":
        return _bounce(facts)
    if facts.joined_by is None:
        return _unthreaded(facts)
    return _threaded(facts)


def _bounce(facts: Facts) -> Decision:
    if facts.joined_by is None:
        return Decision(
            "ignore", reason="a delivery failure report about no known ticket", mark_bounced=True
        )
    return Decision(
        "append",
        article_kind="bounce",
        internal=True,
        changes_state=False,
        mark_bounced=True,
    )


def _unthreaded(facts: Facts) -> Decision:
    if facts.kind == "normal" or facts.released:
        return Decision(
            "create",
            cc_become_watchers=True,
            acknowledge=facts.kind == "normal" and not facts.own_message,
        )
    labels = {"auto_reply": "an automatic reply", "bulk": "bulk or list mail"}
    return Decision("ignore", reason=f"{labels.get(facts.kind, facts.kind)} joining no ticket")


def _threaded(facts: Facts) -> Decision:
    known = facts.sender_is_requester or facts.sender_is_watcher
    by_headers = facts.joined_by == "headers"
    if facts.kind == "auto_reply" and not facts.released:
        return Decision("append", article_kind="auto_reply", internal=True, changes_state=False)
    if not by_headers and not known and not facts.sender_is_agent:
        return Decision("append", article_kind="unknown_sender", internal=True, changes_state=False)
    if facts.sender_is_agent and not facts.sender_is_requester:
        # A From header proves nothing: an agent's address alone never speaks
        # to the requester; only a real reply to a desk message does.
        return Decision("append", internal=not by_headers, changes_state=by_headers)
    return Decision(
        "append",
        sender_becomes_watcher=by_headers and not known,
        cc_become_watchers=by_headers,
    )
