"""`csp solve sudoku` and `csp generate sudoku`."""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from cli.app import generate_app, solve_app
from cli.common import (
    console,
    err_console,
    exit_for,
    fail,
    guarded,
    loops_text,
    neural_solver,
    print_json,
    progress,
)
from puzzles import sudoku as sd
from puzzles import sudoku_oracle as oracle
from puzzles.files import write_text
from puzzles.result import Result

DEFAULT_SOLVER = "loopmdm"
NEURAL = ("loopmdm", "ar", "hrm")
SOLVER_NAMES = (*NEURAL, *oracle.SOLVERS)
SHOW_FAILED = 10
SHOW_GRIDS = 5  # a file this small has each grid drawn, not only the summary
PROGRESS_FROM = 100  # `generate` shows a progress bar from this many puzzles


def _status(r: Result) -> str:
    if r.solved:
        return f"[bold green]solved[/] (verified) by {r.solver} in {r.seconds * 1000:.1f} ms"
    return f"[bold red]not solved[/]: {r.error or 'no verified solution'} ({r.solver}, {r.seconds * 1000:.1f} ms)"


def _read_puzzles(file: str) -> list[sd.Sudoku]:
    if file == "-":
        return sd.read_text(sys.stdin.read(), name="<stdin>")
    return sd.read_file(file)


def _summary(puzzles: list[sd.Sudoku], results: list[Result], wall: float) -> None:
    from rich.table import Table

    n = len(results)
    table = Table(title=f"sudoku · {results[0].solver if results else ''}", title_justify="left")
    for col in ("puzzles", "solved", "verified", "unsolved", "puzzles/s", "median s", "wall s"):
        table.add_column(col, justify="right")
    median = statistics.median(r.seconds for r in results) if results else 0.0
    table.add_row(
        str(n),
        str(sum(r.solution is not None for r in results)),
        str(sum(r.verified for r in results)),
        str(sum(not r.solved for r in results)),
        f"{n / wall:.1f}" if wall > 0 else "-",
        f"{median:.4f}",
        f"{wall:.2f}",
    )
    console.print(table)
    failed = [(s, r) for s, r in zip(puzzles, results) if not r.solved]
    for s, r in failed[:SHOW_FAILED]:
        console.print(f"{s.source}: [red]not solved[/]: {r.error}", highlight=False, soft_wrap=True)
    if len(failed) > SHOW_FAILED:
        console.print(f"... and {len(failed) - SHOW_FAILED} more not solved", highlight=False, soft_wrap=True)


