"""Exceptions meant for a user: bad input, not bugs.

The CLI turns any `UserError` into a single red line on stderr and exit code 2;
nothing else in the project is meant to reach a user as a traceback.
"""


class UserError(ValueError):
    """Base of every error whose message is one line meant for a user."""


class PuzzleError(UserError):
    """Malformed, contradictory or unusable puzzle input."""
