"""Maze LoopMDM: the size curves of every generator kind in one figure and one table.

The figure and table of docs/results/maze.md, "Every kind from side 11 to 201" (results/maze/maze-size-curves.md, .png):

    python experiments/maze_size_curves/run.py results/maze/maze-scaling-{perfect,walls,rooms,borderless,open}-201.json \
        --out results/maze/maze-size-curves

Reads the OUT.json files that `experiments/maze_scaling/run.py` wrote (one kind each) and draws, against the
maze's side, the solve rate, the seconds per maze and the process's peak memory, and the loops the
first step ran against each maze's shortest path. Writes OUT.md and, with matplotlib, OUT.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from puzzles.files import write_text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("curves", nargs="+", type=Path, help="maze_scaling.py OUT.json files, one per kind")
    ap.add_argument("--out", type=Path, default=Path("results/maze/maze-size-curves"))
    args = ap.parse_args()
    reports = []
    for p in args.curves:
        try:
            report = json.loads(p.read_text())
            if not all(k in r for r in report["by_size"].values() for k in ("solve_rate", "seconds", "peak_mb", "mazes")):
                raise KeyError("by_size")
        except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            sys.exit(f"error: {p} is not a curve that experiments/maze_scaling/run.py wrote ({type(e).__name__}: {e})")
        reports.append(report)
    sides = sorted({int(s) for r in reports for s in r["by_size"]})
    lines = ["Mazes solved (of the mazes per side) and seconds per maze; `-`: side not run.", "",
             "| kind | " + " | ".join(str(s) for s in sides) + " |", "|---|" + "---|" * len(sides)]
    for r in reports:
        by = {int(s): v for s, v in r["by_size"].items()}
        cells = [f"{sum(e['solved'] for e in by[s]['mazes'])}/{len(by[s]['mazes'])}, {by[s]['seconds']:.1f} s"
                 if s in by else "-" for s in sides]
        lines.append(f"| {label(r)} | " + " | ".join(cells) + " |")
    write_text(args.out.with_suffix(".md"), "\n".join(lines) + "\n")
    plot(reports, args.out.with_suffix(".png"))


def label(report: dict) -> str:
    longer = report.get("min_path_per_side")
    return report["kind"] + (f" (path >= {longer:g} x side)" if longer else "")


def plot(reports: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 4, figsize=(18, 3.8))
    for r in reports:
        by = {int(s): v for s, v in r["by_size"].items()}
        sides = sorted(by)
        axes[0].plot(sides, [100 * by[s]["solve_rate"] for s in sides], "o-", label=label(r))
        axes[1].plot(sides, [by[s]["seconds"] for s in sides], "o-")
        axes[2].plot(sides, [by[s]["peak_mb"] / 1024 for s in sides], "o-")
        solved = [e for s in sides for e in by[s]["mazes"] if e["solved"]]
        axes[3].plot([e["path"] for e in solved], [e["loops"] for e in solved], ".", ms=6)
    paths = [e["path"] for r in reports for v in r["by_size"].values() for e in v["mazes"]]
    axes[3].plot([min(paths), max(paths)], [2 * min(paths), 2 * max(paths)], ":", color="grey", label="2 per path cell")
    axes[3].set_xscale("log")
    axes[3].set_yscale("log")
    for a, (x, y) in zip(axes, [("maze side", "solved (%)"), ("maze side", "seconds per maze"),
                                ("maze side", "peak memory (GB)"), ("shortest path (cells), solved mazes",
                                                                    "loops the first step ran")]):
        a.set_xlabel(x)
        a.set_ylabel(y)
    axes[0].set_ylim(-3, 103)
    axes[1].set_yscale("log")
    axes[2].axhline(4, color="grey", linestyle=":", label="4 GB")
    axes[2].set_ylim(0, max(4.5, 1.05 * max(v["peak_mb"] / 1024 for r in reports for v in r["by_size"].values())))
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    axes[3].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
