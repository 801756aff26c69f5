"""`csp solve kakuro` and `csp generate kakuro`: Kakuro solved exactly (CP-SAT, the default) or by a trained
model (`--solver loopmdm --checkpoint RUN/model.safetensors`; no Kakuro model is shipped yet)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

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
    progress,
    sampler_fields,
    writable,
)
from cli.options import (
    DEFAULT_TIME_LIMIT,
    MAX_COUNT,
    MAX_WORKERS,
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
    SpareAfter,
    Steps,
    TimeLimit,
    WarmLoops,
    Workers,
    library_help,
    neural_facts,
)
from puzzles.files import write_text
from puzzles.kakuro import generator as gen
from puzzles.kakuro import grid
from puzzles.kakuro.grid import Kakuro
from puzzles.kakuro.task import KakuroTask
from puzzles.result import Result

SHOW_FAILED = 10
PROGRESS_FROM = 10  # `generate` shows a progress bar from this many puzzles


def draw(puzzle: Kakuro, answer: Kakuro | None = None) -> Text:
    """The text form for a terminal: clues dim, givens bold, the answer's digits cyan."""
    shown = answer or puzzle
    rows = grid.tokens(shown)
    widths = [max(len(row[c]) for row in rows) for c in range(puzzle.shape[1])]
    out = Text()
    for r, row in enumerate(rows):
        for c, tok in enumerate(row):
            style = ("bold white" if puzzle.digits[r, c] else "cyan") if puzzle.white[r, c] else "dim"
            out.append(tok if c == len(row) - 1 else tok.ljust(widths[c]), style=style)
            out.append(" " if c < len(row) - 1 else "")
        if r < len(rows) - 1:
            out.append("\n")
    return out


def _status(k: int, r: Result) -> str:
    head = f"puzzle {k}: " if k else ""
    if r.solved:
        return f"{head}[bold green]solved[/] (verified) by {r.solver} in {r.seconds:.3f} s"
    return f"{head}[bold red]not solved[/]: {escape(r.error or 'no verified solution')} ({r.solver}, {r.seconds:.3f} s)"


def _summary(puzzles: list[Kakuro], results: list[Result], out=console) -> None:
    from rich.table import Table

    solved = sum(r.solved for r in results)
    table = Table(title=f"kakuro · {results[0].solver if results else ''} (solved = verified)", title_justify="left")
    for col in ("puzzles", "solved", "unsolved", "mean s", "total s"):
        table.add_column(col, justify="right")
    total = sum(r.seconds for r in results)
    table.add_row(str(len(results)), str(solved), str(len(results) - solved), f"{total / max(1, len(results)):.3f}",
                  f"{total:.2f}")
    out.print(table)
    failed = [(k, r) for k, r in zip(puzzles, results) if not r.solved]
    for k, r in failed[:SHOW_FAILED]:
        out.print(f"{escape(k.source)}: [red]not solved[/]: {escape(str(r.error))}", highlight=False, soft_wrap=True)
    if len(failed) > SHOW_FAILED:
        out.print(f"... and {len(failed) - SHOW_FAILED} more not solved", highlight=False)


def _line(k: int, puzzle: Kakuro, r: Result) -> str:
    """The answer in the text form (the puzzle as given when unsolved) after a % line with its status: text that
    `csp solve kakuro` reads back."""
    status = "solved (verified)" if r.solved else f"not solved: {r.error}"
    return f"% puzzle {k} ({puzzle.source}): {status}\n{r.solution if r.solved else grid.to_text(puzzle)}"


def _kind(many: bool) -> Kind:
    def drawn(k: int, puzzle: Kakuro, r: Result) -> list:
        items = [draw(puzzle, grid.parse(r.solution) if r.solved else None), _status(k if many else 0, r)]
        if "steps" in r.extra:  # a model's
            e = r.extra
            items.append(escape(f"{e['steps']} steps, {e['commits']} commits, {e['retractions']} retractions, "
                                f"{e['restarts']} restarts, {loops_text(e)}; {decoding_text(e)}"))
        return items

    return Kind(line=_line, draw=drawn, gap="\n")


def _verified(task: KakuroTask, puzzle: Kakuro, r: Result) -> Result:
    """A model's result as reported: solved only when its answer passes the Kakuro verifier here too."""
    if r.solved and task.check(puzzle, task.answer(r.solution)) is not None:  # pragma: no cover - never seen
        return replace(r, verified=False, solution=None, error="the answer failed the verifier")
    return r


