"""`csp bench`: every solver on one puzzle set, one row each."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.common import at_least, console, fail, guarded, positive_time_limit, print_json, progress, sampler_fields, writable
from cli.options import (
    DEFAULT_TIME_LIMIT,
    NEURAL,
    Chains,
    Decoder,
    Limit,
    Loops,
    NeuralDevice,
    Retract,
    Rules,
    SpareAfter,
    Steps,
    Task,
    TimeLimit,
    WarmLoops,
    library_help,
    neural_facts,
)
from puzzles.contract import HYBRID, TERMINAL, capable, neural
from puzzles.domains import DEFAULT, TASKS, get_task
from puzzles.files import write_text

# (header, how to show a row) for the people's table; --json and --csv carry every field unrounded
COLUMNS = (
    ("solver", lambda r: r["solver"]),
    ("decoder", lambda r: _opt(r.get("decoder"), lambda v: v + ("" if r["rules"] else ", no rules"))),
    ("budget", lambda r: _budget(r)),
    ("n", lambda r: str(r["puzzles"])),
    ("no sol.", lambda r: str(r.get("no_solution", 0))),  # no or several solutions, no path: apart from misses
    ("solved (95% CI)", lambda r: f"{100 * r['solve_rate']:.1f}% ({100 * r['ci95_low']:.0f}-{100 * r['ci95_high']:.0f})"),
    ("cells", lambda r: _opt(r["cell_accuracy"], lambda v: f"{100 * v:.1f}%")),
    ("steps", lambda r: _opt(r["mean_steps"], lambda v: f"{v:.1f}")),
    ("retr.", lambda r: _opt(r["mean_retractions"], lambda v: f"{v:.1f}")),
    ("med s", lambda r: _opt(r["median_seconds"], lambda v: f"{v:.3f}")),
    ("p95 s", lambda r: _opt(r["p95_seconds"], lambda v: f"{v:.3f}")),
    ("start-up s", lambda r: _opt(r.get("startup_seconds"), lambda v: f"{v:.2f}")),
    ("/s", lambda r: _opt(r["puzzles_per_second"], lambda v: f"{v:.1f}")),  # after start-up
    ("params", lambda r: _opt(r["params"], lambda v: f"{v / 1e6:.2f}M")),
    ("train FLOPs", lambda r: _opt(r.get("train_flops"), lambda v: f"{v:.1e}" + ("" if r["matched"] else " (not matched)"))),
    ("GFLOP", lambda r: _opt(r["flops_per_puzzle"], lambda v: f"{v / 1e9:.1f}")),
)


def _examples() -> str:
    """The help's examples: the default task's generator spec, and each other kind's with --task."""
    specs = {name: t.terminal.bench for name, t in TASKS.items() if capable(t, TERMINAL) and t.terminal.bench}
    return "".join(f"\n    csp bench --puzzles {spec}" if name == DEFAULT else
                   f"\n    csp bench --task {name} --puzzles {spec} --json" for name, spec in specs.items())


def _opt(v, show) -> str:
    return "-" if v is None else show(v)


def _budget(row: dict) -> str:
    """'12 steps', '12 steps, 10 s', 'fixed' (a decoder whose model calls are fixed), '10 s', 'auto s' (each
    puzzle's size default) or 'search'."""
    if row["budget"] == "search":
        return "search"
    if row["budget"] == "time":
        return "auto s" if row["time_limit"] is None else f"{row['time_limit']:g} s"
    steps = "fixed" if row["max_steps"] is None else f"{row['max_steps']} steps"
    return steps + (f", {row['time_limit']:g} s" if row["time_limit"] else "")


