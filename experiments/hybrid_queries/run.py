"""Does querying the model again at search nodes pay? The hybrid's search at several query counts.

The table of docs/results/sudoku.md, "The never-wrong hybrid" (model queries per puzzle), and the root-order
figures above it; it prints, and the results/ files named are those outputs kept:

    S=../shared/puzzles/sudoku
    .venv/bin/python experiments/hybrid_queries/run.py --puzzles $S/tdoku_forum_hardest_1905_dev5000.txt --limit 100 \
        --sampler-chains 8     # results/sudoku/sudoku-hybrid-queries-forum-hardest100.txt
    .venv/bin/python experiments/hybrid_queries/run.py --puzzles $S/tdoku_forum_hardest_1905_dev5000.txt --limit 100 \
        --queries 1            # results/sudoku/sudoku-hybrid-root-order-forum-hardest100.txt

For each query count (1: the root's probabilities only; Q: the root and the first Q - 1 branch nodes
after it, each from the grid the search stands on), prints the hybrid's median search nodes, the share
of puzzles it needed fewer nodes on than the same search without the model, the share with no backtrack,
the model queries per puzzle and puzzles/s. Also prints how often the model's most probable digit is
right on the puzzles' blank cells from the bare puzzle, the information the search orders by, and, at the
root grid the hybrid asks about, how often its first try is right on cells of two and of three candidates. With
--sampler-chains C, also orders the same search by the retracting sampler's final grid (C chains, 64
steps; a cell it left masked keeps the one-pass probabilities): what the model knows after
iterating, at the sampler's cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.hybrid import HybridSolver  # noqa: E402
from csp_diffusion.sampler import SamplerConfig  # noqa: E402
from csp_diffusion.solver import NeuralSolver  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.sudoku.search import counted_search, propagate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puzzles", required=True)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--queries", default="1,4,16,64")
    parser.add_argument("--sampler-chains", type=int, default=0)
    args = parser.parse_args()
    task = get_task("sudoku")
    puzzles = task.read_file(args.puzzles)[0][:args.limit]
    grids = np.stack([task.encode(p)[0] for p in puzzles]).astype(np.int64)
    solutions = np.stack([counted_search(g, 1)[3] for g in grids]).astype(np.int64)
    free = np.array([task.free_search_nodes(g) for g in grids])  # the same search without the model
    hybrid = HybridSolver("sudoku", peek=0)  # every pass at the full 16 loops
    blank = grids == 0
    one_pass = hybrid.probabilities(grids)
    right = one_pass.argmax(-1) + 1 == solutions
    print(f"{len(grids)} puzzles; the model's most probable digit from the bare puzzle is right on "
          f"{100 * right[blank].mean():.1f}% of blank cells")
    # where the search branches: the root as the hybrid asks about it (forced cells filled), its order among a
    # cell's candidates against chance
    propagated = [propagate(g) for g in grids]
    roots = np.stack([g for _, g, _ in propagated]).astype(np.int64)
    candidates = np.stack([free for _, _, free in propagated])
    at_root = hybrid.probabilities(roots)
    bits = (candidates[..., None] >> np.arange(9)) & 1 > 0
    first = np.where(bits, at_root, -1.0).argmax(-1) + 1
    count = bits.sum(-1)
    for k in (2, 3):
        cells = (roots == 0) & (count == k)
        print(f"at the root, on cells with {k} candidates ({cells.sum()}): the model's first try is right on "
              f"{100 * (first == solutions)[cells].mean():.1f}% (chance {100 / k:.1f}%)")
    print("queries  median nodes  (without model)  fewer  no backtrack  queries/puzzle  puzzles/s")
    for q in (int(x) for x in args.queries.split(",")):
        hybrid.queries = q
        t = time.perf_counter()
        rs = list(hybrid.solve_screened(puzzles))
        wall = time.perf_counter() - t
        assert all(r.verified for r in rs)
        e = [r.extra for r in rs]
        print(f"{q:7d}  {statistics.median(x['nodes'] for x in e):12g}  {np.median(free):15g}"
              f"  {100 * np.mean([x['nodes'] < f for x, f in zip(e, free)]):4.0f}%"
              f"  {100 * np.mean([x['backtracks'] == 0 for x in e]):11.0f}%"
              f"  {np.mean([x['queries'] for x in e]):14.1f}  {len(rs) / wall:9.2f}", flush=True)
    if args.sampler_chains:
        sampler = NeuralSolver("loopmdm", "sudoku", sampler=SamplerConfig(chains=args.sampler_chains))
        t = time.perf_counter()
        rs = list(sampler.solve(puzzles))
        wall = time.perf_counter() - t
        nodes, backtracks = [], []
        for g, r, p in zip(grids, rs, one_pass):
            final = task.answer(r.solution or r.extra["final"])
            p = np.where((final > 0)[:, None], np.eye(9)[np.maximum(final, 1) - 1], p)
            search = task.guided_search(g, False, 1)
            try:
                next(search)
                search.send(p)
            except StopIteration as done:
                nodes.append(done.value[2])
                backtracks.append(done.value[3])
        print(f"ordered by the sampler's final grid ({args.sampler_chains} chains; it solved "
              f"{sum(r.verified for r in rs)}): median nodes {statistics.median(nodes):g}, fewer on "
              f"{100 * np.mean(np.array(nodes) < np.array(free)):.0f}%, no backtrack on "
              f"{100 * np.mean(np.array(backtracks) == 0):.0f}%, sampler {len(rs) / wall:.2f} puzzles/s")


if __name__ == "__main__":
    main()
