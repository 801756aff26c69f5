"""What every command shares: error handling, exit codes, result output."""

from __future__ import annotations

import functools
import json
import sys
from typing import Callable, Iterable, TypeVar

import typer
from rich.console import Console

from puzzles.errors import UserError
from puzzles.result import Result

console = Console()
err_console = Console(stderr=True)

EXIT_OK, EXIT_UNSOLVED, EXIT_BAD_INPUT = 0, 1, 2

F = TypeVar("F", bound=Callable)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print one red line on stderr; return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def guarded(fn: F) -> F:
    """Turn a UserError (bad input, missing file, corrupt checkpoint) into one line and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            raise fail(str(e)) from None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, FileExistsError, PermissionError) as e:
            raise fail(f"{e.strerror}: {e.filename}") from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except SystemError as e:  # numba-compiled code hit by Ctrl-C reports the interrupt this way
            if isinstance(e.__cause__ or e.__context__, KeyboardInterrupt):
                raise fail("interrupted", 130) from None
            raise

    return wrapper  # type: ignore[return-value]


def print_json(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def exit_for(results: Iterable[Result]) -> None:
    """Exit 0 when every puzzle was solved (and verified), 1 otherwise."""
    if not all(r.solved for r in results):
        raise typer.Exit(EXIT_UNSOLVED)


def progress():
    """A rich progress bar on stderr (stdout stays clean for --json).

    Use: `with progress() as p: t = p.add_task("solving", total=n, status="")`.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def neural_solver(kind: str, task: str, checkpoint, loops, steps: int, chains: int, retract: bool, device,
                  legal: bool = False, warm_loops: int | None = None, time_limit: float = 0.0,
                  spare_after: int | None = None):
    """A NeuralSolver with the CLI's sampling options (loops None = the model's K_max, scaled with size;
    warm_loops None = the task's default)."""
    for name, value, least in (("--loops", loops if loops is not None else 1, 1), ("--steps", steps, 1),
                               ("--chains", chains, 1), ("--warm-loops", warm_loops or 0, 0),
                               ("--spare-after", spare_after or 0, 0)):
        if value < least:
            raise fail(f"{name} must be at least {least}, got {value}")
    from csp_diffusion.sampler import SamplerConfig
    from csp_diffusion.solver import NeuralSolver

    solver = NeuralSolver(kind, task, checkpoint, device)
    solver.config = SamplerConfig(loops=loops or 0, max_steps=steps, chains=chains, retract=retract, legal=legal,
                                  warm_loops=warm_loops, time_limit=time_limit,
                                  spare_after=SamplerConfig.spare_after if spare_after is None else spare_after)
    return solver


def loops_text(extra: dict) -> str:
    """'16 loops'; '64 loops (cap 160)' when the first step stopped early (a trace model whose answer
    verified); ', then 4 warm' when later steps started from the carried state."""
    loops, first = extra["loops"], extra.get("first_step_loops", 0)
    text = f"{first} loops (cap {loops})" if 0 < first < loops else f"{loops} loops"
    warm = extra.get("warm_loops", 0)
    return text + (f", then {warm} warm" if warm and extra.get("steps", 2) > 1 else "")