@app.command("bench", cls=library_help(neural_facts))
@guarded
def bench(
    puzzles: Annotated[str, typer.Option(
        "--puzzles", "-p", help="A puzzle file, or a generator spec: " + ", ".join(
            f"{t.terminal.bench} ({name})" for name, t in TASKS.items() if capable(t, TERMINAL) and
            t.terminal.bench) + ".")],
    task: Task = DEFAULT,
    solvers: Annotated[str | None, typer.Option(
        "--solvers", help="Comma-separated, of {solvers} (default: {default} and the task's "
        "first exact solver; a task without models, its first exact solver alone).")] = None,
    limit: Limit = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON list of rows on stdout.")] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Also write the rows to this CSV file.")] = None,
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT,
    steps: Steps = None,
    chains: Chains = None,
    loops: Loops = None,
    warm_loops: WarmLoops = None,
    spare_after: SpareAfter = None,
    retract: Retract = True,
    decoder: Decoder = None,
    rules: Rules = True,
    checkpoints: Annotated[Path | None, typer.Option(
        "--checkpoints", rich_help_panel=NEURAL, help="Folder of TASK-KIND.safetensors (default: the shipped ones).")] = None,
    device: NeuralDevice = None,
) -> None:
    """Run each solver on each puzzle and report solve rate (95% CI), accuracy, steps, speed and cost.

    budget: what limited each puzzle. With --steps (and no --time-limit) a neural solver has a step limit alone,
    model calls per chain, so its results do not depend on the machine's load; with --time-limit as well it has
    both (the puzzles given up at the time limit are counted); exact solvers have the time limit, by default each
    puzzle's own, fitted to its size (auto).

    no sol.: puzzles without the one answer a benchmark scores (no solution or several; no path), counted apart:
    neither solved nor missed. cells: unknown cells as the reference answer has them, every cell of a verified
    answer right. start-up s: loading the model, or starting an exact solver's worker processes; /s is the
    throughput after it.

    Examples:"""
    from csp_diffusion import bench as b
    from csp_diffusion import models

    t = get_task(task)  # the task named on the command line, once; an unknown task is one line here
    known = b.solvers(t)
    if solvers is None:  # a task without a model to run (none shipped, no --checkpoints) runs its first oracle alone
        from csp_diffusion.solver import SHIPPED

        oracle = t.oracles[0]
        has = checkpoints is not None or (SHIPPED / f"{task}-{models.DEFAULT}.safetensors").is_file()
        solvers = f"{models.DEFAULT},{oracle}" if neural(t) and has else oracle
    names = [s.strip() for s in solvers.split(",") if s.strip()]
    if not names:
        raise fail(f"--solvers names no solver; choose from {', '.join(known)}")
    for name in names:
        if name not in known and models.kind_of(name) and not neural(t):
            raise fail(f"no {task.capitalize()} model yet; choose from {', '.join(known)}")
        if name not in known:
            raise fail(f"unknown solver {name!r} for {task}; choose from {', '.join(known)}")
        model = "loopmdm" if capable(t, HYBRID) and name in t.hybrids else name if models.kind_of(name) else None
        if model and checkpoints is None:  # a model (a hybrid's too) with none shipped: one line before any display
            from csp_diffusion.errors import CheckpointError
            from csp_diffusion.solver import shipped_checkpoint

            try:
                shipped_checkpoint(model, task)
            except CheckpointError:
                raise fail(f"no shipped {model} checkpoint for {task}{'' if model == name else f' (the {name} asks it)'}; "
                           f"pass --checkpoints DIR, a folder holding {task}-{model}.safetensors") from None
    positive_time_limit(time_limit)
    at_least(("--limit", limit, 1))
    # a budget in steps (--steps alone): the time limit does not cut a neural solver's puzzles short
    neural_limit = 0.0 if steps is not None and time_limit is None else time_limit
    sampler = sampler_fields(loops=loops, steps=steps, chains=chains, spare_after=spare_after, warm_loops=warm_loops,
                             retract=retract, rules=rules, decoder=decoder, time_limit=neural_limit)
    writable(csv_out)
    pset = b.load(t, puzzles, limit)
    if not pset.puzzles:
        raise fail(f"no puzzles in {puzzles}")
    rows = []
    with progress() as bar:
        for name in names:
            job = bar.add_task(name, total=len(pset.puzzles), status="")
            done = {"n": 0, "solved": 0}

            def tick(r, job=job, done=done):
                done["n"] += 1
                done["solved"] += r.solved
                bar.update(job, advance=1, status=f"{done['solved']}/{done['n']} verified")

            kind = models.kind_of(name)
            asked = {k: v for k, v in sampler.items() if v is not None}
            given = ({**models.sampling_defaults(kind, t, decoder), **asked,
                      "time_limit": sampler["time_limit"]} if kind else sampler)  # the user's win
            rows.append(b.summarize(pset, b.run(name, pset, given, time_limit, checkpoints, device, tick)))
    b.mark_matched(rows)
    if csv_out is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        write_text(csv_out, buf.getvalue())
    if json_out:
        print_json(rows)  # type: ignore[arg-type]
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{task} · {escape(pset.name)} · {len(pset.puzzles)} puzzles (solved = verified)",
                  title_justify="left")
    for header, _ in COLUMNS:
        table.add_column(header, justify="left" if header == "solver" else "right")
    for row in rows:
        table.add_row(*(show(row) for _, show in COLUMNS))
    console.print(table)
    for r in rows:
        if r.get("median_nodes") is not None:
            console.print(f"{r['solver']}: median {r['median_nodes']:g} search nodes against {r['median_free_nodes']:g} "
                          f"for the same search without the model; fewer on {100 * r['fewer_nodes_share']:.0f}% of "
                          f"puzzles, no backtrack on {100 * r['no_backtrack_share']:.0f}%", highlight=False)
    for r in rows:
        if r["timed_out"] and r["budget"] == "steps and time":
            console.print(f"{r['solver']}: {r['timed_out']} puzzle(s) given up at the time limit before the step "
                          "limit (--steps alone: a budget in steps only)", highlight=False)
    if any(r.get("matched") is False for r in rows):
        console.print("not matched: trained with less than 90% of the most-trained neural row's FLOPs; compare "
                      "architectures only between matched rows (the matched set: --solvers KIND@BUDGET,...)",
                      highlight=False)


bench.__doc__ += "\n" + _examples()  # the registry's kinds: the help's last paragraph
