"""Sudoku LoopMDM: solve rate against speed, over the sampler's settings (where 80% and 20 puzzles/s meet, or not).

The figures of docs/results/sudoku.md; each writes its --out .json, .md and .png:

    # "Speed" (where 80% and 20/s meet)
    python experiments/sudoku_frontier/run.py --sets norvig_top95,tdoku_magictour_top1465 --limit 200 \
        --out results/sudoku/sudoku-frontier
    # "Test-time compute as a dial"
    python experiments/sudoku_frontier/run.py --grid dial --sets tdoku_forum_hardest_1905_dev5000 --limit 100 \
        --out results/sudoku/sudoku-dial-forum-hardest
    # "Many chains together for a few steps"
    python experiments/sudoku_frontier/run.py --grid budget --sets tdoku_forum_hardest_1905_dev5000 --start 1000 \
        --limit 100 --out results/sudoku/sudoku-budget-forum-hardest-tune
    # "Sampler settings" (the default's temperature; the per-puzzle rows docs/results/sudoku.md cites,
    # results/sudoku/sudoku-temperature-forum-hardest-1000-1199.json, were kept from that run in another layout)
    python experiments/sudoku_frontier/run.py --grid temperature --sets tdoku_forum_hardest_1905_dev5000 --start 1000 \
        --limit 200

`--grid dial` is test-time compute as a dial: chains 1, 8, 32, 128 at 64 steps, and steps 8 to 128
at 8 chains (the former default, 8 x 64), no time limit; its plot is solve rate and puzzles/s against each.

Runs the shipped model (or --checkpoint) on each set under each profile below, the first `--limit`
puzzles, one file's puzzles at a time as `csp solve sudoku --file` runs them, and records solve rate
and puzzles/s. Pure neural; every solution is verified. Resumable: finished (set, profile) pairs are
kept in OUT.json, which is rewritten after each. Writes OUT.json, OUT.md and, with matplotlib, OUT.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

from csp_diffusion.bench import wilson
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles import sudoku
from puzzles.errors import UserError
from puzzles.files import write_text

ROOT = Path(__file__).resolve().parents[2]
SETS = {name: f"{name}.txt" for name in ("norvig_top95", "tdoku_magictour_top1465", "sudokuexchange_diabolical_dev5000",
                                         "tdoku_17_clue_dev5000", "tdoku_forum_hardest_1905_dev5000")}
TARGETS = {"norvig_top95": (0.80, 20.0), "tdoku_magictour_top1465": (0.80, 20.0),  # (solve rate, puzzles/s)
           "sudokuexchange_diabolical_dev5000": (0.95, 20.0), "tdoku_17_clue_dev5000": (0.60, 20.0),
           "tdoku_forum_hardest_1905_dev5000": (0.95, 2.0)}
console = Console(stderr=True)

# name -> sampler settings (the rest are SamplerConfig's defaults: 16 loops, retraction on, no time limit, the
# noisy chains at the task's temperature, 2.5); "together": all chains start at step 1 (--spare-after 0)
PROFILES = {
    "1 chain, warm 4, 20 steps": dict(chains=1, warm_loops=4, max_steps=20),
    "1 chain, 64 steps": dict(chains=1, max_steps=64),
    "4 chains together, 8 steps": dict(chains=4, spare_after=0, max_steps=8),
    "6 chains together, 8 steps": dict(chains=6, spare_after=0, max_steps=8),
    "8 chains together, 5 steps (fast)": dict(chains=8, spare_after=0, max_steps=5),
    "8 chains together, 6 steps": dict(chains=8, spare_after=0, max_steps=6),
    "8 chains together, 7 steps": dict(chains=8, spare_after=0, max_steps=7),
    "8 chains together, 8 steps": dict(chains=8, spare_after=0, max_steps=8),
    "8 chains together, 8 steps, temperature 1.5": dict(chains=8, spare_after=0, max_steps=8, temperature=1.5),
    "8 chains together, 12 steps": dict(chains=8, spare_after=0, max_steps=12),
    "8 chains together, 16 steps": dict(chains=8, spare_after=0, max_steps=16),
    "16 chains together, 6 steps": dict(chains=16, spare_after=0, max_steps=6),
    "8 chains, 20 steps": dict(chains=8, max_steps=20),
    # "default" in the next three names is the former default, 8 chains x 64 steps (the names key the result files)
    "8 chains, 64 steps (default)": dict(chains=8, max_steps=64),
    "default, temperature 1.5": dict(chains=8, max_steps=64, temperature=1.5),
    "default, time limit 0.05 s": dict(chains=8, max_steps=64, time_limit=0.05),
}
# test-time compute: (axis, value) -> settings; no time limit, so every setting runs to its step limit. On
# this CPU 128 chains cost about 2 minutes a failed forum-hardest puzzle, so that setting runs on the first 25
# (`puzzles`: at most that many of the set's first `--limit`)
DIAL = {**{("chains", c): dict(chains=c, max_steps=64) for c in (1, 8, 32)},
        ("chains", 128): dict(chains=128, max_steps=64, puzzles=25),
        **{("steps", s): dict(chains=8, max_steps=s) for s in (8, 16, 32, 128)}}


def dial_name(c: dict) -> str:
    return f"{c['chains']} chain{'s' * (c['chains'] > 1)}, {c['max_steps']} steps"


# cheapest a puzzle first (chains x steps), so a run cut short has the most points; it resumes where it stopped
DIAL_PROFILES = {dial_name(c): c for c in sorted(DIAL.values(), key=lambda c: c["chains"] * c["max_steps"])}

# many chains for few steps, and fewer loops a step: where the dial's chains cost less. All chains start together
# (a forum-hardest puzzle is rarely solved by the greedy chain alone); chains against steps at equal cost (64 x 16
# and 128 x 8), half the loops, twice the chains; the cheapest a puzzle first
BUDGET = [dict(chains=c, max_steps=s, loops=k, spare_after=0)
          for c, s, k in ((64, 8, 16), (64, 16, 16), (128, 8, 8), (128, 8, 16), (256, 8, 16))]
# the default (64 chains, 12 steps, the spares after 4) at other temperatures of its noisy chains
TEMPERATURE_PROFILES = {f"default, temperature {t}": dict(chains=64, max_steps=12, temperature=t)
                        for t in (2.0, 2.5, 3.0, 3.5)}
BUDGET_PROFILES = {f"{c['chains']} chains together, {c['max_steps']} steps, {c['loops']} loops": c
                   for c in sorted(BUDGET, key=lambda c: c["chains"] * c["max_steps"] * (c["loops"] + 1))}


def run(solver: NeuralSolver, grids: list[np.ndarray], label: str, progress: Progress) -> dict:
    """One file's puzzles in one call, as `csp solve sudoku --file` runs them: solve rate and puzzles/s."""
    task = progress.add_task(label, total=len(grids))
    solved = 0
    start = time.perf_counter()
    for r in solver.solve(grids):
        solved += r.verified
        progress.advance(task)
    wall = time.perf_counter() - start
    progress.remove_task(task)
    return {"puzzles": len(grids), "solved": solved, "solve_rate": solved / len(grids),
            "puzzles_per_s": len(grids) / wall, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--puzzles", type=Path, default=ROOT.parent / "shared" / "puzzles" / "sudoku")
    ap.add_argument("--sets", default="norvig_top95,tdoku_magictour_top1465")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--start", type=int, default=0, help="skip this many puzzles of each set first (to choose "
                    "settings on puzzles the reported figures, the first 1000, do not use)")
    ap.add_argument("--out", type=Path, help="default results/sudoku/sudoku-GRID")
    ap.add_argument("--grid", choices=("frontier", "dial", "budget", "temperature"), default="frontier",
                    help="the settings: the speed frontier, test-time compute (chains and steps), many chains "
                    "for few steps and loops, or the default's temperature")
    args = ap.parse_args()
    profiles = {"frontier": PROFILES, "dial": DIAL_PROFILES, "budget": BUDGET_PROFILES,
                "temperature": TEMPERATURE_PROFILES}[args.grid]
    args.out = args.out or ROOT / "results" / "sudoku" / f"sudoku-{args.grid}"
    unknown = [s for s in args.sets.split(",") if s not in SETS]
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")

    path = args.out.with_suffix(".json")
    try:  # a missing puzzle file or checkpoint, a damaged earlier report: one line
        report = json.loads(path.read_text()) if path.exists() else {}
        solver = NeuralSolver("loopmdm", "sudoku", args.checkpoint)
        sets = {name: [s.givens for s in sudoku.read_file(args.puzzles / SETS[name])][args.start:][: args.limit]
                for name in args.sets.split(",")}
        empty = [name for name, grids in sets.items() if not grids]
        if empty or args.start < 0:
            raise UserError(f"no puzzles of {', '.join(empty) or 'a set'} from --start {args.start} "
                            f"with --limit {args.limit}")
    except json.JSONDecodeError as e:
        print(f"error: {path} is not a report this script wrote ({e}); move it away to start over", file=sys.stderr)
        sys.exit(2)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    with Progress(console=console) as progress:
        for name, grids in sets.items():
            for profile in profiles:
                key = f"{name}/{profile}"
                settings = dict(profiles[profile])
                some = grids[: settings.pop("puzzles", len(grids))]
                if key in report and (report[key]["puzzles"], report[key].get("start", 0)) == (len(some), args.start):
                    continue
                solver.config = SamplerConfig(**settings)
                report[key] = {**run(solver, some, key, progress), "start": args.start}
                console.print(f"{key}: {100 * report[key]['solve_rate']:.1f}% at {report[key]['puzzles_per_s']:.1f}/s")
                path.parent.mkdir(parents=True, exist_ok=True)
                write_text(path, json.dumps(report, indent=1))

    lines = ["| set | profile | puzzles | solved (Wilson 95%) | puzzles/s | both targets |", "|---|---|---|---|---|---|"]
    for key, r in report.items():
        name, profile = key.split("/", 1)
        rate, speed = TARGETS[name]
        both = r["solve_rate"] >= rate and r["puzzles_per_s"] >= speed
        low, high = wilson(r["solved"], r["puzzles"])
        lines.append(f"| {name} | {profile} | {r['puzzles']} | {100 * r['solve_rate']:.1f}% "
                     f"({100 * low:.1f}-{100 * high:.1f}%) | {r['puzzles_per_s']:.2f} | {'yes' if both else 'no'} |")
    write_text(args.out.with_suffix(".md"), "\n".join(lines) + "\n")
    (plot_dial if args.grid == "dial" else plot)(report, args.out.with_suffix(".png"))


def plot(report: dict, path: Path) -> None:
    """Solve rate against puzzles/s, one panel per set: the settings nothing beats on both joined and
    named, the others grey, the target corner shaded; nothing without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    sets = list(dict.fromkeys(k.split("/", 1)[0] for k in report))
    fig, axes = plt.subplots(1, len(sets), figsize=(5.2 * len(sets), 4.2), squeeze=False)
    for a, name in zip(axes[0], sets):
        rows = {k.split("/", 1)[1]: r for k, r in report.items() if k.startswith(name + "/")}
        pts = {p: (r["puzzles_per_s"], 100 * r["solve_rate"]) for p, r in rows.items()}
        # the settings no other beats on both speed and solve rate, joined and labelled; the rest grey
        best = sorted((xy, p) for p, xy in pts.items()
                      if not any(o[0] >= xy[0] and o[1] >= xy[1] and o != xy for o in pts.values()))
        a.plot([x for x, _ in pts.values()], [y for _, y in pts.values()], "o", color="lightgrey", ms=5)
        a.plot([xy[0] for xy, _ in best], [xy[1] for xy, _ in best], "o-", color="tab:blue", ms=5)
        for (x, y), profile in best:
            a.annotate(profile, (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
        rate, speed = TARGETS[name]
        a.axhline(100 * rate, color="grey", linestyle=":")
        a.axvline(speed, color="grey", linestyle=":")
        a.fill_between([speed, 200], 100 * rate, 100, color="tab:green", alpha=0.1,
                       label="both targets")
        a.set_xscale("log")
        xs = [x for x, _ in pts.values()]
        a.set_xlim(min(0.5, min(xs) / 1.5), max(100, 2 * max(xs)))
        a.set_ylim(min(40, min(y for _, y in pts.values()) - 5), 100)
        a.set_xlabel("puzzles/s (this machine)")
        a.set_ylabel("solved (%)")
        start, n = max(r.get("start", 0) for r in rows.values()), max(r["puzzles"] for r in rows.values())
        a.set_title(f"{name} ({f'puzzles {start + 1}-{start + n}' if start else f'first {n}'})", fontsize=9)
        a.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_dial(report: dict, path: Path) -> None:
    """Per set, two panels (chains at 64 steps; steps at 8 chains): solve rate (left axis) and puzzles/s (right,
    log) against the dial's setting, the targets dotted; nothing without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    sets = list(dict.fromkeys(k.split("/", 1)[0] for k in report))
    fig, axes = plt.subplots(len(sets), 2, figsize=(10, 3.8 * len(sets)), squeeze=False)
    on = {**DIAL, ("steps", 64): DIAL[("chains", 8)]}  # the default (8 chains, 64 steps) is on both curves
    for row, name in zip(axes, sets):
        rate, speed = TARGETS[name]
        for a, axis in zip(row, ("chains", "steps")):
            pts = sorted((value, report[f"{name}/{dial_name(c)}"]) for (ax, value), c in on.items()
                         if ax == axis and f"{name}/{dial_name(c)}" in report)
            xs = [v for v, _ in pts]
            a.plot(xs, [100 * r["solve_rate"] for _, r in pts], "o-", color="tab:blue", label="solved (%)")
            a.axhline(100 * rate, color="tab:blue", linestyle=":")
            a.set_xscale("log", base=2)
            a.set_xticks(xs, [str(x) for x in xs])
            a.set_ylim(0, 100)
            a.set_xlabel(f"{axis} ({'64 steps' if axis == 'chains' else '8 chains'})")
            a.set_ylabel("solved (%)", color="tab:blue")
            b = a.twinx()
            b.plot(xs, [r["puzzles_per_s"] for _, r in pts], "s--", color="tab:orange", label="puzzles/s")
            b.axhline(speed, color="tab:orange", linestyle=":")
            b.set_yscale("log")
            b.set_ylabel("puzzles/s (this machine)", color="tab:orange")
            n = max((r["puzzles"] for _, r in pts), default=0)
            for v, r in pts:  # a setting run on fewer puzzles says so
                if r["puzzles"] < n:
                    a.annotate(f"first {r['puzzles']}", (v, 100 * r["solve_rate"]), fontsize=7, xytext=(4, -10),
                               textcoords="offset points")
            a.set_title(f"{name} (first {n}): {axis}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
