"""The README's picture of the live view: one generated fiendish Sudoku solved by the shipped LoopMDM, three frames
of `csp solve sudoku --show` side by side (the first step, the step with the most
retractions or else a middle one, the answer),
recorded as an SVG by rich.

    .venv/bin/python experiments/readme_picture/run.py      # writes docs/img/live-view.svg
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rich.columns import Columns  # noqa: E402
from rich.console import Console, Group  # noqa: E402
from rich.panel import Panel  # noqa: E402
from rich.text import Text  # noqa: E402

from cli import render  # noqa: E402
from csp_diffusion.solver import NeuralSolver  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.seeds import stream  # noqa: E402
from puzzles.sudoku.terminal import live  # noqa: E402

OUT = ROOT / "docs" / "img" / "live-view.svg"


def main() -> None:
    task = get_task("sudoku")
    puzzles, _ = task.generate("fiendish", 12, {}, stream("bench", 5))
    solver = NeuralSolver("loopmdm", "sudoku")
    best = None
    for puzzle in puzzles:  # the first solved puzzle whose solve retracts something (else the longest solved one)
        frames = []
        result = next(iter(solver.solve([puzzle], on_step=frames.append)))
        if result.solved and (best is None or len(frames) > len(best[1])):
            best = (puzzle, frames, result)
        if result.solved and any(f.retracted_now.any() for f in frames):
            break
    puzzle, frames, result = best
    busiest = max(frames, key=lambda f: int(f.retracted_now.sum()))
    middle = busiest if busiest.retracted_now.any() else frames[len(frames) // 2]  # no retraction: a middle step
    shown = [frames[0], middle, frames[-1]]

    def panel(state) -> Panel:  # as `csp solve sudoku --show` draws a step
        title = f"step {state.step}: +{int(state.committed_now.sum())} / -{int(state.retracted_now.sum())}"
        return Panel(render.text(live(puzzle, state.values, state.committed_now, state.retracted_now)), title=title,
                     expand=False)

    console = Console(record=True, width=110, file=open("/dev/null", "w"))
    legend = Text.assemble(("given", "bold white"), "  ", ("committed", "cyan"), "  ", ("just committed", "bold green"),
                           "  ", ("retracted", "bold red"))
    console.print(Group(Columns([panel(s) for s in shown]), legend))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    console.save_svg(str(OUT), title=f"csp solve sudoku --show  ({'solved' if result.solved else 'not solved'}, "
                     f"{len(frames)} steps)")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
