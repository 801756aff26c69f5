"""Why AR-solver does not learn its values: its two predictions read apart, and a probe of what blocks the value.

    python experiments/ar_solver_probe/run.py --checkpoint PATH     # a trained AR-solver, teacher-forced
    python experiments/ar_solver_probe/run.py --probe               # short trainings, one change each

`--checkpoint`: on 64 generated easy Sudokus (seed 12345, never trained on), the solver-order steps teacher-forced,
the next cell's cross-entropy and accuracy apart from the value's given the right cell (chance: ln 9 = 2.1972,
11.1%). Reads the redesigned network (a cell token, then its value); the first design (one pointer over every
(cell, value) pair) is in the project's history.

`--probe`: 400 steps of batch 32 (AdamW lr 1e-3, betas 0.9 / 0.95) on 1,000 generated easy puzzles (seed 0),
from one initialisation, each run changing one thing: both losses (the objective); the value loss alone; the cell
loss at 0.3 of its weight; the cell loss kept out of the shared network (its heads still learn); the value read
from the cell's puzzle-part state too; the pointer's keys from the cells' positions only. Prints each run's
cell and value loss every 50 steps and writes them to results/study/ar-solver-probe.jsonl (atomically).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "results" / "study" / "ar-solver-probe.jsonl"
MODES = ("objective", "value-only", "cell-weight-0.3", "cell-detached", "value-reads-grid", "position-keys")


def read_apart(path: Path) -> dict:
    import torch
    import torch.nn.functional as F

    from csp_diffusion.models import load
    from puzzles.domains import get_task
    from puzzles.sudoku import generator

    task = get_task("sudoku")
    model, _ = load(path, kind="ar-solver", task="sudoku")
    items = list(generator.generate(64, "easy", seed=12345, workers=1))
    puzzles = np.stack([s.givens for s in items]).astype(np.int64)
    cells, values = task.solver_steps(puzzles, np.stack([s.solution for s in items]).astype(np.int64))
    S = int((cells >= 0).sum(1).max())
    c, v = torch.as_tensor(cells[:, :S]), torch.as_tensor(values[:, :S])
    with torch.no_grad():
        cell_logits, value_logits = model(torch.as_tensor(puzzles), c, v, torch.as_tensor(task.structure().positions))
    ok = c >= 0
    cl = cell_logits[:, :S][ok]
    return {"checkpoint": str(path), "cell_loss": F.cross_entropy(cl, c[ok]).item(),
            "cell_accuracy": (cl.argmax(-1) == c[ok]).float().mean().item(),
            "value_loss": F.cross_entropy(value_logits[ok], v[ok] - 1).item(),
            "value_accuracy": (value_logits[ok].argmax(-1) == v[ok] - 1).float().mean().item()}


def probe(mode: str, steps: int = 400) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from csp_diffusion.ar_solver import ARSolver, ARSolverConfig
    from puzzles.domains import get_task

    torch.manual_seed(0)
    task = get_task("sudoku")
    pool = task.make_pool(1000, seed=0, workers=1, mix=("easy",))
    positions = torch.as_tensor(task.structure().positions)
    m = ARSolver(ARSolverConfig(n_values=9, position_sizes=task.axes, dim=64))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95))
    rng = np.random.default_rng(0)
    rows = []
    for it in range(steps + 1):
        p, s = task.training_pairs(pool, 32, rng)
        cells, values = task.solver_steps(p, s)
        S = int((cells >= 0).sum(1).max())
        P, C, V = (torch.as_tensor(a) for a in (p, cells[:, :S], values[:, :S]))
        grid, states = m._states(P, C, V, positions)
        readers = torch.cat([states[:, :1], states[:, 2::2]], dim=1)
        written = m.written(C, P.shape[1])
        if mode == "cell-detached":
            readers, keys = readers.detach(), grid.detach()
        elif mode == "position-keys":
            keys = sum(emb(positions[:, a]) for a, emb in enumerate(m.embed.axes))[None].expand(len(P), -1, -1)
        else:
            keys = grid
        cell_logits = m._cells(readers, keys, P > 0, written)
        at_cell = states[:, 1::2]
        if mode == "value-reads-grid":
            at_cell = at_cell + grid.gather(1, C.clamp(min=0)[..., None].expand(-1, -1, grid.shape[-1]))
        ok = C >= 0
        value_loss = F.cross_entropy(m.value_head(at_cell)[ok], V[ok] - 1)
        cell_loss = F.cross_entropy(cell_logits[:, :S][ok], C[ok])
        weight = {"value-only": 0.0, "cell-weight-0.3": 0.3}.get(mode, 1.0)
        (value_loss + weight * cell_loss).backward()
        opt.step()
        opt.zero_grad()
        if it % 50 == 0:
            rows.append({"mode": mode, "step": it, "cell_loss": round(cell_loss.item(), 4),
                         "value_loss": round(value_loss.item(), 4)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, action="append", default=[])
    ap.add_argument("--probe", action="store_true")
    args = ap.parse_args()
    if not args.checkpoint and not args.probe:
        ap.error("give --checkpoint PATH or --probe")
    import torch

    torch.set_num_threads(1)
    for path in args.checkpoint:
        print(json.dumps(read_apart(path)), flush=True)
    if args.probe:
        from puzzles.files import write_text

        rows = [r for mode in MODES for r in probe(mode)]
        write_text(OUT, "".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    from csp_diffusion.errors import CheckpointError
    from puzzles.errors import UserError

    try:
        main()
    except (UserError, CheckpointError) as e:  # bad input: one line, no traceback
        raise SystemExit(f"error: {e}") from None
