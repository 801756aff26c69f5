"""The never-wrong hybrid on Kakuro: nodes with the model against the same search without it, and puzzles/s of
the hybrid, the model-free search and CP-SAT, side by side in one run.

    cp runs/kakuro-loopmdm/snapshots/1e13.safetensors runs/kakuro-loopmdm/snapshots/3e13.safetensors /tmp/  # snapshots
    .venv/bin/python experiments/kakuro_hybrid/run.py --checkpoints /tmp/1e13.safetensors,/tmp/3e13.safetensors \
        --out results/kakuro/hybrid.json

Held-out puzzles, generated as `csp bench` generates them (the benchmark's own seed stream, apart from every
training pool; the training pool is the generator's stream of seed 0): seed 4242, 100 puzzles of 8x8 to 10x10
(34, 33 and 33 of each side), 30 of 16x16 and 10 of 24x24 (the model trained on sides 5 to 12). On each set, in
this order and one after the other in this one process: CP-SAT (the Kakuro oracle, stopping at the first
answer, one worker), the model-free search (`puzzles/kakuro/search.py`, ascending digits, ties to the first
cell), then the hybrid with each checkpoint (its model on the torch network on the CPU, one thread): as
`csp solve --solver hybrid` runs it (its peek rule: 4 loops, the rest of the model's 8 only where those leave
it sure enough, the rule and threshold chosen on Sudoku; the model orders each cell's digits, ties between
equally constrained cells go to the first, `KakuroTask.model_ties`), then with the full 8 loops on every
question, then with the model's ties as the Sudoku hybrid breaks them (the surest cell first).
Everything runs on one core, so the puzzles/s compare; the machine is shared (training runs beside it), so
read the ratios, not the rates. Every answer is verified. Start-up (loading a model, warming the compiled
search, CP-SAT's import) is done on a puzzle outside the sets and left out of the timings.

Rows are `csp_diffusion.bench.summarize`'s, as `csp bench` prints them (its nodes against the same search
without the model); each set also keeps the per-puzzle nodes, with the model and without. Writes --out (JSON,
atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion import bench  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.files import write_text  # noqa: E402
from puzzles.result import Result  # noqa: E402

SEED = 4242
SETS = {"8x8-10x10": ((8, 34), (9, 33), (10, 33)), "16x16": ((16, 30),), "24x24": ((24, 10),)}


def puzzle_set(name: str, parts, seed: int) -> bench.PuzzleSet:
    """The set's puzzles, each side's from `csp bench --puzzles gen:kakuro:N:size=SIDE:seed=SEED`."""
    task, puzzles, references = get_task("kakuro"), [], []
    for side, n in parts:
        made = bench.load(task, f"gen:kakuro:{n}:size={side}:seed={seed}")
        puzzles += made.puzzles
        references += made.references
    return bench.PuzzleSet(task, puzzles, references, name)


def free_search(task, puzzles: list) -> tuple[list[Result], float]:
    """The hybrid's search without the model, as the hybrid runs it (encode, search, verify)."""
    results = []
    start = time.perf_counter()
    for p in puzzles:
        t = time.perf_counter()
        values, shape = task.encode(p)
        run = task.guided_search(values, False, 0, shape=shape)
        try:
            next(run)
            raise AssertionError("the model-free search asks nothing")
        except StopIteration as done:
            solution, why, nodes, wrong = done.value
        ok = solution is not None and task.verify(values, solution, shape)
        results.append(Result("kakuro", "free search", task.to_text(p), task.text(solution, shape, p) if ok else None,
                              ok, time.perf_counter() - t, why, {"nodes": nodes, "backtracks": wrong}))
    return results, time.perf_counter() - start


