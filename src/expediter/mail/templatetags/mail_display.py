"""Template tags for the ticket page: collapsed quotations and mail trouble.

``{% load mail_display %}`` then, in the article partial,
``{% collapsed_body article %}`` in place of the plain body (an email reply
shows what the sender just wrote, with quotations and signature folded under
a ``<details>``; the full text stays one click away), and on the ticket page
``{% mail_trouble ticket %}`` (outbound mail that failed, waits for a retry,
or was stopped because the address bounces).
"""

from __future__ import annotations

from typing import Any

from django import template

from expediter.mail import selectors
from expediter.tickets.models import Article, Channel, Ticket

register = template.Library()


@register.inclusion_tag("web/mail/_article_body.html")
def collapsed_body(
    article: Article, splits: dict[int, selectors.ReplySplit] | None = None
) -> dict[str, Any]:
    """``splits`` (from ``selectors.reply_splits``) spares one query per email article."""
    split = None
    if splits is not None:
        split = splits.get(article.pk)
    elif article.channel == Channel.EMAIL:
        split = selectors.reply_splits(articles=[article]).get(article.pk)
    return {"article": article, "split": split}


@register.inclusion_tag("web/mail/_outbound_trouble.html")
def mail_trouble(ticket: Ticket) -> dict[str, Any]:
    return {"messages": selectors.outbox_failures_of(ticket=ticket)}
