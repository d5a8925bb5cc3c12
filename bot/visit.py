"""The visit of the update being handled: read once, before any handler, by the processor.

A ContextVar (as aiogram's middlewares hand data to handlers): the processor sets it in the
update's own task, and the handlers of that update, running in the same task, read it.
"""

from __future__ import annotations

from contextvars import ContextVar

from storage.repository import Visit

_visit: ContextVar[Visit | None] = ContextVar("visit", default=None)


def current_visit() -> Visit | None:
    """The visit of the update being handled (None outside of one, or for an update without
    a person, such as a channel post)."""
    return _visit.get()


def set_visit(visit: Visit | None) -> None:
    """Set by the processor before the update's handlers run."""
    _visit.set(visit)
