"""`csp solve sudoku` and `csp generate sudoku`."""

from __future__ import annotations

import statistics
import sys
import time
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape

from cli import render
from cli.answers import Answers, AnswersFile, Format, Kind, SkipInvalid, check_format, pick_format, report, skipped, stdin_piped
from cli.app import generate_app, solve_app
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
from puzzles.errors import UserError
from puzzles.files import read_stdin, write_text
from puzzles.result import Result
from puzzles.sudoku import oracle

SHOW_FAILED = 10
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
    """The puzzle drawn with the answer's cells (an unverified answer's too, clashes and all)."""
    text = (r.solution or "").replace(".", "0")
    filled = np.array([int(ch) for ch in text], dtype=np.int8) if len(text) == sd.CELLS and text.isdigit() else None
    return render.sudoku(grid, filled)


def _summary(puzzles: list[sd.Sudoku], results: list[Result], wall: float, out=console) -> None:
    """The table (solved = verified) and the first puzzles not solved, on `out`."""
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
    out.print(table)
    failed = [(s, r) for s, r in zip(puzzles, results) if not r.solved]
    for s, r in failed[:SHOW_FAILED]:
        out.print(f"{escape(s.source)}: [red]not solved[/]: {escape(str(r.error))}", highlight=False, soft_wrap=True)
    if len(failed) > SHOW_FAILED:
        out.print(f"... and {len(failed) - SHOW_FAILED} more not solved", highlight=False, soft_wrap=True)


def _line(k: int, s: sd.Sudoku, r: Result) -> str:
    """The 81-character answer; the puzzle as given when it is not solved."""
    return r.solution if r.solved and r.solution else sd.to_string(s.givens)


def _drawn(k: int, s: sd.Sudoku, r: Result) -> list:
    head = f"{escape(s.source)}: " if k else ""
    return [_grid(s.givens, r), head + _status(r) + _counters(r)]


SUDOKU = Kind(line=_line, draw=_drawn)