@solve_app.command("sudoku")
@guarded
def solve_sudoku(
    puzzle: Optional[str] = typer.Argument(
        None, help="One puzzle: 81 cells, blanks as . 0 or _ (spaces, line breaks and | - + are ignored)."
    ),
    file: Optional[str] = typer.Option(
        None, "--file", "-f", help="Puzzles, one per line (optional solution as a 2nd field) or CSV; - for stdin."
    ),
    solver: str = typer.Option(DEFAULT_SOLVER, "--solver", "-s", help=f"Solver: {', '.join(SOLVER_NAMES)}."),
    time_limit: float = typer.Option(oracle.DEFAULT_TIME_LIMIT, "--time-limit", "-t", help="Seconds per puzzle; a neural solver gives up a puzzle there (batched: the batch gets this per puzzle)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per puzzle per line on stdout."),
    workers: int = typer.Option(2, "--workers", "-w", help="Processes for a file of puzzles."),
    check_unique: bool = typer.Option(
        True, "--check-unique/--no-check-unique", help="Prove the solution unique (a 2nd solve); else stop at one."
    ),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", help="Only the first N puzzles of the file."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Neural: a trained model (default: the shipped one)."),
    loops: Optional[int] = typer.Option(None, "--loops", help="Neural: passes of the looped core per step (default: the model's K_max)."),
    warm_loops: Optional[int] = typer.Option(None, "--warm-loops", help="LoopMDM: loops per step after the first, started from the last step's state (0 = every step from scratch; default: the task's, sudoku 0, maze 4)."),
    steps: int = typer.Option(64, "--steps", help="Neural: denoising step limit (HRM: segments)."),
    chains: Optional[int] = typer.Option(None, "--chains", help="Neural: sampling chains per puzzle, the first verified one kept (default: loopmdm 8, the extra ones joining only for a puzzle unsolved after 4 steps; ar, hrm 1)."),
    spare_after: Optional[int] = typer.Option(None, "--spare-after", help="LoopMDM: steps before the extra chains join a puzzle still unsolved (default 4; 0 = all chains start together, and with --steps 5 that is the fast profile: README, \"Speed\")."),
    retract: bool = typer.Option(True, "--retract/--no-retract", help="Neural: retract conflicting or doubtful cells."),
    show: bool = typer.Option(False, "--show", help="Neural, one puzzle: draw the denoising live."),
    legal: bool = typer.Option(False, "--legal", help="AR: never write a digit a peer already holds."),
    device: Optional[str] = typer.Option(None, "--device", help="Neural: cpu, cuda, ... (default: CUDA when present)."),
) -> None:
    """Solve Sudoku puzzles; exit 0 if all are solved, 1 if any is not, 2 on bad input."""
    if (puzzle is None) == (file is None):
        raise fail("give either a PUZZLE or --file FILE" + (", not both" if puzzle is not None else ""))
    if solver not in SOLVER_NAMES:
        raise fail(f"unknown solver {solver!r}; choose from {', '.join(SOLVER_NAMES)}")
    if not time_limit > 0:
        raise fail(f"--time-limit must be positive, got {time_limit:g}")
    if workers < 1:
        raise fail(f"--workers must be at least 1, got {workers}")
    if limit is not None and limit < 1:
        raise fail(f"--limit must be at least 1, got {limit}")
    if solver in NEURAL:
        if show and puzzle is None:
            raise fail("--show draws one puzzle; give a PUZZLE, not --file")
        if show and json_out:
            raise fail("--show draws for people and --json writes for scripts; give one of them")
        puzzles = [sd.Sudoku(sd.parse(puzzle), source="<argument>")] if puzzle is not None else _read_puzzles(file)[:limit]
        if chains is None:
            chains = 8 if solver == "loopmdm" else 1
        neural = neural_solver(solver, "sudoku", checkpoint, loops, steps, chains, retract, device, legal, warm_loops, time_limit,
                               spare_after)
        _solve_neural(neural, puzzles, puzzle is not None, json_out, show, check_unique)
        return

    if puzzle is not None:
        grid = sd.parse(puzzle)
        r = oracle.solve(grid, solver, time_limit=time_limit, check_unique=check_unique)
        if json_out:
            print_json(r.to_json())
        else:
            shown = sd.parse(r.solution) if r.solution else None
            console.print(sd.render(grid, shown))
            console.print(_status(r), highlight=False, soft_wrap=True)
        exit_for([r])
        return

    puzzles = _read_puzzles(file)[:limit]
    start = time.perf_counter()
    stream = oracle.solve_many(  # parses and starts the workers before the live display
        [s.givens for s in puzzles], solver, time_limit=time_limit, workers=workers, check_unique=check_unique
    )
    results: list[Result] = []
    try:
        with progress() as bar:
            task = bar.add_task(f"solving ({solver})", total=len(puzzles), status="")
            for k, (s, r) in enumerate(zip(puzzles, stream), start=1):
                results.append(r)
                if json_out:
                    print_json({**r.to_json(), "source": s.source})
                bar.update(task, advance=1, status=f"{sum(x.solved for x in results)}/{k} solved")
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    wall = time.perf_counter() - start
    if not json_out:
        _summary(puzzles, results, wall)
    exit_for(results)


def _invalid(grid: np.ndarray, check_unique: bool) -> str | None:
    """With `check_unique`, why a puzzle has not exactly one solution (checked before the model runs), or None.
    Clashing givens never get here (parsing refuses them); a puzzle with no solution otherwise is told
    apart only once the model fails it (`_explained`), so puzzles the model solves cost no search (3 ms a
    hard puzzle, 7% of a file's time at 20 puzzles/s)."""
    if not check_unique:
        return None
    n = sd.count_solutions(grid, 2)
    if n == 0:
        return oracle.NO_SOLUTION
    return oracle.SEVERAL_SOLUTIONS if n > 1 else None


def _explained(r: Result, grid: np.ndarray) -> Result:
    """`r`, its error "no solution" where the model did not solve the puzzle because there is none."""
    if r.verified or sd.count_solutions(grid, 1):
        return r
    return replace(r, error=oracle.NO_SOLUTION)


