"""`csp solve maze` and `csp generate maze`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from cli import render
from cli.answers import Answers, AnswersFile, Format, Kind, SkipInvalid, check_format, pick_format, report, skipped, source
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
    sampler_fields,
    writable,
)
from cli.options import (
    DEFAULT_TIME_LIMIT,
    MAX_COUNT,
    MAX_MAZE,
    Chains,
    Checkpoint,
    Count,
    Decoder,
    JsonLines,
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
    library_help,
    neural_facts,
)
from cli.show import maze_live
from puzzles import maze as mz
from puzzles.domains import get_task
from puzzles.files import write_text
from puzzles.result import Result

SHOW_FAILED = 10


def _status(k: int, r: Result) -> str:
    head = f"maze {k}: " if k else ""
    if r.solved:
        length = r.extra.get("path_length")
        path = f" · path {length} cells" if length is not None else ""
        return f"{head}[bold green]solved[/] (verified){path} · {r.seconds:.3f} s"
    return f"{head}[bold red]unsolved[/]: {escape(r.error or 'no verified path')} · {r.seconds:.3f} s"


def _summary(mazes: list[mz.Maze], results: list[Result], out=console) -> None:
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
    out.print(table)
    failed = [(k, r) for k, r in enumerate(results, start=1) if not r.solved]
    for k, r in failed[:SHOW_FAILED]:
        out.print(
            f"{escape(mazes[k - 1].source or f'maze {k}')}: [red]unsolved[/]: {escape(str(r.error))}", highlight=False,
            soft_wrap=True
        )
    if len(failed) > SHOW_FAILED:
        out.print(f"... and {len(failed) - SHOW_FAILED} more unsolved", highlight=False)


def _line(k: int, maze: mz.Maze, r: Result) -> str:
    """The answer's text (the path marked o); the maze as given when it is not solved."""
    return r.solution if r.solved and r.solution else mz.to_text(maze, with_path=False)


def _kind(many: bool, drawn: bool) -> Kind:
    """How mazes' answers are written; `drawn`: the live view has drawn the maze already."""

    def draw(k: int, maze: mz.Maze, r: Result) -> list:
        items: list = [] if drawn else [render.maze(mz.parse(r.solution) if r.solution else maze.with_path(None))]
        items.append(_status(k if many else 0, r))
        if "steps" in r.extra:
            e = r.extra
            items.append(escape(f"{e['steps']} steps, {e['commits']} commits, {e['retractions']} retractions, "
                                f"{e['restarts']} restarts, {loops_text(e)}; {decoding_text(e)}"))
        return items

    return Kind(line=_line, draw=draw, gap="\n")


@solve_app.command("maze", cls=library_help(lambda: neural_facts("maze")))
@guarded
def solve_maze(
    file: Annotated[str | None, typer.Argument(
        metavar="FILE|-", help="Maze file (mazes separated by empty lines), or - for stdin; nothing: the piped "
        "standard input.")] = None,
    solver: Solver = None,
    fmt: Format = None,
    json_out: JsonLines = False,
    output: AnswersFile = None,
    skip_invalid: SkipInvalid = False,
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT,
    limit: Limit = None,
    checkpoint: Checkpoint = None,
    loops: Loops = None,
    warm_loops: WarmLoops = None,
    steps: Steps = None,
    chains: Chains = None,
    spare_after: SpareAfter = None,
    retract: Retract = True,
    decoder: Decoder = None,
    rules: Rules = True,
    show: Show = False,
    device: NeuralDevice = None,
) -> None:
    """Find a shortest path from S to G in each maze, each answer written as it settles; exit 1 if any maze is
    left unsolved (or was skipped), 2 on bad input, 130 on Ctrl-C.

    The exact solver (cpsat) takes a maze of any size that fits in memory (a BFS path guides it; its time
    limit bounds the search); the neural models take any size too, their memory growing with the cells.
    `csp generate maze` makes mazes up to 1001 x 1001.

    Examples:

    csp solve maze puzzles/data/sample.maze
    csp generate maze -n 20 --size 31 | csp solve maze --solver cpsat --json"""
    solver, neural = pick_solver(solver, "maze")
    positive_time_limit(time_limit)
    at_least(("--limit", limit, 1))
    sampler_fields(loops=loops, steps=steps, chains=chains, spare_after=spare_after, warm_loops=warm_loops,
                   decoder=decoder)  # bounds
    check_format(fmt, json_out)
    writable(output)
    if not neural:
        ignored(solver, {"--chains": chains is not None, "--show": show, "--loops": loops is not None,
                         "--warm-loops": warm_loops is not None, "--steps": steps is not None,
                         "--spare-after": spare_after is not None, "--decoder": decoder is not None,
                         "--no-rules": not rules})
    warn, said = skipped(skip_invalid)
    mazes = mz.read_file(source(file, "mazes"), on_error=warn, limit=limit)
    show = show and neural
    if show and len(mazes) > 1:
        raise fail("--show draws one maze; give a file with one maze or --limit 1")
    if show and json_out:
        raise fail("--show draws for people and --json writes for scripts; give one of them")
    if show and (fmt not in (None, "grid") or output is not None):
        raise fail("--show draws for people; give it without --format or -o")
    answers = Answers(_kind(len(mazes) > 1, drawn=show), pick_format(fmt, json_out, len(mazes), False, output), output,
                      single=False)
    if not neural:
        stream = get_task("maze").solve_exact(mazes, solver, time_limit)  # its workers start before any live display
        _after(mazes, report(mazes, stream, answers, f"solving ({solver})"), answers, said)
        return
    ns = neural_solver(solver, "maze", checkpoint, device, loops=loops, steps=steps, chains=chains,
                       spare_after=spare_after, warm_loops=warm_loops, retract=retract, rules=rules, decoder=decoder,
                       time_limit=time_limit)
    if show:
        with maze_live(mazes[0], ns) as on_step:
            results = [_with_length(r) for r in ns.solve_screened(mazes, on_step=on_step)]  # reported after the view
        _after(mazes, report(mazes, results, answers, f"solving ({solver})"), answers, said)
        return
    _after(mazes, report(mazes, ns.solve_screened(mazes), answers, f"solving ({solver})", after=_with_length), answers,
           said)


