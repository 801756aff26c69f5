"""`--show`: draw the denoising live — givens, committed and retracted cells, step and loop counters."""

from __future__ import annotations

import time

import numpy as np

from cli.common import console

FRAME_DELAY = 0.12  # seconds per step, so a person can follow the grid filling in


def sudoku_live(puzzle: np.ndarray, solver):
    """Solve one puzzle with a neural solver while redrawing the grid after every step; returns its Result."""
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from puzzles import sudoku

    legend = Text.assemble(("given", "bold white"), "  ", ("committed", "cyan"), "  ",
                           ("just committed", "bold green"), "  ", ("retracted", "bold red"))
    totals = {"commits": 0, "retractions": 0}

    def frame(values, committed_now, retracted_now, step, loops) -> Group:
        styles = {int(i): "bold green" for i in np.flatnonzero(committed_now)}
        styles.update({int(i): "bold red" for i in np.flatnonzero(retracted_now)})
        header = Text(f"step {step}  loops {loops}  commits {totals['commits']}  retractions {totals['retractions']}")
        return Group(header, sudoku.render(puzzle, values, styles), legend)

    with Live(frame(puzzle, np.zeros(81, bool), np.zeros(81, bool), 0, solver.config.loops),
              console=console, refresh_per_second=30, transient=False) as live:
        def on_step(state) -> None:
            totals["commits"] += int(state.committed_now.sum())
            totals["retractions"] += int(state.retracted_now.sum())
            live.update(frame(state.values, state.committed_now, state.retracted_now, state.step, state.loops))
            time.sleep(FRAME_DELAY)

        return next(iter(solver.solve([puzzle], on_step=on_step)))