def _solve_neural(solver, puzzles: list[sd.Sudoku], single: bool, json_out: bool, show: bool, check_unique: bool) -> None:
    """Run a neural solver batched over the puzzles that have exactly one solution; print and exit as the oracles do."""
    grids = [s.givens for s in puzzles]
    reasons = [_invalid(g, check_unique) for g in grids]
    todo = [g for g, why in zip(grids, reasons) if why is None]
    start = time.perf_counter()
    results: list[Result] = []
    if single:
        if show and todo:
            from cli.show import sudoku_live

            solved = iter([sudoku_live(todo[0], solver)])
        else:
            solved = solver.solve(todo)
        for g, why in zip(grids, reasons):
            results.append(_explained(next(solved), g) if why is None else Result("sudoku", solver.name, sd.to_string(g), None, False, 0.0, why))
    else:
        with progress() as bar:
            task = bar.add_task(f"solving ({solver.name}, {solver.config.chains} chain(s))", total=len(grids), status="")
            stream = solver.solve(todo)
            for g, why in zip(grids, reasons):
                r = _explained(next(stream), g) if why is None else Result("sudoku", solver.name, sd.to_string(g), None, False, 0.0, why)
                results.append(r)
                if json_out:
                    print_json({**r.to_json(), "source": puzzles[len(results) - 1].source})
                bar.update(task, advance=1, status=f"{sum(x.solved for x in results)}/{len(results)} solved")
    wall = time.perf_counter() - start
    if single:
        r = results[0]
        if json_out:
            print_json(r.to_json())
        elif not show:
            console.print(sd.render(grids[0], sd.parse(r.solution) if r.solution else None))
        if not json_out:
            detail = f" · {r.extra['steps']} steps, {r.extra['commits']} commits, {r.extra['retractions']} retractions, {r.extra['restarts']} restarts, {loops_text(r.extra)}" if r.extra else ""
            console.print(_status(r) + detail, highlight=False, soft_wrap=True)
    elif not json_out:
        if len(grids) <= SHOW_GRIDS:
            for g, r in zip(grids, results):
                console.print(sd.render(g, sd.parse(r.solution) if r.solution else None))
                console.print(_status(r), highlight=False, soft_wrap=True)
        _summary(puzzles, results, wall)
        console.print(solver.describe((9, 9)), highlight=False, soft_wrap=True)
    exit_for(results)


@generate_app.command("sudoku")
@guarded
def generate_sudoku(
    n: int = typer.Option(1, "-n", "--count", help="How many puzzles."),
    difficulty: str = typer.Option("hard", "--difficulty", "-d", help=f"One of {', '.join(sd.DIFFICULTIES)}."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed and n, same puzzles, whatever --workers)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write (default stdout)."),
    workers: int = typer.Option(1, "--workers", "-w", help="Processes generating in parallel."),
    csv: bool = typer.Option(False, "--csv", help="Write CSV source,question,answer,rating instead of lines."),
) -> None:
    """Generate puzzles with a unique solution: one per line, the solution as the second field."""
    if n < 1:
        raise fail(f"-n must be at least 1, got {n}")
    if difficulty not in sd.DIFFICULTIES:
        raise fail(f"unknown difficulty {difficulty!r}; choose from {', '.join(sd.DIFFICULTIES)}")
    if seed < 0:
        raise fail(f"--seed must be 0 or more, got {seed}")
    if workers < 1:
        raise fail(f"--workers must be at least 1, got {workers}")
    if output is not None and not output.parent.is_dir():
        raise fail(f"cannot write {output}: no such folder {output.parent}")

    stream = sd.generate(n, difficulty, seed=seed, workers=workers)
    if n >= PROGRESS_FROM:
        made: list[sd.Sudoku] = []
        with progress() as bar:
            task = bar.add_task(f"generating ({difficulty})", total=n, status="")
            for s in stream:
                made.append(s)
                bar.update(task, advance=1)
    else:
        made = list(stream)
    text = sd.write_csv(made) if csv else sd.write_lines(made)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text(output, text)
    err_console.print(
        f"wrote {len(made)} {difficulty} puzzle{'s' if len(made) != 1 else ''} to {output}",
        highlight=False,
        soft_wrap=True,
    )
