"""What every command shares: error handling, exit codes, result output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from puzzles.errors import UserError
from puzzles.result import Result

WIDE = 10_000  # columns off a terminal: a table written to a file or a pipe is never cut


class _Console(Console):
    """A rich Console that, off a terminal, prints at full width (no cut cells, no "..." in a table
    piped into a file) instead of rich's 80 columns; on a terminal it is rich's own."""

    @property
    def size(self):
        size = super().size
        if self._width is None and not self.is_terminal:
            return size._replace(width=WIDE)
        return size

    @size.setter
    def size(self, new_size) -> None:
        Console.size.fset(self, new_size)


console = _Console()
err_console = Console(stderr=True)

EXIT_OK, EXIT_UNSOLVED, EXIT_BAD_INPUT = 0, 1, 2

F = TypeVar("F", bound=Callable)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print one red line on stderr; return the Exit to raise. `message` is plain text, shown as it is (a
    file name or puzzle such as `[/]` is never read as rich markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
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
    write_out(json.dumps(record) + "\n")


_bars: list = []  # the progress displays live on stderr now (one at a time in practice)


def write_out(text: str) -> None:
    """Write results to the real stdout, flushed. Where a progress display is live on stderr and stdout is a
    terminal too (most likely the same screen), the display is lifted off first and drawn again under the
    text, so that neither paints over the other."""
    live = _bars[-1].live if _bars else None
    lock, render = getattr(live, "_lock", None), getattr(live, "_live_render", None)  # rich's own, where it has them
    if (lock is None or render is None or not hasattr(render, "_shape") or not live.is_started
            or not err_console.is_terminal or not sys.stdout.isatty()):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with lock:
        err_console.control(render.position_cursor())  # the cursor to where the display began, it erased
        render._shape = None  # nothing left to erase before the next drawing
        sys.stdout.write(text)
        sys.stdout.flush()
        live.refresh()


def exit_for(results: Iterable[Result]) -> None:
    """Exit 0 when every puzzle was solved (and verified), 1 otherwise."""
    if not all(r.solved for r in results):
        raise typer.Exit(EXIT_UNSOLVED)


def progress():
    """A rich progress bar on stderr. It never takes over stdout (rich's default on a terminal sends what is
    written to stdout through the display, onto stderr): results go to the real stdout (`write_out`).

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

    class Bar(Progress):
        def start(self) -> None:
            _bars.append(self)
            super().start()

        def stop(self) -> None:
            try:
                super().stop()
            finally:
                if self in _bars:
                    _bars.remove(self)

    return Bar(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        redirect_stdout=False,
    )


def at_most(*checks: tuple[str, int | float | None, int]) -> None:
    """For each (option, value, most): one line and exit 2 when a given value is above `most`."""
    for name, value, most in checks:
        if value is not None and value > most:
            raise fail(f"{name} must be at most {_big(most)}, got {_big(value)}")


def _big(n: int | float) -> str:
    """1000000 as 1,000,000; a number under 10,000 as it is."""
    return f"{n:,}" if abs(n) >= 10_000 else f"{n}"


def ignored(solver: str, given: dict[str, bool]) -> None:
    """One warning line on stderr for each option given (its name: whether it was) that `solver` does
    not read; the command goes on."""
    for name, was_given in given.items():
        if was_given:
            err_console.print(f"[yellow]warning:[/] {escape(name)} has no effect with {escape(solver)}", markup=True,
                              highlight=False, soft_wrap=True)


class PlainProgress:
    """Progress off a terminal (a log file, CI): a plain line per phase on stderr, and at most one
    progress line per `every` seconds of work, instead of a live display that prints nothing until it ends."""

    def __init__(self, every: float = 60.0):
        import time

        self.every, self._clock = every, time.monotonic
        self._last = self._clock()

    def line(self, text: str) -> None:
        err_console.print(text, highlight=False, soft_wrap=True, markup=False)

    def phase(self, text: str) -> None:
        self._last = self._clock()
        self.line(text)

    def tick(self, text: str) -> None:
        """`text` when `every` seconds have passed since the last line, else nothing."""
        if self._clock() - self._last >= self.every:
            self._last = self._clock()
            self.line(text)


def at_least(*checks: tuple[str, int | float | None, int]) -> None:
    """For each (option, value, least): one line and exit 2 when a given value is below `least`."""
    for name, value, least in checks:
        if value is not None and value < least:
            raise fail(f"{name} must be at least {least}, got {value}")


def positive_time_limit(time_limit: float | None) -> None:
    """One line and exit 2 for a --time-limit given that is not positive (None: the size default)."""
    if time_limit is not None and not time_limit > 0:
        raise fail(f"--time-limit must be positive, got {time_limit:g}")


def writable(path: Path | None) -> None:
    """One line and exit 2 unless a file can be written at `path` (None: none asked for), before any work: not a
    folder, in a folder that exists and may be written in, not a read-only file (`puzzles.files.writable`)."""
    if path is None:
        return
    from puzzles import files

    try:
        files.writable(path)
    except UserError as e:
        raise fail(str(e)) from None


