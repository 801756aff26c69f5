"""`--show`: draw the denoising live — givens, committed and retracted cells, step and loop counters."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from cli.common import console

FRAME_DELAY = 0.12  # seconds per step, so a person can follow the grid filling in


def _live(solver, puzzle, cells: int, shape, draw: Callable, legend):
    """Solve `puzzle` with `solver`, redrawing `draw(values, committed_now, retracted_now)` under a
    step/loops/commits/retractions header after every step; returns its Result."""
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    totals = {"commits": 0, "retractions": 0}

    def frame(values, committed_now, retracted_now, step, loops) -> Group:
        header = Text(f"step {step}  loops {loops}  commits {totals['commits']}  retractions {totals['retractions']}")
        return Group(header, draw(values, committed_now, retracted_now), legend)

    empty = np.zeros(cells, bool)
    start = solver.task.encode(puzzle)[0]
    with Live(frame(start, empty, empty, 0, solver.plan(shape, start).loops),
              console=console, refresh_per_second=30, transient=False) as live:
        def on_step(state) -> None:
            totals["commits"] += int(state.committed_now.sum())
            totals["retractions"] += int(state.retracted_now.sum())
            live.update(frame(state.values, state.committed_now, state.retracted_now, state.step, state.loops))
            time.sleep(FRAME_DELAY)

        return next(iter(solver.solve([puzzle], on_step=on_step)))


def sudoku_live(puzzle: np.ndarray, solver):
    """Solve one puzzle with a neural solver while redrawing the grid after every step; returns its Result."""
    from rich.text import Text

    from puzzles import sudoku

    legend = Text.assemble(("given", "bold white"), "  ", ("committed", "cyan"), "  ",
                           ("just committed", "bold green"), "  ", ("retracted", "bold red"))

    def draw(values, committed_now, retracted_now):
        styles = {int(i): "bold green" for i in np.flatnonzero(committed_now)}
        styles.update({int(i): "bold red" for i in np.flatnonzero(retracted_now)})
        return sudoku.render(puzzle, values, styles)

    return _live(solver, puzzle, 81, (9, 9), draw, legend)


def maze_live(maze, solver):
    """Solve one maze with a neural solver while redrawing it after every step; returns its Result."""
    from rich.text import Text

    from puzzles import maze as mz

    legend = Text.assemble(("path", "bold yellow"), "  ", ("just committed", "bold green"), "  ",
                           ("retracted", "bold red"))
    h, w = maze.shape

    def draw(values, committed_now, retracted_now):
        cells = lambda flags: [divmod(int(i), w) for i in np.flatnonzero(flags)]  # noqa: E731
        styles = {c: "on green" for c in cells(committed_now & (values.reshape(-1) == 2))}
        styles.update({c: "on red" for c in cells(retracted_now)})
        return mz.render(maze, values.reshape(h, w) == 2, styles)

    return _live(solver, maze, h * w, maze.shape, draw, legend)
