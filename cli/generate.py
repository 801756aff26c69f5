"""`csp generate KIND`: one command for every kind in the registry whose `Terminal` has a `Generator`
(puzzles/contract.py). The count, seed, output and workers options are written here once; the kind supplies its
own options (a Sudoku's difficulty, a maze's size and kind, a Kakuro's RxC size), how it makes puzzles and how it
writes them."""

from __future__ import annotations

import inspect
import sys
from typing import Annotated

import typer

from cli.app import generate_app
from cli.common import at_least, at_most, err_console, fail, guarded, progress, writable
from cli.options import MAX_COUNT, MAX_WORKERS, Count, Output, Seed, Workers
from puzzles.contract import TERMINAL, Generator, Option, capable
from puzzles.domains import TASKS
from puzzles.files import write_text

PROGRESS_FROM = 10  # a progress bar on stderr from this many puzzles


def generate(gen: Generator, n: int, seed: int, output, workers: int = 1, **options) -> None:
    """Make `n` puzzles and write them to stdout or `output`; every check before any work."""
    at_least(("-n", n, 1))
    at_most(("-n", n, MAX_COUNT))
    at_least(*((o.flags[0], options[o.name], o.least) for o in gen.options if o.least is not None))
    at_most(*((o.flags[0], options[o.name], o.most) for o in gen.options if o.most is not None))
    if seed < 0:
        raise fail(f"--seed must be 0 or more, got {seed}")
    at_least(("--workers", workers, 1))
    at_most(("--workers", workers, MAX_WORKERS))
    writable(output)
    what = gen.made.format_map(options)
    stream = gen.make(n, seed, workers, options)
    try:
        if n >= PROGRESS_FROM:
            made = []
            with progress() as bar:
                job = bar.add_task(f"generating ({what}s)", total=n, status="")
                for puzzle in stream:
                    made.append(puzzle)
                    bar.update(job, advance=1)
        else:
            made = list(stream)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # on Ctrl-C or SIGTERM, its workers stop now
    text = gen.write(made, options)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text(output, text)
    err_console.print(f"wrote {len(made)} {what}{'s' if len(made) != 1 else ''} to {output}", highlight=False,
                      markup=False, soft_wrap=True)


def _annotation(option: Option):
    """The option as Typer reads it: a flag for a bool, else a value of its type (None where it has no default)."""
    kind = option.type or type(option.default)
    declared = typer.Option(*option.flags, help=option.help)
    if kind is bool:
        return Annotated[bool, declared]
    return Annotated[kind | None if option.default is None else kind, declared]


def _command(gen: Generator):
    """`csp generate KIND`'s callback, with the shared options and the kind's own."""
    p = inspect.Parameter
    own = [p(o.name, p.KEYWORD_ONLY, annotation=_annotation(o), default=o.default) for o in gen.options]
    parameters = [p("n", p.KEYWORD_ONLY, annotation=Count, default=1), *own,
                  p("seed", p.KEYWORD_ONLY, annotation=Seed, default=0),
                  *([p("workers", p.KEYWORD_ONLY, annotation=Workers, default=1)] if gen.workers else []),
                  p("output", p.KEYWORD_ONLY, annotation=Output, default=None)]

    def command(**given) -> None:
        generate(gen, **given)

    command.__signature__ = inspect.Signature(parameters)  # what Typer reads the options from
    command.__annotations__ = {q.name: q.annotation for q in parameters}
    command.__doc__ = gen.help
    return guarded(command)


for _name, _task in TASKS.items():
    if capable(_task, TERMINAL) and _task.terminal.generator is not None:
        generate_app.command(_name)(_command(_task.terminal.generator))
