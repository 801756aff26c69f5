"""`csp bench`: every solver on one puzzle set, one row each (rich table, --json rows, --csv file)."""

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
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.001, help="Oracles: seconds per puzzle (a time-out is unsolved)."),
    steps: int = typer.Option(64, "--steps", min=1, help="Neural: step limit (HRM: segments)."),
    chains: int = typer.Option(1, "--chains", min=1, help="Neural: chains per puzzle (LoopMDM)."),
    loops: Optional[int] = typer.Option(None, "--loops", min=1, help="Neural: loops (default: K_max, scaled with size)."),
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
    if csv_out is not None and not csv_out.parent.is_dir():
        raise fail(f"cannot write {csv_out}: no such folder {csv_out.parent}")
    pset = b.load(task, puzzles, limit)
    if not pset.puzzles:
        raise fail(f"no puzzles in {puzzles}")
    sampler = dict(loops=loops or 0, max_steps=steps, chains=chains, retract=retract)
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
