"""`csp solve sudoku` and `csp generate sudoku`."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Annotated

import typer
from rich.markup import escape

from cli import render
from cli.app import generate_app, solve_app
from cli.common import (
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
    print_json,
    progress,
    sampler_fields,
    writable,
)
from cli.options import (
    DEFAULT_TIME_LIMIT,
    MAX_COUNT,
    MAX_WORKERS,
    Checkpoint,
    Count,
    Decoder,
    JsonLines,
    KindChains,
    Limit,
    Loops,
    NeuralDevice,
    Output,
    Retract,
    Rules,
    Seed,
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
from cli.show import sudoku_live
from puzzles import sudoku as sd
from puzzles import sudoku_oracle as oracle
from puzzles.files import read_stdin, write_text
from puzzles.result import Result

SHOW_FAILED = 10
SHOW_GRIDS = 5  # a file this small has each grid drawn by a neural solver, not only the summary
PROGRESS_FROM = 100  # `generate` shows a progress bar from this many puzzles


def _status(r: Result) -> str:
    if r.solved:
        return f"[bold green]solved[/] (verified) by {r.solver} in {r.seconds * 1000:.1f} ms"
    return f"[bold red]not solved[/]: {escape(r.error or 'no verified solution')} ({r.solver}, {r.seconds * 1000:.1f} ms)"


def _counters(r: Result) -> str:
    """' · 3 steps, ...' for a neural solver's result, ' · 12 search nodes, ...' for the hybrid's, else ''."""
    e = r.extra
    if "nodes" in e:
        return f" · {e['nodes']} search nodes, {e['backtracks']} backtracks"
    if "steps" not in e:
        return ""
    return (f" · {e['steps']} steps, {e['commits']} commits, {e['retractions']} retractions, {e['restarts']} restarts, "
            f"{loops_text(e)}; {decoding_text(e)}")


def _grid(grid, r: Result):
    return render.sudoku(grid, sd.parse(r.solution) if r.solution else None)


def _read_puzzles(file: str) -> list[sd.Sudoku]:
    if file == "-":
        return sd.read_text(read_stdin(), name="<stdin>")  # bounded: an endless stdin is one error line
    return sd.read_file(file)


def _summary(puzzles: list[sd.Sudoku], results: list[Result], wall: float) -> None:
    """The table (solved = verified) and the first puzzles not solved."""
    from rich.table import Table

    n = len(results)
    title = f"sudoku · {results[0].solver if results else ''} (solved = verified)"
    table = Table(title=title, title_justify="left")
    for col in ("puzzles", "solved", "unsolved", "puzzles/s", "median s", "wall s"):
        table.add_column(col, justify="right")
    median = statistics.median(r.seconds for r in results) if results else 0.0
    solved = sum(r.solved for r in results)
    table.add_row(str(n), str(solved), str(n - solved), f"{n / wall:.1f}" if wall > 0 else "-", f"{median:.4f}",
                  f"{wall:.2f}")
    console.print(table)
    failed = [(s, r) for s, r in zip(puzzles, results) if not r.solved]
    for s, r in failed[:SHOW_FAILED]:
        console.print(f"{escape(s.source)}: [red]not solved[/]: {escape(str(r.error))}", highlight=False, soft_wrap=True)
    if len(failed) > SHOW_FAILED:
        console.print(f"... and {len(failed) - SHOW_FAILED} more not solved", highlight=False, soft_wrap=True)


@solve_app.command("sudoku", cls=library_help(lambda: neural_facts("sudoku")))
@guarded
def solve_sudoku(
    puzzle: Annotated[str | None, typer.Argument(
        help="One puzzle: 81 cells, blanks as . 0 or _ (spaces, line breaks and | - + are ignored).")] = None,
    file: Annotated[str | None, typer.Option(
        "--file", "-f", help="Puzzles, one per line (optional solution as a 2nd field) or CSV; - for stdin.")] = None,
    solver: Solver = None,
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT,
    json_out: JsonLines = False,
    workers: Workers = 2,
    check_unique: Annotated[bool, typer.Option(
        "--check-unique/--no-check-unique",
        help="Refuse a puzzle without exactly one solution (a 2nd solve proves it unique); else stop at one.")] = True,
    limit: Limit = None,
    checkpoint: Checkpoint = None,
    loops: Loops = None,
    warm_loops: WarmLoops = None,
    steps: Steps = None,
    chains: KindChains = None,
    spare_after: SpareAfter = None,
    retract: Retract = True,
    decoder: Decoder = None,
    rules: Rules = True,
    show: Show = False,
    device: NeuralDevice = None,
) -> None:
    """Solve Sudoku puzzles; exit 0 if all are solved, 1 if any is not, 2 on bad input.

    Examples:

    csp solve sudoku 53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79
    csp solve sudoku --file puzzles/data/sample.sudoku --solver cpsat --json > results.jsonl
    csp generate sudoku -n 10 | csp solve sudoku --file -"""
    if (puzzle is None) == (file is None):
        raise fail("give either a PUZZLE or --file FILE" + (", not both" if puzzle is not None else ""))
    if puzzle is not None:
        _not_a_file_name(puzzle)
    solver, neural = pick_solver(solver, "sudoku")
    positive_time_limit(time_limit)
    at_least(("--workers", workers, 1), ("--limit", limit, 1))
    at_most(("--workers", workers, MAX_WORKERS))
    sampler_fields(loops=loops, steps=steps, chains=chains, spare_after=spare_after, warm_loops=warm_loops,
                   decoder=decoder)  # bounds
    if not neural or solver == "hybrid":
        ignored(solver, {"--chains": chains is not None, "--show": show,
                         "--loops": loops is not None and solver != "hybrid",  # the hybrid's model pass reads it
                         "--warm-loops": warm_loops is not None, "--steps": steps is not None,
                         "--spare-after": spare_after is not None, "--decoder": decoder is not None,
                         "--no-rules": not rules})
    if neural and show and puzzle is None:
        raise fail("--show draws one puzzle; give a PUZZLE, not --file")
    if neural and show and json_out:
        raise fail("--show draws for people and --json writes for scripts; give one of them")
    puzzles = [sd.Sudoku(sd.parse(puzzle), source="<argument>")] if puzzle is not None else _read_puzzles(file)[:limit]
    if not neural:
        _solve_exact(solver, puzzles, puzzle is not None, json_out, time_limit, workers, check_unique)
        return
    ns = neural_solver(solver, "sudoku", checkpoint, device, loops=loops, steps=steps, chains=chains,
                       spare_after=spare_after, warm_loops=warm_loops, retract=retract, rules=rules, decoder=decoder,
                       time_limit=time_limit)
    _solve_neural(ns, puzzles, puzzle is not None, json_out, show, check_unique)


_FILE_SUFFIXES = (".txt", ".csv", ".sudoku")


def _not_a_file_name(puzzle: str) -> None:
    """One line and exit 2 when the PUZZLE argument is a file's name (an existing path, or one with a / or
    a puzzle file's suffix): --file was forgotten."""
    from pathlib import Path

    text = puzzle.strip()
    if "\n" in text:
        return
    try:
        exists = Path(text).exists()
    except (OSError, ValueError):
        exists = False
    if exists or "/" in text or text.lower().endswith(_FILE_SUFFIXES):
        raise fail(f"PUZZLE looks like a file name; use --file {text}")


