"""`csp solve maze` and `csp generate maze`."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Optional

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
from puzzles import maze as mz
from puzzles.files import write_text
from puzzles.result import Result

# name -> function(mazes, time_limit) yielding one Result per maze, in order.
# Adding a solver is one entry here.
SolveFn = Callable[[list[mz.Maze], float], Iterator[Result]]


def _cpsat(mazes: list[mz.Maze], time_limit: float) -> Iterator[Result]:
    from puzzles.maze_oracle import solve_many

    return solve_many(mazes, time_limit, workers=2)


SOLVERS: dict[str, SolveFn] = {
    "cpsat": _cpsat,
}
NEURAL = ("loopmdm", "ar", "hrm")
SOLVER_NAMES = (*NEURAL, *SOLVERS)
DEFAULT_SOLVER = "loopmdm"


def _neural(solver, mazes: list[mz.Maze], show: bool) -> Iterator[Result]:
    """The neural solver on the mazes whose goal can be reached (the others are reported as such)."""
    todo = [m for m in mazes if mz.shortest_length(m) is not None]
    if show and todo:
        from cli.show import maze_live

        stream = iter([maze_live(todo[0], solver)])
    else:
        stream = solver.solve(todo)
    for m in mazes:
        if mz.shortest_length(m) is None:
            yield Result("maze", solver.name, mz.to_text(m), None, False, 0.0, "the goal cannot be reached from the start")
            continue
        r = next(stream)
        if r.solution is not None:
            r.extra["path_length"] = int(mz.path_mask(mz.parse(r.solution)).sum()) + 2
        yield r

SHOW_EACH = 5  # up to this many mazes are drawn one by one; more get a progress bar and a summary


def _status(k: int, r: Result) -> str:
    head = f"maze {k}: " if k else ""
    if r.solved:
        length = r.extra.get("path_length")
        path = f" · path {length} cells" if length is not None else ""
        return f"{head}[bold green]solved[/] (verified){path} · {r.seconds:.3f} s"
    return f"{head}[bold red]unsolved[/]: {r.error or 'no verified path'} · {r.seconds:.3f} s"


def _show(k: int, maze: mz.Maze, r: Result) -> None:
    shown = mz.parse(r.solution) if r.solution else maze.with_path(None)
    console.print(mz.render(shown))
    console.print(_status(k, r), highlight=False, soft_wrap=True)


def _summary(mazes: list[mz.Maze], results: list[Result]) -> None:
    from rich.table import Table

    solved = [r for r in results if r.solved]
    lengths = [r.extra["path_length"] for r in solved if "path_length" in r.extra]
    table = Table(title="maze results", title_justify="left")
    for col in ("mazes", "solved", "unsolved", "mean path", "mean s", "total s"):
        table.add_column(col, justify="right")
    table.add_row(
        str(len(results)),
        str(len(solved)),
        str(len(results) - len(solved)),
        f"{sum(lengths) / len(lengths):.1f}" if lengths else "-",
        f"{sum(r.seconds for r in results) / max(1, len(results)):.3f}",
        f"{sum(r.seconds for r in results):.2f}",
    )
    console.print(table)
    failed = [(k, r) for k, r in enumerate(results, start=1) if not r.solved]
    for k, r in failed[:10]:
        console.print(
            f"{mazes[k - 1].source or f'maze {k}'}: [red]unsolved[/]: {r.error}", highlight=False, soft_wrap=True
        )
    if len(failed) > 10:
        console.print(f"... and {len(failed) - 10} more unsolved", highlight=False)


@solve_app.command("maze")
@guarded
def solve_maze(
    file: str = typer.Argument(..., help="Maze file (mazes separated by empty lines), or - for stdin."),
    solver: str = typer.Option(DEFAULT_SOLVER, "--solver", "-s", help=f"Solver: {', '.join(SOLVER_NAMES)}."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per maze per line on stdout."),
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.001, help="Seconds allowed per maze; a neural solver gives up a maze there (batched: the batch gets this per maze)."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Only the first N mazes of the file."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Neural: a trained model (default: the shipped one)."),
    loops: Optional[int] = typer.Option(None, "--loops", help="Neural: passes of the looped core per step (default: a trace model, up to 2 per open cell + 64, "
                               "stopping once its answer verifies; other models, K_max scaled by maze side / trained side)."),
    warm_loops: Optional[int] = typer.Option(None, "--warm-loops", help="LoopMDM: loops per step after the first, started from the last step's state (0 = every step from scratch; default: the task's, sudoku 0, maze 4)."),
    steps: int = typer.Option(64, "--steps", help="Neural: denoising step limit (scaled like --loops for a model without a trace)."),
    chains: int = typer.Option(1, "--chains", help="Neural: sampling chains per maze (the first verified one is kept)."),
    retract: bool = typer.Option(True, "--retract/--no-retract", help="Neural: retract broken or doubtful path cells."),
    show: bool = typer.Option(False, "--show", help="Neural, one maze: draw the path forming live."),
    device: Optional[str] = typer.Option(None, "--device", help="Neural: cpu, cuda, ... (default: CUDA when present)."),
) -> None:
    """Find a shortest path from S to G in each maze; exit 1 if any maze is left unsolved."""
    if solver not in SOLVER_NAMES:
        raise fail(f"unknown solver {solver!r}; choose from {', '.join(SOLVER_NAMES)}")
    mazes = mz.read_file(file)[:limit]
    if solver in NEURAL:
        if show and len(mazes) > 1:
            raise fail("--show draws one maze; give a file with one maze or --limit 1")
        if show and json_out:
            raise fail("--show draws for people and --json writes for scripts; give one of them")
        neural = neural_solver(solver, "maze", checkpoint, loops, steps, chains, retract, device, warm_loops=warm_loops, time_limit=time_limit)
        stream = _neural(neural, mazes, show)
    else:
        stream = SOLVERS[solver](mazes, time_limit)  # a worker pool starts here, before any live display
    results: list[Result] = []
    many = len(mazes) > 1
    if not many or (len(mazes) <= SHOW_EACH and not json_out):
        for k, (r, maze) in enumerate(zip(stream, mazes), start=1):
            results.append(r)
            if show and not json_out:  # the live view already drew the maze
                console.print(_status(k if many else 0, r), highlight=False, soft_wrap=True)
            else:
                _emit(k if many else 0, maze, r, json_out, show=True)
            if "steps" in r.extra and not json_out:
                e = r.extra
                console.print(f"{e['steps']} steps, {e['commits']} commits, {e['retractions']} retractions, "
                              f"{e['restarts']} restarts, {loops_text(e)}", highlight=False)
    else:
        with progress() as bar:
            task = bar.add_task(f"solving ({solver})", total=len(mazes), status="")
            for k, (r, maze) in enumerate(zip(stream, mazes), start=1):
                results.append(r)
                _emit(k, maze, r, json_out, show=False)
                bar.update(task, advance=1, status=f"{sum(x.solved for x in results)}/{k} solved")
        if not json_out:
            _summary(mazes, results)
    exit_for(results)


def _emit(k: int, maze: mz.Maze, r: Result, json_out: bool, show: bool) -> None:
    if json_out:
        print_json({**r.to_json(), "source": maze.source})
    elif show:
        _show(k, maze, r)


@generate_app.command("maze")
@guarded
def generate_maze(
    n: int = typer.Option(1, "-n", "--count", min=1, help="How many mazes."),
    size: int = typer.Option(11, "--size", min=5, help="Maze side in characters (odd sizes fill best)."),
    kind: str = typer.Option("perfect", "--kind", help=f"Maze kind: {', '.join(mz.KINDS)}."),
    min_path: Optional[int] = typer.Option(
        None, "--min-path", min=2, help="Least shortest-path length, in cells with S and G."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same mazes)."),
    algorithm: str = typer.Option("backtracker", "--algorithm", help=f"Perfect mazes: {', '.join(mz.ALGORITHMS)}."),
    with_path: bool = typer.Option(False, "--with-path", help="Mark a shortest path with o."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write (default stdout)."),
) -> None:
    """Generate mazes, written as text separated by empty lines."""
    mazes = mz.generate(n, size, kind=kind, min_path=min_path, seed=seed, algorithm=algorithm)
    if with_path:
        mazes = [mz.solve(m) for m in mazes]
    text = mz.write_text(mazes, with_path=with_path)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_text(output, text)
    err_console.print(f"wrote {len(mazes)} maze{'s' if len(mazes) != 1 else ''} to {output}", highlight=False)
