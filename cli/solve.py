"""`csp solve KIND`: one command for every kind in the registry (`puzzles.domains.TASKS`), made from the task
contract and the kind's `Terminal` (puzzles/contract.py). The options every kind shares are written here once; the
kind supplies what differs: how its files are read, a PUZZLE given on the command line, its drawing and live view,
its default solver, what a result adds (a maze's path length), its help and examples."""

from __future__ import annotations

import inspect
import statistics
import time
from dataclasses import replace
from typing import Annotated, Any, NamedTuple

import typer
from rich.markup import escape
from rich.text import Text

from cli import render
from cli.answers import Answers, AnswersFile, Format, Kind, SkipInvalid, check_format, pick_format, report, skipped, stdin_piped
from cli.app import solve_app
from cli.common import (
    EXIT_UNSOLVED,
    at_least,
    at_most,
    console,
    decoding_text,
    err_console,
    exit_for,
    fail,
    guarded,
    ignored,
    loops_text,
    neural_solver,
    pick_solver,
    positive_time_limit,
    sampler_fields,
    writable,
)
from cli.options import (
    DEFAULT_TIME_LIMIT,
    MAX_WORKERS,
    Checkpoint,
    Decoder,
    JsonLines,
    KindChains,
    Limit,
    Loops,
    NeuralDevice,
    Retract,
    Rules,
    Show,
    Solver,
    SpareAfter,
    Steps,
    TimeLimit,
    WarmLoops,
    Workers,
    library_help,
    neural_facts,
)
from puzzles.contract import HYBRID, TERMINAL, Terminal, capable
from puzzles.domains import TASKS, get_task
from puzzles.errors import UserError
from puzzles.result import Result

SHOW_FAILED = 10  # a file's summary lists this many of the puzzles not solved

CheckUnique = Annotated[bool, typer.Option(
    "--check-unique/--no-check-unique",
    help="Refuse a puzzle without exactly one solution (a 2nd solve proves it unique); else stop at one.")]
File = Annotated[str | None, typer.Option("--file", "-f", help="Puzzles from this file, - for stdin (the same as giving "
                                          "FILE).")]


class Item(NamedTuple):
    """A puzzle as the kind's task takes it, and where it came from (`file:3`, `<stdin>: maze 2 (line 9)`)."""

    puzzle: Any
    source: str


