"""`--show`: draw the denoising live — givens, committed and retracted cells, step and loop counters — with the
kind's own drawing of a step (`Terminal.live`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from cli import render
from cli.common import console

FRAME_DELAY = 0.12  # seconds per step, so a person can follow the grid filling in


@contextmanager
def live(solver, puzzle) -> Iterator[Callable]:
    """Draw `puzzle` as the solver starts it, then yield the `on_step` callback to solve it with: each step
    redraws the kind's drawing of it under a step/loops/commits/retractions header, the kind's legend below."""
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    terminal = solver.task.terminal
    legend = Text.assemble(*((piece, style or None) for piece, style in terminal.legend))
    totals = {"commits": 0, "retractions": 0}

    def frame(values, committed_now, retracted_now, step, loops, chain=0) -> Group:
        head = f"chain {chain}'s answer, after its step {step}" if chain else f"step {step}  loops {loops}"
        header = Text(f"{head}  commits {totals['commits']}  retractions {totals['retractions']}")
        drawn = render.text(terminal.live(puzzle, np.asarray(values).reshape(-1), np.asarray(committed_now).reshape(-1),
                                          np.asarray(retracted_now).reshape(-1)))
        return Group(header, drawn, legend)

    start, shape = solver.task.encode(puzzle)
    empty = np.zeros(start.shape, bool)
    with Live(frame(start, empty, empty, 0, solver.plan(shape, start).loops),
              console=console, refresh_per_second=30, transient=False, redirect_stderr=False) as view:
        def on_step(state) -> None:
            totals["commits"] += int(state.committed_now.sum())
            totals["retractions"] += int(state.retracted_now.sum())
            view.update(frame(state.values, state.committed_now, state.retracted_now, state.step, state.loops,
                              state.chain))
            time.sleep(FRAME_DELAY)

        yield on_step
