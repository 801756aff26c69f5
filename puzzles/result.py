"""What every solver, exact or neural, returns for one puzzle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# why a puzzle has no answer to give, in every kind's words (a Result's `error`, a task's `screen` and `explain`)
NO_SOLUTION = "no solution"
SEVERAL_SOLUTIONS = "more than one solution"


@dataclass
class Result:
    """One puzzle's outcome. `solved` is only ever true for a verified solution.

    puzzle/solution are text: Sudoku as 81 characters, a maze as its rows joined
    by newlines with `o` on the path. `extra` holds solver-specific counters
    (steps, commits, retractions, loops, ...). `error` says why it is unsolved.
    """

    task: str
    solver: str
    puzzle: str
    solution: str | None
    verified: bool
    seconds: float
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.verified

    def to_json(self) -> dict[str, Any]:
        out = {
            "task": self.task,
            "solver": self.solver,
            "puzzle": self.puzzle,
            "solution": self.solution,
            "solved": self.solved,
            "verified": self.verified,
            "seconds": round(self.seconds, 6),
        }
        if self.error:
            out["error"] = self.error
        out.update(self.extra)
        return out