def solve(task, puzzle: str | None, file: str | None, solver: str | None, time_limit: float | None, fmt: str | None,
          json_out: bool, output, skip_invalid: bool, workers: int, limit: int | None, checkpoint, loops: int | None,
          warm_loops: int | None, steps: int | None, chains: int | None, spare_after: int | None, retract: bool,
          decoder: str | None, rules: bool, device: str | None, check_unique: bool = False, show: bool = False) -> None:
    """Solve the puzzles given, each answer written as it settles (see `cli.answers`); the exit code says whether
    all were solved."""
    t: Terminal = task.terminal
    text, path = _input(t, puzzle, file)
    solver, neural = pick_solver(solver or t.solver, task)
    positive_time_limit(time_limit)
    at_least(("--workers", workers, 1), ("--limit", limit, 1))
    at_most(("--workers", workers, MAX_WORKERS))
    sampler_fields(loops=loops, steps=steps, chains=chains, spare_after=spare_after, warm_loops=warm_loops,
                   decoder=decoder)  # bounds
    check_format(fmt, json_out)
    writable(output)
    hybrid = capable(task, HYBRID) and solver in task.hybrids  # a search a model orders: it reads --checkpoint, --device, --loops
    if not neural or hybrid:
        ignored(solver, {"--checkpoint": checkpoint is not None and not neural, "--chains": chains is not None,
                         "--show": show, "--loops": loops is not None and not hybrid,
                         "--warm-loops": warm_loops is not None, "--steps": steps is not None,
                         "--spare-after": spare_after is not None, "--decoder": decoder is not None,
                         "--no-rules": not rules, "--no-retract": not retract,
                         "--device": device is not None and not neural,
                         "--time-limit": time_limit is not None and hybrid})  # a complete search, unlimited
    live = show and neural and not hybrid
    single = text is not None
    if live and t.parse is not None and not single:
        raise fail("--show draws one puzzle; give a PUZZLE, not a file")
    if live and json_out:
        raise fail("--show draws for people and --json writes for scripts; give one of them")
    if live and (fmt not in (None, "grid") or output is not None):
        raise fail("--show draws for people; give it without --format or -o")
    warn, said = skipped(skip_invalid)
    items = [Item(t.parse(text), "<argument>")] if single else _read(task, path, warn, limit)
    if live and len(items) > 1:
        raise fail(f"--show draws one {t.item}; give a file with one {t.item} or --limit 1")
    listed = not single and (t.parse is not None or len(items) > 1)  # each named in the grid format; a summary
    answers = Answers(_kind(task, listed, drawn=live), pick_format(fmt, json_out, len(items), single, output), output,
                      single)
    puzzles = [item.puzzle for item in items]
    start = time.perf_counter()
    ns = None
    if not neural:  # its workers start before any live display; each result comes as soon as it is in
        stream = task.solve_exact(puzzles, solver, time_limit, workers=workers, check_unique=check_unique,
                                  streamed=True)
        label = f"solving ({solver})"
    else:
        ns = neural_solver(solver, task, checkpoint, device, loops=loops, steps=steps, chains=chains,
                           spare_after=spare_after, warm_loops=warm_loops, retract=retract, rules=rules,
                           decoder=decoder, time_limit=time_limit)
        if live:
            from cli.show import live as view

            with view(ns, puzzles[0]) as on_step:
                stream = list(ns.solve_screened(puzzles, check_unique, on_step=on_step))  # reported after the view
        else:
            stream = ns.solve_screened(puzzles, check_unique)
        label = f"solving ({ns.name})" if hybrid else f"solving ({ns.name}, {ns.config.chains} chain(s))"
    results = report(items, stream, answers, label, after=lambda item, r: _amended(task, item, r, neural))
    _after(task, items, results, answers, time.perf_counter() - start, said, listed, ns)


def _input(t: Terminal, puzzle: str | None, file: str | None) -> tuple[str | None, str | None]:
    """(the PUZZLE's text, or None; the file to read, `-` for stdin, or None): an existing file's name is read as
    a file, `-` is stdin, no argument at all reads piped stdin; the ambiguous cases are one line and exit 2. A kind
    without a PUZZLE form (`Terminal.parse`) takes the argument as a FILE."""
    from pathlib import Path

    if puzzle is not None and file is not None:
        raise fail("give a PUZZLE or FILE, or --file FILE, not both" if t.parse else "give a FILE or --file FILE, not both")
    if file is not None:
        return None, file
    if puzzle is None:
        if stdin_piped():
            return None, "-"
        if t.parse is not None:
            raise fail("give a PUZZLE, a FILE of puzzles or - for standard input (or pipe puzzles in)")
        raise fail(f"give a FILE of {t.items}, or - for standard input (or pipe them in)")
    if puzzle.strip() == "-":
        return None, "-"
    if t.parse is None:
        return None, puzzle
    text = puzzle.strip()
    try:
        exists = "\n" not in text and Path(text).exists()
    except (OSError, ValueError):
        exists = False
    if exists:
        try:
            t.parse(text)
        except UserError:
            return None, text
        raise fail(f"{text} is both a puzzle and a file's name; give --file {text} to read the file")
    if "\n" not in text and ("/" in text or text.lower().endswith(t.suffixes)):
        raise fail(f"no such file: {text}")
    return puzzle, None


def _read(task, path: str, on_error, limit: int | None) -> list[Item]:
    return [Item(puzzle, where) for puzzle, where in task.terminal.read(path, on_error, limit)]


