"""OR-tools' CP-SAT, imported when a cpsat solver first runs (a machine without OR-tools still reads,
generates and checks puzzles; the device machine lacks it)."""

from __future__ import annotations

from puzzles.errors import UserError


def cp_model():
    """OR-tools' cp_model module; a UserError when OR-tools is missing."""
    try:
        from ortools.sat.python import cp_model
    except ImportError:  # pragma: no cover - depends on the machine
        raise UserError("the cpsat solver needs OR-tools: pip install ortools") from None
    return cp_model
