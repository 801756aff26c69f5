"""How many loops does the hybrid's one model pass need? Its order at every loop count, and the peek rule.

The table of docs/results/sudoku.md, "The never-wrong hybrid" (the peek rule); it prints, and
results/sudoku/sudoku-hybrid-peek-tune-1000-1299.txt is that output kept:

    S=../shared/puzzles/sudoku
    .venv/bin/python experiments/hybrid_peek/run.py --start 1000 --limit 300 --loops 48 \
        --files $S/tdoku_forum_hardest_1905_dev5000.txt,$S/tdoku_17_clue_dev5000.txt

For each file, the model reads the root grid the hybrid asks about, in chunks of 2 loops up to its 16 (the
core goes on from its state, so each chunk's answer is the straight pass's at that count), and the
search runs on each answer. Prints, per loop count, the share of puzzles searched in fewer nodes than
without the model, the share with no backtrack, and the median over puzzles of the model's mean top
probability over the open cells (its sureness), with the mean nodes and the share of open cells whose most
probable digit is right (with --loops beyond the trained 16 too). Then, for each peek (loops first) and threshold, the
rule `csp_diffusion.hybrid` uses: stop at the peek where the sureness there is below the threshold, else
go on to 16; with the blocks it costs a puzzle (prelude and coda twice where it goes on).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.hybrid import HybridSolver, sureness  # noqa: E402
from csp_diffusion.runtime import pick_device  # noqa: E402
from puzzles.errors import UserError  # noqa: E402
from puzzles.sudoku.search import counted_search, propagate  # noqa: E402

CHUNK = 2


def measure(hybrid: HybridSolver, grids: np.ndarray, up_to: int) -> dict:
    """Per loop count up to `up_to`: (nodes, wrong tries, sureness) per puzzle and the share of open cells whose
    most probable digit is right; and the model-free nodes."""
    roots = np.stack([propagate(g)[1] for g in grids]).astype(np.int64)  # what the hybrid asks about, as it asks
    solutions = np.stack([counted_search(g, 1)[3] for g in grids])
    blank = roots == 0
    net = hybrid.net  # the torch network (main names a device)
    model, device = net.model, net.device
    out, state = {}, None
    values = torch.as_tensor(roots, device=device)
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=net.autocast):
        for loops in range(CHUNK, up_to + 1, CHUNK):
            logits, state = model(values, values > 0, net.positions, net.graph, CHUNK, state=state,
                                  return_state=True)
            p = logits.float().softmax(-1).cpu().numpy()
            sure = sureness(p, roots)
            searched = [counted_search(g, 1, q) for g, q in zip(grids, p)]
            right = float((p.argmax(-1) + 1 == solutions)[blank].mean())
            out[loops] = (np.array([s[1] for s in searched]), np.array([s[2] for s in searched]), sure, right)
    free = np.array([counted_search(g, 1)[1] for g in grids])
    return {"loops": out, "free": free}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", required=True, help="comma-separated puzzle files")
    parser.add_argument("--start", type=int, default=1000, help="skip this many puzzles of each file first")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--peeks", default="2,4")
    parser.add_argument("--sures", default="0.5,0.52,0.54,0.55,0.56,0.58,0.6")
    parser.add_argument("--loops", type=int, default=16, help="loop counts measured up to this (beyond the "
                        "trained K_max, 16, to see whether depth at inference pays)")
    args = parser.parse_args()
    try:
        peeks = [int(p) for p in args.peeks.split(",")]
        sures = [float(t) for t in args.sures.split(",")]
    except ValueError:
        parser.error("--peeks: whole numbers, --sures: numbers, each comma-separated")
    try:  # a missing or malformed file, a slice with no puzzles, a broken checkpoint: one line
        hybrid = HybridSolver("sudoku", peek=0, device=str(pick_device()))  # torch: the loops run chunk by chunk
        files = {}
        for path in args.files.split(","):
            puzzles = files[Path(path).stem] = hybrid.task.read_file(path)[0][args.start:args.start + args.limit]
            if not puzzles:
                raise UserError(f"{path} has no puzzles from number {args.start}")
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if any(p % CHUNK or not 0 < p < hybrid.loops for p in peeks):
        parser.error(f"--peeks: multiples of {CHUNK} below {hybrid.loops}")
    if args.loops % CHUNK or args.loops < hybrid.loops:
        parser.error(f"--loops: a multiple of {CHUNK}, at least {hybrid.loops}")
    runs = {}
    for name, puzzles in files.items():
        grids = np.stack([hybrid.task.encode(p)[0] for p in puzzles]).astype(np.int64)
        runs[name] = r = measure(hybrid, grids, args.loops)
        print(f"\n{name}, puzzles {args.start}-{args.start + len(grids) - 1}")
        print("| loops | fewer nodes | no backtrack | mean nodes | median sureness | most probable digit right |\n"
              "|---|---|---|---|---|---|")
        for loops, (nodes, wrong, sure, right) in r["loops"].items():
            print(f"| {loops} | {np.mean(nodes < r['free']):.1%} | {np.mean(wrong == 0):.1%} | {nodes.mean():.1f} | "
                  f"{np.median(sure):.3f} | {right:.1%} |")
        print(f"(without the model: mean nodes {r['free'].mean():.1f})")
    full, c = hybrid.loops, hybrid.model.config
    print(f"\nthe rule: the peek's loops, then {full} where the sureness there is at least the threshold")
    print("| peek | threshold | " + " | ".join(f"{n}: fewer, no backtrack, mean nodes, went on, blocks" for n in runs) + " |")
    print("|---|---|" + "---|" * len(runs))
    for peek in peeks:
        for tau in sures:
            cells = []
            for r in runs.values():
                go = r["loops"][peek][2] >= tau
                nodes = np.where(go, r["loops"][full][0], r["loops"][peek][0])
                wrong = np.where(go, r["loops"][full][1], r["loops"][peek][1])
                once = c.prelude + c.coda  # blocks a pass runs besides its loops
                blocks = once + c.core * peek + go * (once + c.core * (full - peek))
                cells.append(f"{np.mean(nodes < r['free']):.1%}, {np.mean(wrong == 0):.1%}, {nodes.mean():.1f}, "
                             f"{np.mean(go):.0%}, {np.mean(blocks):.1f}")
            print(f"| {peek} | {tau} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
