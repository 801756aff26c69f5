"""Options that several commands share, each declared once as an `Annotated` alias.

A command takes one as a parameter with its default (`loops: Loops = None`); None leaves the
setting to the library (the sampler's default; the model kind's chain count). The neural options
are shown together, in their own help panel.

What only the library knows (the model kinds, the sampler's defaults) is written into help as a
`{field}`, filled in by a command made with `library_help` when its help is shown: those facts
live in modules that load torch, and a command run with an exact oracle never needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from puzzles import limits
from puzzles.contract import neural
from puzzles.domains import TASKS, get_task

MODEL_TASKS = {name: task for name, task in TASKS.items() if neural(task)}  # the tasks models run on

DEFAULT_TIME_LIMIT = None  # each puzzle's own default, fitted to its size (puzzles/limits.py)

# the most each size, count and loop option takes, checked before any work starts
MAX_COUNT = 1_000_000  # puzzles to make (-n/--count, a bench gen: spec's N)
MAX_LOOPS = 100_000  # --loops, --warm-loops
MAX_STEPS = 10_000  # --steps, --spare-after
MAX_CHAINS = 1024
MAX_WORKERS = 64

NEURAL = "Neural solvers"  # the help panel of the options below that only a neural solver reads

Solver = Annotated[str | None, typer.Option(
    "--solver", "-s", help="Solver: {solvers} (default {default}).")]
TimeLimit = Annotated[float | None, typer.Option(
    "--time-limit", "-t", show_default=False, help="Seconds of its own work per puzzle, from when its work starts "
    "(in a batch, its share of each step), after which it counts as unsolved. Default: fitted to the puzzle's "
    f"size, {limits.FORMULA} ({limits.default_time_limit(81):.0f} s for 9 x 9 cells, "
    f"{limits.default_time_limit(99 * 99):.0f} s for 99 x 99).")]
JsonLines = Annotated[bool, typer.Option("--json", help="One JSON object per puzzle per line on stdout (--format json).")]
Limit = Annotated[int | None, typer.Option("--limit", "-n", help="Only the first N puzzles.")]
Workers = Annotated[int, typer.Option("--workers", "-w", help=f"Processes working in parallel (at most {MAX_WORKERS}).")]
Count = Annotated[int, typer.Option("-n", "--count", help=f"How many puzzles (at most {MAX_COUNT:,}).")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed: the same seed and count, the same puzzles.")]
Output = Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default stdout).")]
Task = Annotated[str, typer.Option("--task", help=f"Puzzle task: {' or '.join(TASKS)}.")]
_DEVICE = "Where the model runs: cpu, cuda, cuda:1 ... (default: CUDA when present)."
Device = Annotated[str | None, typer.Option("--device", help=_DEVICE)]

Checkpoint = Annotated[Path | None, typer.Option(
    "--checkpoint", rich_help_panel=NEURAL, help="A trained model (default: the shipped one).")]
Loops = Annotated[int | None, typer.Option(
    "--loops", rich_help_panel=NEURAL, help="Passes of the looped core per step (default: for a model that "
    "learned an execution trace, a cap from the puzzle's size, stopping once its answer verifies; for other "
    f"models, their K_max scaled by the grid's side over the trained side; the hybrid: its pass's full count, "
    f"reached only where a first 4 loops leave the model sure; at most {MAX_LOOPS:,}).")]
WarmLoops = Annotated[int | None, typer.Option(
    "--warm-loops", rich_help_panel=NEURAL, help="LoopMDM: loops per step after the first, started from the last "
    f"step's state (0 = every step from scratch; at most {MAX_LOOPS:,}; default: the task's, "
    + ", ".join(f"{name} {task.warm_loops}" for name, task in MODEL_TASKS.items()) + ").")]
Steps = Annotated[int | None, typer.Option(
    "--steps", rich_help_panel=NEURAL, help="Denoising step limit, model calls per chain (HRM: segments; scaled "
    f"like --loops for a model without a trace; at most {MAX_STEPS:,}; default {{steps}}). In csp bench, --steps "
    "without --time-limit is the neural solvers' whole budget: no time limit cuts them short.")]
_CHAINS = ("Sampling chains per puzzle, the first verified one kept; LoopMDM's extra chains join only a puzzle "
           f"still unsolved after --spare-after steps (at most {MAX_CHAINS})")
KindChains = Annotated[int | None, typer.Option(
    "--chains", rich_help_panel=NEURAL, help=_CHAINS + "; default: the model kind's own, {chains}.")]
Chains = KindChains  # every command's --chains: None = the model kind's own chain count
SpareAfter = Annotated[int | None, typer.Option(
    "--spare-after", rich_help_panel=NEURAL, help="LoopMDM: steps before the extra chains join a puzzle still "
    f"unsolved (0 = all chains start together; with --chains 8 --steps 5 that is the fast profile; at most {MAX_STEPS:,}; "
    "default {spare_after}).")]
Retract = Annotated[bool, typer.Option(
    "--retract/--no-retract", rich_help_panel=NEURAL, help="Retract cells that break a constraint or that the "
    "model has come to doubt.")]
Decoder = Annotated[str | None, typer.Option(
    "--decoder", rich_help_panel=NEURAL, help="How the model's predictions become an answer: argmax (one model call, "
    "then each cell's most probable value), native (the decoder of the kind's paper: an MDM's margin-ordered "
    "unmasking, HRM's and TRM's 16 segments; AR: greedy) or sampler (this project's: commit, retract, restart, "
    "chains; AR: sampled chains). Default: the kind's own, {decoders}.")]
Rules = Annotated[bool, typer.Option(
    "--rules/--no-rules", rich_help_panel=NEURAL, help="Let the decoder use the puzzle's rules: the sampler and "
    "the unmasking decoder refuse commits that clash and the sampler retracts clashing cells, AR never writes a "
    "value a peer holds. Off: every value is the model's and only the verifier judges the answer.")]
Show = Annotated[bool, typer.Option(
    "--show", rich_help_panel=NEURAL, help="One puzzle: draw the denoising live.")]
NeuralDevice = Annotated[str | None, typer.Option("--device", rich_help_panel=NEURAL, help=_DEVICE)]


def neural_facts(task: str | None = None) -> dict[str, object]:
    """The library's facts that the help above names: the solvers (of `task`; None: of every task), the
    default model kind, each kind's chain count, the sampler's defaults."""
    from csp_diffusion import bench, models
    from csp_diffusion.sampler import SamplerConfig

    def own(field: str) -> str:
        return ", ".join(f"{name} {getattr(t, field)}" for name, t in MODEL_TASKS.items())

    solvers = (", ".join(bench.solvers(get_task(task))) if task is not None  # the help's names, resolved here
               else "; ".join(f"{name}: {', '.join(bench.solvers(get_task(name)))}" for name in TASKS))
    return {"solvers": solvers, "default": models.DEFAULT,
            "decoders": ", ".join(f"{name} {kind.default_decoder}" for name, kind in models.MODELS.items()),
            "chains": f"LoopMDM's sampler the task's ({own('chains')}), an AR kind's sampler {models.SAMPLED_CHAINS}, "
                      "else 1",
            "steps": f"{SamplerConfig.max_steps}; LoopMDM the task's ({own('steps')})", "spare_after": SamplerConfig.spare_after}


def library_help(facts: Callable[[], dict[str, object]]) -> type[TyperCommand]:
    """A command class (`@app.command(cls=...)`) whose options' help has its `{field}`s filled from
    `facts()`, called only when the help is shown."""

    class Command(TyperCommand):
        def format_help(self, ctx, formatter) -> None:
            values = facts()
            for param in self.params:
                if getattr(param, "help", None):
                    param.help = param.help.format_map(values)
            super().format_help(ctx, formatter)

    return Command