def sampler_fields(loops: int | None = None, steps: int | None = None, chains: int | None = None,
                   spare_after: int | None = None, warm_loops: int | None = None, retract: bool = True,
                   rules: bool = True, decoder: str | None = None, time_limit: float | None = 0.0) -> dict:
    """SamplerConfig's fields from the neural options, checked; an option not given (None) is left out,
    so the library's default holds (loops: the model's K_max or trace cap; warm_loops: the task's); time_limit
    None is each puzzle's size default (puzzles/limits.py)."""
    at_least(("--loops", loops, 1), ("--steps", steps, 1), ("--chains", chains, 1), ("--warm-loops", warm_loops, 0),
             ("--spare-after", spare_after, 0))
    from cli.options import MAX_CHAINS, MAX_LOOPS, MAX_STEPS

    at_most(("--loops", loops, MAX_LOOPS), ("--steps", steps, MAX_STEPS), ("--chains", chains, MAX_CHAINS),
            ("--warm-loops", warm_loops, MAX_LOOPS), ("--spare-after", spare_after, MAX_STEPS))
    given = {"loops": loops, "max_steps": steps, "chains": chains, "spare_after": spare_after,
             "warm_loops": warm_loops}
    if decoder is not None:
        from csp_diffusion.models import DECODERS

        if decoder not in DECODERS:
            raise fail(f"unknown decoder {decoder!r}; choose from {', '.join(DECODERS)}")
    return {**{k: v for k, v in given.items() if v is not None}, "retract": retract, "rules": rules, "decoder": decoder,
            "time_limit": time_limit}


def neural_solver(kind: str, task, checkpoint=None, device=None, **options):
    """A NeuralSolver of `kind` for `task` with the neural options (`sampler_fields`; chains and steps None =
    the kind's own on `task`, `models.sampling_defaults`)."""
    fields = sampler_fields(**options)
    if kind == "hybrid":  # its model runs in NumPy unless a device is named: no torch to import
        from csp_diffusion.hybrid import HybridSolver

        return HybridSolver(task.name, checkpoint, device, loops=fields.get("loops", 0))
    from csp_diffusion import models
    from csp_diffusion.sampler import SamplerConfig
    from csp_diffusion.solver import NeuralSolver

    fields = {**models.sampling_defaults(models.kind_of(kind), task, fields["decoder"]),
              **{k: v for k, v in fields.items() if v is not None},  # the user's win
              "time_limit": fields["time_limit"]}  # None: each grid's size default
    return NeuralSolver(kind, task.name, checkpoint, device, SamplerConfig(**fields))


def pick_solver(name: str | None, task) -> tuple[str, bool]:
    """(the solver `name` names for `task`, whether it is neural); None names the default model, or the
    first oracle of a task no model runs on. An exact oracle is told apart without loading the model
    registry (and torch)."""
    from puzzles.contract import HYBRID, capable, neural

    if name in task.oracles:
        return name, False
    if capable(task, HYBRID) and name in task.hybrids:  # told apart without torch too: its model runs in NumPy
        return name, True
    if not neural(task):
        if name is None:
            return task.oracles[0], False
        from csp_diffusion import models

        if models.kind_of(name):
            raise fail(f"no {task.name.capitalize()} model yet; choose from {', '.join(task.oracles)}")
        raise fail(f"unknown solver {name!r}; choose from {', '.join(task.oracles)}")
    from csp_diffusion import bench, models

    name = name or models.DEFAULT
    if name not in bench.solvers(task):
        if models.kind_of(name):
            models.check_task(models.kind_of(name), task)  # a kind that cannot run on the task says why
        raise fail(f"unknown solver {name!r}; choose from {', '.join(bench.solvers(task))}")
    return name, True


def decoding_text(extra: dict) -> str:
    """'decoder sampler, rules on': how a neural result was read out."""
    return f"decoder {extra.get('decoder', '?')}, rules {'on' if extra.get('rules', True) else 'off'}"


def model_task(task: str):
    """The task `task` for a command that trains or compares models: one line and exit 2 for an unknown
    task or one without a neural side (`puzzles.contract.neural`)."""
    from puzzles.contract import neural
    from puzzles.domains import TASKS, get_task

    if task not in TASKS:
        raise fail(f"unknown task {task!r}; choose from {', '.join(name for name, t in TASKS.items() if neural(t))}")
    if not neural(TASKS[task]):
        raise fail(f"no model runs on {task} yet (it has no neural encoding); solve it with csp solve {task}")
    return get_task(task)


def loops_text(extra: dict) -> str:
    """'16 loops'; '64 loops (cap 160)' when the first step stopped early (a trace model whose answer
    verified); ', then 4 warm' when later steps started from the carried state."""
    loops, first = extra["loops"], extra.get("first_step_loops", 0)
    text = f"{first} loops (cap {loops})" if 0 < first < loops else f"{loops} loops"
    warm = extra.get("warm_loops", 0)
    return text + (f", then {warm} warm" if warm and extra.get("steps", 2) > 1 else "")
