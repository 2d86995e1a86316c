"""Every change a ticket can undergo: ``grep "^def ticket_\\|^def article_\\|^def worklog_"``."""

from expediter.tickets.services.articles import ArticleOrigin, article_add
from expediter.tickets.services.attachments import NewAttachment, attachments_store
from expediter.tickets.services.links import link_create, ticket_link, ticket_merge
from expediter.tickets.services.tickets import (
    Opened,
    TicketChanges,
    assignee_change,
    matrix_priority,
    status_change,
    ticket_add_watcher,
    ticket_add_watchers,
    ticket_assign,
    ticket_create,
    ticket_open,
    ticket_raise_priority,
    ticket_set_status,
    ticket_set_tags,
    ticket_update,
)
from expediter.tickets.services.worklogs import worklog_add

__all__ = [
    "ArticleOrigin",
    "NewAttachment",
    "Opened",
    "TicketChanges",
    "article_add",
    "assignee_change",
    "attachments_store",
    "link_create",
    "matrix_priority",
    "status_change",
    "ticket_add_watcher",
    "ticket_add_watchers",
    "ticket_assign",
    "ticket_create",
    "ticket_link",
    "ticket_merge",
    "ticket_open",
    "ticket_raise_priority",
    "ticket_set_status",
    "ticket_set_tags",
    "ticket_update",
    "worklog_add",
]
