"""Conflicts: a request that the current state of a record forbids. Every kind is a `Conflict`; the API turns any of
them into one answer (dam/errors.py): 409 with `detail` and the kind's own fields (`state`, `allowed`, `status`)."""
from __future__ import annotations


class Conflict(Exception):
    """`detail` says what was refused and why; `fields` go into the 409 answer beside it."""

    def __init__(self, detail: str, **fields):
        self.detail, self.fields = detail, fields
        super().__init__(detail)


class TransitionConflict(Conflict):
    """The asked-for transition is not allowed from the asset's current state; `allowed` lists what is."""

    def __init__(self, asset, transition: str, detail: str | None = None):
        self.state = asset.state
        self.allowed = asset.manual_transitions()
        super().__init__(detail or f"Cannot {transition} asset {asset.hostname}: it is {asset.state}.",
                         state=self.state, allowed=self.allowed)


class RequestConflict(Conflict):
    """An isolation request that was decided already (approved, dismissed, superseded)."""

    def __init__(self, request, detail: str):
        self.request = request
        super().__init__(detail, status=request.status)


class TicketConflict(Conflict):
    """A repair ticket that is not in a status the step needs (resolving a closed ticket, say)."""

    def __init__(self, ticket, detail: str):
        self.ticket = ticket
        super().__init__(detail, status=ticket.status)