def _print_one(grid, r: Result, json_out: bool, drawn: bool) -> None:
    """One puzzle's result: its JSON, or its grid (unless the live view `drawn` it) and status."""
    if json_out:
        print_json(r.to_json())
        return
    if not drawn:
        console.print(_grid(grid, r))
    console.print(_status(r) + _counters(r), highlight=False, soft_wrap=True)


def _stream(puzzles: list[sd.Sudoku], stream: Iterator[Result], label: str, json_out: bool) -> list[Result]:
    """The results of a file's puzzles, with a progress bar on stderr and, for --json, each one's line."""
    results: list[Result] = []
    try:
        with progress() as bar:
            task = bar.add_task(label, total=len(puzzles), status="")
            for k, (s, r) in enumerate(zip(puzzles, stream), start=1):
                results.append(r)
                if json_out:
                    print_json({**r.to_json(), "source": s.source})
                bar.update(task, advance=1, status=f"{sum(x.solved for x in results)}/{k} solved")
    finally:
        close = getattr(stream, "close", None)  # stops an exact solver's workers
        if close is not None:
            close()
    return results


def _solve_exact(solver: str, puzzles: list[sd.Sudoku], single: bool, json_out: bool, time_limit: float,
                 workers: int, check_unique: bool) -> None:
    grids = [s.givens for s in puzzles]
    if single:
        r = oracle.solve(grids[0], solver, time_limit=time_limit, check_unique=check_unique)
        _print_one(grids[0], r, json_out, drawn=False)
        exit_for([r])
        return
    start = time.perf_counter()
    stream = oracle.solve_many(  # parses and starts the workers before the live display
        grids, solver, time_limit=time_limit, workers=workers, check_unique=check_unique
    )
    results = _stream(puzzles, stream, f"solving ({solver})", json_out)
    if not json_out:
        _summary(puzzles, results, time.perf_counter() - start)
    exit_for(results)


