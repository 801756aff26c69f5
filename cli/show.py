"""`--show`: draw the denoising live — givens, committed and retracted cells, step and loop counters."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from cli import render
from cli.common import console

FRAME_DELAY = 0.12  # seconds per step, so a person can follow the grid filling in


@contextmanager
def _live(solver, puzzle, draw: Callable, legend) -> Iterator[Callable]:
    """Draw `puzzle` as the solver starts it, then yield the `on_step` callback to solve it with: each step
    redraws `draw(values, committed_now, retracted_now)` under a step/loops/commits/retractions header."""
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    totals = {"commits": 0, "retractions": 0}

    def frame(values, committed_now, retracted_now, step, loops, chain=0) -> Group:
        head = f"chain {chain}'s answer, after its step {step}" if chain else f"step {step}  loops {loops}"
        header = Text(f"{head}  commits {totals['commits']}  retractions {totals['retractions']}")
        return Group(header, draw(values, committed_now, retracted_now), legend)

    start, shape = solver.task.encode(puzzle)
    empty = np.zeros(start.shape, bool)
    with Live(frame(start, empty, empty, 0, solver.plan(shape, start).loops),
              console=console, refresh_per_second=30, transient=False, redirect_stderr=False) as live:
        def on_step(state) -> None:
            totals["commits"] += int(state.committed_now.sum())
            totals["retractions"] += int(state.retracted_now.sum())
            live.update(frame(state.values, state.committed_now, state.retracted_now, state.step, state.loops,
                              state.chain))
            time.sleep(FRAME_DELAY)

        yield on_step


def sudoku_live(puzzle: np.ndarray, solver):
    """A context yielding the `on_step` that redraws one Sudoku grid after every step of `solver`."""
    from rich.text import Text

    legend = Text.assemble(("given", "bold white"), "  ", ("committed", "cyan"), "  ",
                           ("just committed", "bold green"), "  ", ("retracted", "bold red"))

    def draw(values, committed_now, retracted_now):
        styles = {int(i): "bold green" for i in np.flatnonzero(committed_now)}
        styles.update({int(i): "bold red" for i in np.flatnonzero(retracted_now)})
        return render.sudoku(puzzle, values, styles)

    return _live(solver, puzzle, draw, legend)


def maze_live(maze, solver):
    """A context yielding the `on_step` that redraws one maze after every step of `solver`."""
    from rich.text import Text

    legend = Text.assemble(("path", "bold yellow"), "  ", ("just committed", "bold green"), "  ",
                           ("retracted", "bold red"))
    h, w = maze.shape
    on = solver.task.ON  # the value of an on-path cell

    def cells(flags) -> list[tuple[int, int]]:
        return [divmod(int(i), w) for i in np.flatnonzero(flags)]

    def draw(values, committed_now, retracted_now):
        styles = {c: "on green" for c in cells(committed_now & (values.reshape(-1) == on))}
        styles.update({c: "on red" for c in cells(retracted_now)})
        return render.maze(maze, values.reshape(h, w) == on, styles)

    return _live(solver, maze, draw, legend)
