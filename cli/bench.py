"""`csp bench` (every solver on one puzzle set, one row each) and `csp compare` (the architecture study)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Optional

import typer

from cli.app import app
from cli.common import console, fail, guarded, print_json, progress
from puzzles.files import write_text

# (header, how to show a row) for the people's table; --json and --csv carry every field unrounded
COLUMNS = (
    ("solver", lambda r: r["solver"]),
    ("n", lambda r: str(r["puzzles"])),
    ("solved (95% CI)", lambda r: f"{100 * r['solve_rate']:.1f}% ({100 * r['ci95_low']:.0f}-{100 * r['ci95_high']:.0f})"),
    ("cells", lambda r: _opt(r["cell_accuracy"], lambda v: f"{100 * v:.1f}%")),
    ("steps", lambda r: _opt(r["mean_steps"], lambda v: f"{v:.1f}")),
    ("retr.", lambda r: _opt(r["mean_retractions"], lambda v: f"{v:.1f}")),
    ("med s", lambda r: _opt(r["median_seconds"], lambda v: f"{v:.3f}")),
    ("p95 s", lambda r: _opt(r["p95_seconds"], lambda v: f"{v:.3f}")),
    ("/s", lambda r: _opt(r["puzzles_per_second"], lambda v: f"{v:.1f}")),
    ("params", lambda r: _opt(r["params"], lambda v: f"{v / 1e6:.2f}M")),
    ("GFLOP", lambda r: _opt(r["flops_per_puzzle"], lambda v: f"{v / 1e9:.1f}")),
)


def _opt(v, show) -> str:
    return "-" if v is None else show(v)


@app.command("bench")
@guarded
def bench(
    task: str = typer.Option("sudoku", "--task", help="sudoku or maze."),
    puzzles: str = typer.Option(..., "--puzzles", "-p", help="A puzzle file, or a generator spec: gen:hard:1000:seed=1 "
                                "(Sudoku), gen:open:1000:size=30:min_path=110:seed=1 (mazes)."),
    solvers: str = typer.Option("loopmdm,cpsat", "--solvers", help="Comma-separated: loopmdm, ar, hrm, cpsat, constraint."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Only the first N puzzles."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list of rows on stdout."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the rows to this CSV file."),
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.001, help="Seconds per puzzle, every solver (a time-out is unsolved; neural: the batch gets this per puzzle)."),
    steps: int = typer.Option(64, "--steps", min=1, help="Neural: step limit (HRM: segments)."),
    chains: int = typer.Option(1, "--chains", min=1, help="Neural: chains per puzzle (LoopMDM)."),
    loops: Optional[int] = typer.Option(None, "--loops", min=1, help="Neural: loops (default: K_max, scaled with size)."),
    warm_loops: Optional[int] = typer.Option(None, "--warm-loops", min=0, help="LoopMDM: loops per step after the first, from the last step's state (default: the task's)."),
    retract: bool = typer.Option(True, "--retract/--no-retract", help="LoopMDM: retraction."),
    checkpoints: Optional[Path] = typer.Option(None, "--checkpoints", help="Folder of TASK-KIND.safetensors (default: shipped)."),
    device: Optional[str] = typer.Option(None, "--device", help="Neural: cpu, cuda, ..."),
) -> None:
    """Run each solver on each puzzle and report solve rate (95% CI), accuracy, steps, speed and cost."""
    from csp_diffusion import bench as b

    names = [s.strip() for s in solvers.split(",") if s.strip()]
    known = (*b.NEURAL, *b.ORACLES.get(task, ()))
    for name in names:
        if name not in known:
            raise fail(f"unknown solver {name!r} for {task}; choose from {', '.join(known)}")
    if csv_out is not None and csv_out.is_dir():
        raise fail(f"cannot write {csv_out}: it is a folder")
    if csv_out is not None and not csv_out.parent.is_dir():
        raise fail(f"cannot write {csv_out}: no such folder {csv_out.parent}")
    pset = b.load(task, puzzles, limit)
    if not pset.puzzles:
        raise fail(f"no puzzles in {puzzles}")
    sampler = dict(loops=loops or 0, max_steps=steps, chains=chains, retract=retract, warm_loops=warm_loops,
                   time_limit=time_limit)
    rows = []
    with progress() as bar:
        for name in names:
            job = bar.add_task(name, total=len(pset.puzzles), status="")
            done = {"n": 0, "solved": 0}

            def tick(r, job=job, done=done):
                done["n"] += 1
                done["solved"] += r.solved
                bar.update(job, advance=1, status=f"{done['solved']}/{done['n']} verified")

            rows.append(b.summarize(pset, b.run(name, pset, sampler, time_limit, checkpoints, device, tick)))
    if csv_out is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        write_text(csv_out, buf.getvalue())
    if json_out:
        print_json(rows)  # type: ignore[arg-type]
        return
    from rich.table import Table

    table = Table(title=f"{task} · {pset.name} · {len(pset.puzzles)} puzzles (solved = verified)", title_justify="left")
    for header, _ in COLUMNS:
        table.add_column(header, justify="left" if header == "solver" else "right")
    for row in rows:
        table.add_row(*(show(row) for _, show in COLUMNS))
    console.print(table)


@app.command("compare")
@guarded
def compare(
    task: str = typer.Option("sudoku", "--task", help="sudoku or maze."),
    budget: float = typer.Option(3.0, "--budget", min=0.05, help="Training minutes per run (every variant the same)."),
    seeds: int = typer.Option(2, "--seeds", min=1, help="Runs per variant."),
    out: Path = typer.Option(Path("runs/compare"), "--out", help="Folder for the runs, results.json, report.md, plots."),
    eval_puzzles: int = typer.Option(100, "--eval-puzzles", min=1, help="Held-out generated puzzles to score on."),
    k_max: int = typer.Option(4, "--k-max", min=2, help="LoopMDM's most loops in training (sets mdm-same-compute's depth)."),
    dim: int = typer.Option(64, "--dim", min=8, help="Width of every variant."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, ..."),
) -> None:
    """Train LoopMDM, a same-parameter MDM, a same-compute deeper MDM, AR and HRM with matched budgets and
    seeds; evaluate them on one held-out set; write a report that says which claims held."""
    if task not in ("sudoku", "maze"):
        raise fail(f"unknown task {task!r}; choose from sudoku, maze")
    from csp_diffusion.compare import Study, run

    study = Study(task=task, budget_minutes=budget, seeds=seeds, k_max=k_max, dim=dim, eval_puzzles=eval_puzzles,
                  device=device)
    runs = len(study.variants()) * seeds
    with progress() as bar:
        job = bar.add_task("compare", total=runs, status="")

        def on_event(e: dict) -> None:
            if e.get("event") == "variant":
                bar.update(job, status=f"training {e['name']} seed {e['seed']}")
            elif e.get("event") == "step":
                bar.update(job, status=f"{e.get('progress', 0) * 100:.0f}% · loss {e['loss']:.3f}")
            elif e.get("event") == "evaluated":
                bar.update(job, advance=1, status=f"{e['variant']} seed {e['seed']}: {100 * e['solve_rate']:.0f}%")

        run(study, out, on_event)
    console.print((out / "report.md").read_text(), highlight=False, soft_wrap=True)
    console.print(f"report: {out / 'report.md'}; results: {out / 'results.json'}", highlight=False)