@solve_app.command("sudoku", cls=library_help(lambda: neural_facts("sudoku")))
@guarded
def solve_sudoku(
    puzzle: Annotated[str | None, typer.Argument(
        metavar="PUZZLE|FILE|-",
        help="One puzzle: 81 cells, blanks as . 0 or _ (spaces, line breaks and | ! - + are ignored); or a FILE of "
        "puzzles (one a line, 9-line grids as in .sdk and .ss files, or CSV with a puzzle column); - for standard "
        "input; nothing: the piped standard input.")] = None,
    file: Annotated[str | None, typer.Option(
        "--file", "-f", help="Puzzles from this file, - for stdin (the same as giving FILE).")] = None,
    solver: Solver = None,
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT,
    fmt: Format = None,
    json_out: JsonLines = False,
    output: AnswersFile = None,
    skip_invalid: SkipInvalid = False,
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
    """Solve Sudoku puzzles, each answer written as it settles; exit 0 if all are solved, 1 if any is not (or was
    skipped), 2 on bad input, 130 on Ctrl-C.

    Examples:

    csp solve sudoku 53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79
    csp solve sudoku puzzles/data/sample.sudoku --solver cpsat --json > results.jsonl
    csp generate sudoku -n 10 | csp solve sudoku --format csv -o answers.csv"""
    text, path = _input(puzzle, file)
    solver, neural = pick_solver(solver, "sudoku")
    positive_time_limit(time_limit)
    at_least(("--workers", workers, 1), ("--limit", limit, 1))
    at_most(("--workers", workers, MAX_WORKERS))
    sampler_fields(loops=loops, steps=steps, chains=chains, spare_after=spare_after, warm_loops=warm_loops,
                   decoder=decoder)  # bounds
    check_format(fmt, json_out)
    writable(output)
    if not neural or solver == "hybrid":
        ignored(solver, {"--chains": chains is not None, "--show": show,
                         "--loops": loops is not None and solver != "hybrid",  # the hybrid's model pass reads it
                         "--warm-loops": warm_loops is not None, "--steps": steps is not None,
                         "--spare-after": spare_after is not None, "--decoder": decoder is not None,
                         "--no-rules": not rules,
                         "--time-limit": time_limit is not None and solver == "hybrid"})  # a complete search, unlimited
    single = text is not None
    if neural and show and not single:
        raise fail("--show draws one puzzle; give a PUZZLE, not a file")
    if neural and show and json_out:
        raise fail("--show draws for people and --json writes for scripts; give one of them")
    if neural and show and (fmt not in (None, "grid") or output is not None):
        raise fail("--show draws for people; give it without --format or -o")
    warn, said = skipped(skip_invalid)
    if single:
        puzzles = [sd.Sudoku(sd.parse(text), source="<argument>")]
    elif path == "-":  # bounded: an endless stdin is one error line
        puzzles = sd.read_text(read_stdin(), name="<stdin>", on_error=warn, limit=limit)
    else:
        puzzles = sd.read_file(path, on_error=warn, limit=limit)
    answers = Answers(SUDOKU, pick_format(fmt, json_out, len(puzzles), single, output), output, single)
    grids = [s.givens for s in puzzles]
    start = time.perf_counter()
    if not neural:
        if single:
            stream = (oracle.solve(g, solver, time_limit=time_limit, check_unique=check_unique) for g in grids)
        else:  # parses and starts the workers before the live display; each result as soon as it is in
            stream = oracle.solve_many(grids, solver, time_limit=time_limit, workers=workers, check_unique=check_unique,
                                       chunk=1)
        results = report(puzzles, stream, answers, f"solving ({solver})")
        _after(puzzles, results, answers, time.perf_counter() - start, said)
        return
    ns = neural_solver(solver, "sudoku", checkpoint, device, loops=loops, steps=steps, chains=chains,
                       spare_after=spare_after, warm_loops=warm_loops, retract=retract, rules=rules, decoder=decoder,
                       time_limit=time_limit)
    if show:
        with sudoku_live(grids[0], ns) as on_step:
            r = next(ns.solve_screened(grids, check_unique, on_step=on_step))
        console.print(_status(r) + _counters(r), highlight=False, soft_wrap=True)  # under the grid the view left
        exit_for([r])
        return
    label = f"solving ({ns.name})" if solver == "hybrid" else f"solving ({ns.name}, {ns.config.chains} chain(s))"
    results = report(puzzles, ns.solve_screened(grids, check_unique), answers, label)
    _after(puzzles, results, answers, time.perf_counter() - start, said, ns)


def _input(puzzle: str | None, file: str | None) -> tuple[str | None, str | None]:
    """(the PUZZLE's text, or None; the file to read, `-` for stdin, or None): an existing file's name is read as
    a file, `-` is stdin, no argument at all reads piped stdin; the ambiguous cases are one line and exit 2."""
    from pathlib import Path

    if puzzle is not None and file is not None:
        raise fail("give a PUZZLE or FILE, or --file FILE, not both")
    if file is not None:
        return None, file
    if puzzle is None:
        if stdin_piped():
            return None, "-"
        raise fail("give a PUZZLE, a FILE of puzzles or - for standard input (or pipe puzzles in)")
    if puzzle.strip() == "-":
        return None, "-"
    text = puzzle.strip()
    try:
        exists = "\n" not in text and Path(text).exists()
    except (OSError, ValueError):
        exists = False
    if exists:
        try:
            sd.parse(text)
        except UserError:
            return None, text
        raise fail(f"{text} is both a puzzle and a file's name; give --file {text} to read the file")
    if "\n" not in text and ("/" in text or text.lower().endswith(_FILE_SUFFIXES)):
        raise fail(f"no such file: {text}")
    return puzzle, None


_FILE_SUFFIXES = (".txt", ".csv", ".sudoku", ".sdk", ".ss", ".sdm")


def _after(puzzles: list[sd.Sudoku], results: list[Result], answers: Answers, wall: float, said: list[str],
           ns=None) -> None:
    """After the answers: a file's summary (where `answers` says), or why one puzzle written as a line was not
    solved; then the exit code (1 when any was not solved or was skipped)."""
    if answers.single:
        r = results[0]
        if answers.fmt == "line" and not r.solved:
            err_console.print(f"not solved: {r.error or 'no verified solution'} ({r.solver}, {r.seconds * 1000:.1f} ms)",
                              markup=False, highlight=False, soft_wrap=True)
    else:
        out = answers.summary_console()
        if out is not None:
            _summary(puzzles, results, wall, out)
            if said:
                out.print(f"{len(said)} skipped (bad input)", highlight=False, soft_wrap=True)
            if ns is not None:
                out.print(ns.describe((9, 9)), highlight=False, soft_wrap=True)
    if said:
        raise typer.Exit(EXIT_UNSOLVED)
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
