"""Classification of inbound mail: normal, auto-reply, bounce, bulk or loop."""

from expediter.mail.classify.rules import Classification, Kind, classify

__all__ = ["Classification", "Kind", "classify"]
