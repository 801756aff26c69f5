"""How the Kakuro hybrid should use the model: its digit order, its ties between equally constrained cells, both.

    .venv/bin/python experiments/kakuro_hybrid/ties.py --checkpoints /tmp/1e13.safetensors,/tmp/3e13.safetensors \
        --seed 777 > results/kakuro/hybrid-ties-777.txt

On generated puzzles of a tuning seed (777 of the benchmark's stream; the hybrid's reported figures,
experiments/kakuro_hybrid/run.py, use 4242): 40 of 10x10, 30 of 16x16, 10 of 24x24. Each puzzle propagation
leaves open is asked once, the grid the hybrid asks about, with the model's full count of loops, and the search
(`puzzles/kakuro/search.py`) runs four ways on that one answer: the model orders the digits and breaks ties (as
the Sudoku hybrid does), the model orders the digits and ties go to the first cell, ascending digits with the
model's ties, and no model. Prints, per set and checkpoint, the share of open cells whose most probable digit is
right, and for each way the median and mean nodes and the share of puzzles searched in fewer and in more nodes
than without the model. `KakuroTask.model_ties` was chosen from this.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion import bench  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.kakuro import encoding as enc  # noqa: E402
from puzzles.kakuro import search as S  # noqa: E402

SETS = ((10, 40), (16, 30), (24, 10))
WAYS = ("model order, model ties", "model order, first-cell ties", "ascending, model ties", "no model")


def nodes(s: S.Search, order: np.ndarray, prob: np.ndarray) -> int:
    return int(S._search(s.givens, s.runs, s.members, s.length, s.total, 1, order, prob, S.COMBO_START,
                         S.COMBO_COUNT, S.COMBOS, S.POPCOUNT)[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoints", required=True, help="comma-separated Kakuro LoopMDM checkpoints")
    ap.add_argument("--seed", type=int, default=777)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from csp_diffusion.hybrid import HybridSolver

    hybrids = {Path(c).stem: HybridSolver("kakuro", Path(c), device="cpu", peek=0) for c in args.checkpoints.split(",")}
    print(f"seed {args.seed}; each question gets the model's full count of loops")
    for side, n in SETS:
        ps = bench.load(get_task("kakuro"), f"gen:kakuro:{n}:size={side}:seed={args.seed}")
        print(f"\n{side}x{side}: {n} puzzles", flush=True)
        for name, h in hybrids.items():
            got = {w: [] for w in WAYS}
            right = []
            for k, solution in zip(ps.puzzles, ps.references):
                s = S.Search(k)
                status, decided = s.propagate()
                if status != 1:
                    continue
                p = h.probabilities(enc.encode(k.with_digits(decided))[None], shape=k.shape)[0]
                prob = np.ascontiguousarray(p.reshape(-1, 9)[s.cells].astype(np.float32))
                order = np.ascontiguousarray(np.argsort(-prob, 1, kind="stable").astype(np.int8) + 1)
                ascending = np.ascontiguousarray(np.broadcast_to(S.ASCENDING, (len(s.cells), 9)))
                alike = np.zeros_like(prob)
                for way, (o, q) in zip(WAYS, ((order, prob), (order, alike), (ascending, prob), (ascending, alike))):
                    got[way].append(nodes(s, o, q))
                open_ = decided.reshape(-1)[s.cells] == 0
                right.append(np.mean(prob[open_].argmax(1) + 1 == solution.reshape(-1)[s.cells][open_]))
            free = np.array(got["no model"])
            print(f"  {name}: {len(free)} puzzles asked; the most probable digit right on {100 * np.mean(right):.1f}% "
                  "of open cells")
            for way in WAYS:
                v = np.array(got[way])
                print(f"    {way:<30} median {np.median(v):g}, mean {v.mean():.1f} nodes; fewer than without the model "
                      f"on {100 * np.mean(v < free):.0f}%, more on {100 * np.mean(v > free):.0f}%", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
