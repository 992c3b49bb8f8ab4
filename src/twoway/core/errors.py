"""Errors a person can act on: each carries a message meant to be shown as it is."""

from __future__ import annotations


class TwowayError(Exception):
    """Base for errors shown to the user; `code` is stable for the API."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(TwowayError):
    """Missing, or in another organization: the two look the same from outside."""

    code = "not_found"
    status = 404


class PermissionDenied(TwowayError):
    code = "forbidden"
    status = 403


class InvalidInput(TwowayError):
    code = "invalid"
    status = 400


class Conflict(TwowayError):
    """The request is fine but what it acts on has moved on (a scheduled text already sent)."""

    code = "conflict"
    status = 409
