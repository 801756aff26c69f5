"""Throughput and per-puzzle time of the exact Sudoku oracles on benchmark files.

The table of docs/results/oracles.md (both oracles, top95 + magictour1465), and the
results/ files it writes:

    python experiments/bench_oracles/run.py --json results/oracles/oracles.json
    python experiments/bench_oracles/run.py --check-unique --json results/oracles/oracles-unique.json

Each oracle runs over each file through `solve_many` on a process pool (`--workers`,
default 2, one single-threaded solve per process). Throughput is puzzles over the
wall time of the whole batch (pool start included, the one-off import and model
build done before the clock starts); "median ms" is the median of the per-puzzle
`seconds` the oracle reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from puzzles import sudoku as sd  # noqa: E402
from puzzles.sudoku import oracle as oracle  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "puzzles" / "sudoku"
DEFAULT_FILES = ("norvig_top95.txt", "tdoku_magictour_top1465.txt")


def bench(path: Path, solver: str, workers: int, time_limit: float, check_unique: bool, limit: int | None) -> dict:
    puzzles = sd.read_file(path)[:limit]
    prepare = getattr(oracle.get_solver(solver), "prepare", None)
    if prepare is not None:
        prepare()  # imports and model build: once per process, not part of the throughput
    start = time.perf_counter()
    results = list(
        oracle.solve_many(puzzles, solver, time_limit=time_limit, workers=workers, check_unique=check_unique)
    )
    wall = time.perf_counter() - start
    seconds = sorted(r.seconds for r in results)
    errors: dict[str, int] = {}
    for r in results:
        if not r.solved:
            errors[r.error or "unverified"] = errors.get(r.error or "unverified", 0) + 1
    return {
        "file": path.name,
        "solver": solver,
        "puzzles": len(results),
        "solved": sum(r.solved for r in results),
        "errors": errors,
        "workers": workers,
        "check_unique": check_unique,
        "time_limit": time_limit,
        "wall_s": round(wall, 3),
        "puzzles_per_s": round(len(results) / wall, 2),
        "median_ms": round(1000 * statistics.median(seconds), 3),
        "p90_ms": round(1000 * seconds[int(0.9 * (len(seconds) - 1))], 3),
        "max_ms": round(1000 * seconds[-1], 3),
        "cpu_s": round(sum(seconds), 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"folder of puzzle files (default {DEFAULT_DIR})")
    ap.add_argument("--files", nargs="+", default=list(DEFAULT_FILES), help="file names in --dir")
    ap.add_argument("--solvers", nargs="+", default=["cpsat", "constraint"], choices=sorted(oracle.SOLVERS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=oracle.DEFAULT_TIME_LIMIT, help="seconds per puzzle")
    ap.add_argument("--check-unique", action="store_true", help="also prove each solution unique")
    ap.add_argument("--limit", type=int, default=None, help="only the first N puzzles of each file")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON to this file (- for stdout)")
    args = ap.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    err = Console(stderr=True)
    missing = [f for f in args.files if not (args.dir / f).is_file()]
    if missing:
        err.print(f"[bold red]error:[/] not found in {args.dir}: {', '.join(missing)}")
        return 2
    rows = []
    for name in args.files:
        for solver in args.solvers:
            err.print(f"{solver} on {name} ...", highlight=False)
            rows.append(bench(args.dir / name, solver, args.workers, args.time_limit, args.check_unique, args.limit))

    table = Table(
        title=f"exact Sudoku oracles · {args.workers} workers · {os.cpu_count()} CPUs · "
        f"{'unique checked' if args.check_unique else 'first solution'}",
        title_justify="left",
    )
    for col in ("file", "solver", "puzzles", "solved", "puzzles/s", "median ms", "p90 ms", "max ms", "wall s"):
        table.add_column(col, justify="left" if col in ("file", "solver") else "right")
    for r in rows:
        table.add_row(
            r["file"], r["solver"], str(r["puzzles"]), str(r["solved"]), f"{r['puzzles_per_s']:.1f}",
            f"{r['median_ms']:.2f}", f"{r['p90_ms']:.2f}", f"{r['max_ms']:.1f}", f"{r['wall_s']:.2f}",
        )
    Console(width=None if sys.stdout.isatty() else 120).print(table)
    if args.json is not None:
        record = {"machine": platform.platform(), "python": platform.python_version(), "rows": rows}
        text = json.dumps(record, indent=2) + "\n"
        if str(args.json) == "-":
            sys.stdout.write(text)
        else:
            args.json.write_text(text)
    return 0 if all(r["solved"] == r["puzzles"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
