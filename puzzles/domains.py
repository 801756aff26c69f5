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

import numpy as np

from puzzles.contract import Structure, neural
from puzzles.errors import UserError
from puzzles.kakuro.task import KakuroTask
from puzzles.maze.task import MazeTask
from puzzles.sudoku.task import SudokuTask

__all__ = ["DEFAULT", "Structure", "TASKS", "get_task", "per_puzzle", "structure_of"]

TASKS = {
    "sudoku": SudokuTask,
    "maze": MazeTask,
    "kakuro": KakuroTask,
}
DEFAULT = next(iter(TASKS))  # the task a command takes when none is named (`csp bench`, `csp train`)


def get_task(name: str, train_size: int | None = None):
    """The task `name`; `train_size` sets the training grid side of a task of several sizes (mazes, Kakuro;
    Sudoku has one size)."""
    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    if train_size is None:
        return TASKS[name]()
    task = TASKS[name]
    if not (neural(task) and task.TRAIN_SIZE):
        raise UserError("a training grid size applies to tasks of several sizes only (mazes, Kakuro)")
    if not 5 <= train_size <= task.MAX_SIDE:
        raise UserError(f"a {name} training grid's side must be 5 to {task.MAX_SIDE}, got {train_size}")
    return task(train_size)


def per_puzzle(task) -> bool:
    """Whether `task`'s structure differs per puzzle: `task.structure(shape, values)` reads each encoded grid's
    own (Kakuro); else `task.structure(shape)` serves every grid of a shape (Sudoku, mazes)."""
    return task.structure_per_puzzle


def structure_of(task, shape, puzzles: np.ndarray) -> Structure:
    """The Structure a decoder runs `puzzles` (encoded, (P, T)) under: the task's for `shape`, or where it
    differs per puzzle, the one puzzle's (such a task's puzzles are decoded one at a time: models.decoder)."""
    if not per_puzzle(task):
        return task.structure(shape)
    if len(puzzles) != 1:
        raise ValueError(f"{task.name} puzzles each have their own structure: decode them one at a time")
    return task.structure(shape, np.asarray(puzzles)[0])