def _solve_neural(ns, puzzles: list[sd.Sudoku], single: bool, json_out: bool, show: bool, unique: bool) -> None:
    """Solve with a NeuralSolver, batched; a puzzle without exactly one solution (with `unique`) is refused
    before the model runs, one without any is told apart once the model fails it."""
    grids = [s.givens for s in puzzles]
    if single:
        with sudoku_live(grids[0], ns) if show else nullcontext() as on_step:
            r = next(ns.solve_screened(grids, unique, on_step=on_step))
        _print_one(grids[0], r, json_out, drawn=show)
        exit_for([r])
        return
    start = time.perf_counter()
    results = _stream(puzzles, ns.solve_screened(grids, unique), f"solving ({ns.name}, {ns.config.chains} chain(s))",
                      json_out)
    wall = time.perf_counter() - start
    if not json_out:
        if len(grids) <= SHOW_GRIDS:
            for g, r in zip(grids, results):
                console.print(_grid(g, r))
                console.print(_status(r), highlight=False, soft_wrap=True)
        _summary(puzzles, results, wall)
        console.print(ns.describe((9, 9)), highlight=False, soft_wrap=True)
    exit_for(results)


@generate_app.command("sudoku")
@guarded
def generate_sudoku(
    n: Count = 1,
    difficulty: Annotated[str, typer.Option("--difficulty", "-d", help=f"One of {', '.join(sd.DIFFICULTIES)}.")] = "hard",
    seed: Seed = 0,
    output: Output = None,
    workers: Workers = 1,
    csv: Annotated[bool, typer.Option("--csv", help="Write CSV source,question,answer,rating instead of lines.")] = False,
) -> None:
    """Generate puzzles with a unique solution: one per line, the solution as the second field.

    Examples:

    csp generate sudoku -n 100 --difficulty extreme -o extreme.txt
    csp generate sudoku -n 1000 --csv --workers 2 > puzzles.csv"""
    at_least(("-n", n, 1))
    at_most(("-n", n, MAX_COUNT))
    if difficulty not in sd.DIFFICULTIES:
        raise fail(f"unknown difficulty {difficulty!r}; choose from {', '.join(sd.DIFFICULTIES)}")
    if seed < 0:
        raise fail(f"--seed must be 0 or more, got {seed}")
    at_least(("--workers", workers, 1))
    at_most(("--workers", workers, MAX_WORKERS))
    writable(output)

    stream = sd.generate(n, difficulty, seed=seed, workers=workers)
    try:
        if n >= PROGRESS_FROM:
            made: list[sd.Sudoku] = []
            with progress() as bar:
                task = bar.add_task(f"generating ({difficulty})", total=n, status="")
                for s in stream:
                    made.append(s)
                    bar.update(task, advance=1)
        else:
            made = list(stream)
    finally:
        stream.close()  # on Ctrl-C or SIGTERM, its workers stop now
    text = sd.write_csv(made) if csv else sd.write_lines(made)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text(output, text)
    err_console.print(
        f"wrote {len(made)} {difficulty} puzzle{'s' if len(made) != 1 else ''} to {output}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