def _amended(task, item: Item, r: Result, neural: bool) -> Result:
    """A result as reported: a model's answer solved only once the kind's verifier accepts it here too; with the
    facts the kind adds to a verified answer (`Terminal.facts`) where the solver left them out."""
    if neural and r.solved and task.check(item.puzzle, task.answer(r.solution)) is not None:  # pragma: no cover
        return replace(r, verified=False, solution=None, error="the answer failed the verifier")
    facts = task.terminal.facts
    if facts is not None and r.solved and r.solution:
        for key, value in facts(item.puzzle, r.solution).items():
            r.extra.setdefault(key, value)
    return r


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.3f} s"


def _status(t: Terminal, r: Result) -> str:
    """'solved (verified) by cpsat in 3.1 ms', with the kind's facts; or why not."""
    if r.solved:
        try:
            fact = f" · {t.fact.format_map(r.extra)}" if t.fact else ""
        except (KeyError, ValueError):
            fact = ""
        return f"[bold green]solved[/] (verified) by {escape(r.solver)} in {_took(r.seconds)}{escape(fact)}"
    return (f"[bold red]{t.unsolved}[/]: {escape(r.error or 'no verified solution')} ({escape(r.solver)}, "
            f"{_took(r.seconds)})")


def _counters(r: Result) -> str:
    """' · 3 steps, ...' for a neural solver's result, ' · 12 search nodes, ...' for the hybrid's, else ''."""
    e = r.extra
    if "nodes" in e:
        return f" · {e['nodes']} search nodes, {e['backtracks']} backtracks"
    if "steps" not in e:
        return ""
    return escape(f" · {e['steps']} steps, {e['commits']} commits, {e['retractions']} retractions, "
                  f"{e['restarts']} restarts, {loops_text(e)}; {decoding_text(e)}")


def _kind(task, listed: bool, drawn: bool) -> Kind:
    """How the kind's answers are written; `listed`: each drawn answer is named by its source; `drawn`: the live
    view has drawn the puzzle already."""
    t: Terminal = task.terminal

    def line(k: int, item: Item, r: Result) -> str:
        body = r.solution if r.solved and r.solution else task.to_text(item.puzzle)
        if not t.comment:
            return body
        status = "solved (verified)" if r.solved else f"{t.unsolved}: {r.error}"
        return f"{t.comment} {t.item} {k} ({item.source}): {status}\n{body}"

    def draw(k: int, item: Item, r: Result) -> list:
        head = f"{escape(item.source)}: " if k and listed else ""
        shown: list = []
        if not drawn:
            shown.append(render.text(t.draw(item.puzzle, r.solution)) if t.draw is not None
                         else Text(r.solution if r.solved and r.solution else task.to_text(item.puzzle)))
        return [*shown, head + _status(t, r) + _counters(r)]

    return Kind(line=line, draw=draw, gap="" if t.one_line else "\n")


def _summary(task, items: list[Item], results: list[Result], wall: float, out=console) -> None:
    """The table (solved = verified) and the first puzzles not solved, on `out`."""
    from rich.table import Table

    t: Terminal = task.terminal
    n = len(results)
    table = Table(title=t.title.format(name=task.name, solver=results[0].solver if results else ""),
                  title_justify="left")
    for col in ("puzzles", "solved", "unsolved", "puzzles/s", "median s", "wall s"):
        table.add_column(col, justify="right")
    median = statistics.median(r.seconds for r in results) if results else 0.0
    solved = sum(r.solved for r in results)
    table.add_row(str(n), str(solved), str(n - solved), f"{n / wall:.1f}" if wall > 0 else "-", f"{median:.4f}",
                  f"{wall:.2f}")
    out.print(table)
    failed = [(item, r) for item, r in zip(items, results) if not r.solved]
    for item, r in failed[:SHOW_FAILED]:
        out.print(f"{escape(item.source)}: [red]{t.unsolved}[/]: {escape(str(r.error))}", highlight=False,
                  soft_wrap=True)
    if len(failed) > SHOW_FAILED:
        out.print(f"... and {len(failed) - SHOW_FAILED} more {t.unsolved}", highlight=False, soft_wrap=True)