@solve_app.command("kakuro", cls=library_help(lambda: neural_facts("kakuro")))
@guarded
def solve_kakuro(
    file: Annotated[str | None, typer.Argument(
        metavar="FILE|-", help="Kakuro file (puzzles separated by blank lines), or - for stdin; nothing: the piped "
        "standard input.")] = None,
    solver: Annotated[str | None, typer.Option(
        "--solver", "-s", help="Solver: {solvers} (default cpsat, the exact CP-SAT oracle; a model needs "
        "--checkpoint: no Kakuro model is shipped yet).")] = None,
    fmt: Format = None,
    json_out: JsonLines = False,
    output: AnswersFile = None,
    skip_invalid: SkipInvalid = False,
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT,
    check_unique: Annotated[bool, typer.Option(
        "--check-unique/--no-check-unique",
        help="Refuse a puzzle without exactly one solution (a 2nd solve proves it unique); else stop at one.")] = True,
    limit: Limit = None,
    workers: Workers = 2,
    checkpoint: Checkpoint = None,
    loops: Loops = None,
    warm_loops: WarmLoops = None,
    steps: Steps = None,
    chains: Chains = None,
    spare_after: SpareAfter = None,
    retract: Retract = True,
    decoder: Decoder = None,
    rules: Rules = True,
    device: NeuralDevice = None,
) -> None:
    """Solve Kakuro puzzles, each answer written as it settles; exit 0 if all are solved (and verified), 1 if any
    is not (or was skipped), 2 on bad input, 130 on Ctrl-C.

    Text form: one row per line, cells separated by spaces; # a blocked cell, D\\R a clue (the sum of the run
    below, of the run to the right; either may be left out), . a cell to fill, 1-9 a given; lines starting
    with % are comments. The line format writes each answer in the same form after a % line with its status.

    A model (--solver loopmdm --checkpoint RUN/model.safetensors, from csp train loopmdm --task kakuro) runs
    on any size; its answers count only once the Kakuro verifier accepts them."""
    solver, neural = pick_solver(solver or "cpsat", "kakuro")
    positive_time_limit(time_limit)
    at_least(("--limit", limit, 1), ("--workers", workers, 1))
    at_most(("--workers", workers, MAX_WORKERS))
    sampler_fields(loops=loops, steps=steps, chains=chains, spare_after=spare_after, warm_loops=warm_loops,
                   decoder=decoder)  # bounds
    check_format(fmt, json_out)
    writable(output)
    if not neural:
        ignored(solver, {"--checkpoint": checkpoint is not None, "--chains": chains is not None,
                         "--loops": loops is not None, "--warm-loops": warm_loops is not None,
                         "--steps": steps is not None, "--spare-after": spare_after is not None,
                         "--decoder": decoder is not None, "--no-rules": not rules, "--no-retract": not retract,
                         "--device": device is not None})
    warn, said = skipped(skip_invalid)
    puzzles = grid.read_file(source(file, "Kakuro puzzles"), on_error=warn, limit=limit)
    answers = Answers(_kind(len(puzzles) > 1), pick_format(fmt, json_out, len(puzzles), False, output), output,
                      single=False)
    task = KakuroTask()
    if neural:
        ns = neural_solver(solver, "kakuro", checkpoint, device, loops=loops, steps=steps, chains=chains,
                           spare_after=spare_after, warm_loops=warm_loops, retract=retract, rules=rules,
                           decoder=decoder, time_limit=time_limit)
        stream = (_verified(task, p, r) for p, r in zip(puzzles, ns.solve_screened(puzzles, check_unique)))
    else:
        stream = task.solve_exact(puzzles, solver, time_limit, workers=workers, check_unique=check_unique)
    results = report(puzzles, stream, answers, f"solving ({solver})")  # the workers start before the progress display
    out = answers.summary_console()
    if len(puzzles) > 1 and out is not None:
        _summary(puzzles, results, out)
        if said:
            out.print(f"{len(said)} skipped (bad input)", highlight=False, soft_wrap=True)
    if said:
        raise typer.Exit(EXIT_UNSOLVED)
    exit_for(results)


def _size(text: str) -> tuple[int, int]:
    """(rows, cols) of RxC, or N for N x N."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
    if m is None:
        raise fail(f"--size must be RxC (e.g. 10x12) or N, got {text!r}")
    rows = int(m.group(1))
    return rows, int(m.group(2) or rows)


@generate_app.command("kakuro")
@guarded
def generate_kakuro(
    n: Count = 1,
    size: Annotated[str, typer.Option(
        "--size", help=f"Rows x columns, the clue row and column included: RxC (e.g. 10x12) or N for N x N; each "
        f"{gen.MIN_SIDE} to {gen.MAX_SIDE}.")] = "8x8",
    seed: Seed = 0,
    output: Output = None,
) -> None:
    """Generate Kakuro puzzles with exactly one solution (digits given where the clues alone leave a choice),
    in the text form, separated by blank lines."""
    at_least(("-n", n, 1), ("--seed", seed, 0))
    at_most(("-n", n, MAX_COUNT))
    rows, cols = _size(size)
    gen.check_size(rows, cols)
    writable(output)
    made = gen.generate(rows, cols, n, seed)
    if n >= PROGRESS_FROM:
        puzzles = []
        with progress() as bar:
            job = bar.add_task(f"generating ({rows}x{cols})", total=n, status="")
            for k, _ in made:
                puzzles.append(k)
                bar.update(job, advance=1)
    else:
        puzzles = [k for k, _ in made]
    text = grid.write_text(puzzles)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_text(output, text)
    err_console.print(f"wrote {n} Kakuro puzzle{'s' if n != 1 else ''} to {output}", highlight=False)