def _mean(values: list) -> float | None:
    return float(np.mean(values)) if values else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoints", required=True, help="comma-separated Kakuro LoopMDM checkpoints")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--sets", default=",".join(SETS), help=f"of {', '.join(SETS)}")
    ap.add_argument("--scale", type=float, default=1.0, help="puzzles per set times this (a quick look: 0.1)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from csp_diffusion.hybrid import HybridSolver

    task = get_task("kakuro")
    checkpoints = [Path(c) for c in args.checkpoints.split(",")]
    warm = bench.load(task, f"gen:kakuro:1:size=12:seed={args.seed + 1}")  # outside every set
    t = time.perf_counter()
    hybrids = {}
    for c in checkpoints:
        hybrids[f"hybrid {c.stem}"] = HybridSolver("kakuro", c, device="cpu")
        hybrids[f"hybrid {c.stem}, full loops"] = HybridSolver("kakuro", c, device="cpu", peek=0)
        hybrids[f"hybrid {c.stem}, model ties"] = h = HybridSolver("kakuro", c, device="cpu")
        h.task.model_ties = True  # its own task object
    for h in hybrids.values():
        list(h.solve_screened(warm.puzzles))
    free_search(task, warm.puzzles)
    list(task.solve_exact(warm.puzzles, "cpsat", None, workers=1))
    print(f"start-up (models, compiled search, CP-SAT): {time.perf_counter() - t:.1f} s", flush=True)
    report = {"seed": args.seed, "cores": 1, "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
              "checkpoints": {c.stem: c.name for c in checkpoints}, "sets": {}}
    for name in args.sets.split(","):
        parts = [(side, max(1, round(n * args.scale))) for side, n in SETS[name]]
        t = time.perf_counter()
        pset = puzzle_set(name, parts, args.seed)
        print(f"\n{name}: {len(pset.puzzles)} puzzles ({time.perf_counter() - t:.0f} s to generate)", flush=True)
        rows, nodes = [], {}
        start = time.perf_counter()
        cp = list(task.solve_exact(pset.puzzles, "cpsat", None, workers=1))
        rows.append(bench.summarize(pset, bench.Run("cpsat", cp, time.perf_counter() - start, startup=0.0)))
        free, wall = free_search(task, pset.puzzles)
        rows.append(bench.summarize(pset, bench.Run("free search", free, wall, startup=0.0)))
        nodes["free search"] = [r.extra["nodes"] for r in free]
        for key, h in hybrids.items():
            start = time.perf_counter()
            rs = list(h.solve_screened(pset.puzzles, unique=False))
            row = bench.summarize(pset, bench.Run(key, rs, time.perf_counter() - start, h.params, h.train_flops,
                                                  startup=0.0))
            nodes[key] = [r.extra["nodes"] for r in rs]
            row["asked_share"] = float(np.mean([r.extra["queries"] > 0 for r in rs]))  # propagation left it open
            row["more_nodes_share"] = float(np.mean([a > b for a, b in zip(nodes[key], nodes["free search"])]))
            row["mean_loops_asked"] = _mean([r.extra["loops_run"] for r in rs if r.extra["queries"]])
            rows.append(row)
        branched = [i for i, n in enumerate(nodes["free search"]) if n > 0]
        for row in rows:
            key = row["solver"]
            row["verified"] = row["solved"]
            if key in nodes:
                row["median_nodes_where_the_free_search_branches"] = (
                    statistics.median(nodes[key][i] for i in branched) if branched else None)
            row["speed_vs_cpsat"] = row["puzzles_per_second"] / rows[0]["puzzles_per_second"]
        report["sets"][name] = {"sides": parts, "puzzles": len(pset.puzzles), "branched": len(branched),
                                "rows": rows, "nodes": nodes}
        for row in rows:
            search = "" if row["median_nodes"] is None else (
                f" · median nodes {row['median_nodes']:g} (without the model {row['median_free_nodes']:g}; where "
                f"that branches {row['median_nodes_where_the_free_search_branches']}), fewer on "
                f"{100 * row['fewer_nodes_share']:.0f}%, more on {100 * row.get('more_nodes_share', 0):.0f}%")
            print(f"  {row['solver']:<26} {row['solved']}/{row['puzzles']} verified{search} · "
                  f"{row['puzzles_per_second']:.1f} puzzles/s ({row['speed_vs_cpsat']:.2f}x CP-SAT), median "
                  f"{1e3 * row['median_seconds']:.1f} ms", flush=True)
        write_text(args.out, json.dumps(report, indent=1) + "\n")  # after each set: a partial run keeps its sets
    return 0


if __name__ == "__main__":
    sys.exit(main())