def _after(mazes: list[mz.Maze], results: list[Result], answers: Answers, said: list[str]) -> None:
    """Several mazes' summary (where `answers` says); the exit code (1 when any was not solved or was skipped)."""
    out = answers.summary_console()
    if len(mazes) > 1 and out is not None:
        _summary(mazes, results, out)
        if said:
            out.print(f"{len(said)} skipped (bad input)", highlight=False, soft_wrap=True)
    if said:
        raise typer.Exit(EXIT_UNSOLVED)
    exit_for(results)


def _with_length(r: Result) -> Result:
    """A neural result with the path length an exact solver's carries (cells, S and G included)."""
    if r.solution is not None:
        r.extra["path_length"] = int(mz.path_mask(mz.parse(r.solution)).sum()) + 2
    return r


@generate_app.command("maze")
@guarded
def generate_maze(
    n: Count = 1,
    size: Annotated[int, typer.Option(
        "--size", min=5, help=f"Maze side in characters (odd sizes fill best; at most {MAX_MAZE}).")] = 11,
    kind: Annotated[str, typer.Option("--kind", help=f"Maze kind: {', '.join(mz.KINDS)}, or {mz.MIXED} (all five "
                                      "in equal shares, in turn).")] = "perfect",
    min_path: Annotated[int | None, typer.Option(
        "--min-path", min=2, help="Least shortest-path length, in cells with S and G.")] = None,
    seed: Seed = 0,
    algorithm: Annotated[str, typer.Option(
        "--algorithm", help=f"Perfect mazes: {', '.join(mz.ALGORITHMS)}.")] = "backtracker",
    share: Annotated[float | None, typer.Option(
        "--share", min=0.0, max=1.0, help="walls: the share of cells that are walls (default: drawn per maze from "
        "0.3-0.5); rooms: the share of the inside in open rooms (default: from 0.2-1.0).")] = None,
    with_path: Annotated[bool, typer.Option("--with-path", help="Mark a shortest path with o.")] = False,
    output: Output = None,
) -> None:
    """Generate mazes, written as text separated by empty lines.

    Kinds: perfect (one route between any two cells), open (a perfect maze with 5% of its walls knocked out),
    walls (every cell a wall at random, no border: the Maze-Hard construction), rooms (open rectangles carved
    into a perfect maze), borderless (an open maze whose border is cut off).

    Examples:

    csp generate maze --size 21 --with-path
    csp generate maze -n 100 --size 31 --kind rooms --seed 7 -o rooms.txt"""
    at_least(("-n", n, 1))
    at_most(("-n", n, MAX_COUNT), ("--size", size, MAX_MAZE))
    if seed < 0:
        raise fail(f"--seed must be 0 or more, got {seed}")
    writable(output)
    mazes = mz.generate(n, size, kind=kind, min_path=min_path, seed=seed, algorithm=algorithm, share=share)
    if with_path:
        mazes = [mz.solve(m) for m in mazes]
    text = mz.write_text(mazes, with_path=with_path)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_text(output, text)
    err_console.print(f"wrote {len(mazes)} maze{'s' if len(mazes) != 1 else ''} to {output}", highlight=False, markup=False,
                      soft_wrap=True)