def _after(task, items: list[Item], results: list[Result], answers: Answers, wall: float, said: list[str],
           listed: bool, ns=None) -> None:
    """After the answers: the summary of a list of puzzles (where `answers` says), or why one puzzle written as a
    line was not solved; then the exit code (1 when any was not solved or was skipped)."""
    if answers.single:
        r = results[0]
        if answers.fmt == "line" and not r.solved:
            err_console.print(f"{task.terminal.unsolved}: {r.error or 'no verified solution'} ({r.solver}, "
                              f"{_took(r.seconds)})", markup=False, highlight=False, soft_wrap=True)
    else:
        out = answers.summary_console()
        if listed and out is not None:
            _summary(task, items, results, wall, out)
            if said:
                out.print(f"{len(said)} skipped (bad input)", highlight=False, soft_wrap=True)
            if ns is not None:
                out.print(ns.describe(task.shape_of(items[0].puzzle)), highlight=False, soft_wrap=True)
    if said:
        raise typer.Exit(EXIT_UNSOLVED)
    exit_for(results)


# ---------------------------------------------------------------- one command per kind


def _facts(name: str):
    """The library's facts for the kind's help, its default solver among them."""

    def facts() -> dict[str, object]:
        from csp_diffusion.solver import SHIPPED

        values = neural_facts(name)
        task, default = TASKS[name], TASKS[name].terminal.solver
        if default is not None:
            values["default"] = default
            if default in task.oracles and not any(SHIPPED.glob(f"{name}-*.safetensors")):
                values["default"] += f"; no {name} model is shipped yet: a model needs --checkpoint"
        return values

    return facts


def _parameters(t: Terminal) -> list[inspect.Parameter]:
    """The command's parameters, in the order its help lists them."""
    argument = typer.Argument(metavar="PUZZLE|FILE|-", help=t.puzzle_help) if t.parse is not None else \
        typer.Argument(metavar="FILE|-", help=t.file_help)
    shared = [("puzzle", Annotated[str | None, argument], None), ("file", File, None), ("solver", Solver, None),
              ("time_limit", TimeLimit, DEFAULT_TIME_LIMIT), ("fmt", Format, None), ("json_out", JsonLines, False),
              ("output", AnswersFile, None), ("skip_invalid", SkipInvalid, False), ("workers", Workers, 2)]
    unique = [("check_unique", CheckUnique, True)] if t.unique else []
    neural = [("limit", Limit, None), ("checkpoint", Checkpoint, None), ("loops", Loops, None),
              ("warm_loops", WarmLoops, None), ("steps", Steps, None), ("chains", KindChains, None),
              ("spare_after", SpareAfter, None), ("retract", Retract, True), ("decoder", Decoder, None),
              ("rules", Rules, True)]
    show = [("show", Show, False)] if t.live is not None else []
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
            for name, annotation, default in [*shared, *unique, *neural, *show, ("device", NeuralDevice, None)]]


def _command(name: str):
    """`csp solve NAME`'s callback: `solve` for the kind, with the parameters its Terminal asks for."""
    t: Terminal = TASKS[name].terminal

    def command(**given) -> None:
        solve(get_task(name), **given)

    parameters = _parameters(t)
    command.__signature__ = inspect.Signature(parameters)  # what Typer reads the options from
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = t.help
    command.__name__ = command.__qualname__ = f"solve_{name}"
    return guarded(command)


for _name, _task in TASKS.items():
    if capable(_task, TERMINAL):
        solve_app.command(_name, cls=library_help(_facts(_name)))(_command(_name))
