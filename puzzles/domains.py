"""What a neural model may know about a puzzle: the domain interface, and the registry of kinds.

`TASKS` maps each kind's name to its task class, which lives in the kind's folder
(`puzzles/<kind>/task.py`); `puzzles/contract.py` writes down what a task supplies, and
`Structure`, the shape a model sees, is defined there too (re-exported here).

A task is everything the neural side and the benchmark know about one kind of puzzle:
it turns puzzles into integer grids for a model and back, supplies the structure of the
grid (which row/column/box each cell is in) and the constraint graph, names its kind of
constraint (the sampler's clash rules are keyed by it), checks grids (conflicts, verify),
makes training pairs and, where it has one, an execution trace to supervise; for
benchmarks it reads and generates puzzle sets, gives reference answers, scores answers,
screens out puzzles with no (unique) answer and runs its exact oracles.
`csp_diffusion` sees only this interface. Pure NumPy; never imports torch.

Value convention: 0 = unknown, 1..n_values = a value. Models predict
n_values classes; class k means value k + 1. A task may add input-only tokens
above n_values (`tokens` counts them all, MASK included): a marked given cell whose
value is the top class (mazes: START, the on-path end the walk begins at, so a
model can tell S from G). `classes` maps a grid back to plain values.
"""

from __future__ import annotations

from puzzles.contract import Structure
from puzzles.errors import UserError
from puzzles.kakuro.task import KakuroTask
from puzzles.maze.task import MazeTask
from puzzles.sudoku.task import SudokuTask

__all__ = ["Structure", "TASKS", "get_task"]

TASKS = {
    "sudoku": SudokuTask,
    "maze": MazeTask,
    "kakuro": KakuroTask,
}


def get_task(name: str, train_size: int | None = None):
    """The task `name`; `train_size` sets a maze task's training grid side (Sudoku has one size)."""
    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    if train_size is None:
        return TASKS[name]()
    task = TASKS[name]
    if not hasattr(task, "TRAIN_SIZE") or not 5 <= train_size <= task.MAX_SIDE:
        raise UserError("a training grid size applies to tasks of several sizes only (mazes), from 5 to "
                        f"{MazeTask.MAX_SIDE}")
    return task(train_size)
