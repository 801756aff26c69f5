"""Kakuro LoopMDM: does a tiny model learn at all? A few hundred steps on small puzzles, then held-out figures.

    python experiments/kakuro_learns/run.py --out results/kakuro/learns

Trains a tiny LoopMDM (dim 32) on a pool of generated 6x6 to 8x8 Kakuro (an 8x8 canvas), then reads
held-out puzzles of the same sizes (their own seed stream) bare, in one model call at K_max loops, and
reports over their empty white cells: the cross-entropy and the argmax's accuracy, beside two baselines
that know no model: chance (uniform over 1-9: ln 9 and 1/9) and the clues alone (uniform over the
digits that some set of different digits meeting each of the cell's two runs' sums allows, the
oracle's first narrowing). Then the retracting sampler (one chain, rules on) on the same puzzles: how
many it solves (verified). Writes OUT.json and OUT.md; the run folder is OUT-run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from csp_diffusion import models
from csp_diffusion.data import held_out
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.train import TrainConfig, train
from puzzles.domains import get_task
from puzzles.files import write_text
from puzzles.kakuro import encoding as enc
from puzzles.kakuro.oracle import digits_for


def clue_baseline(puzzles: np.ndarray, shape) -> tuple[float, float]:
    """(cross-entropy, accuracy) of guessing each empty white cell uniformly among the digits both its runs'
    (length, sum) allow (the right digit is always among them)."""
    positions, _ = enc.layout(puzzles, shape)
    losses, hits = [], []
    for grid, pos in zip(puzzles, positions):
        for t in np.flatnonzero(grid == 0):
            a, d = divmod(int(pos[t, 0]), enc.SUMS), divmod(int(pos[t, 1]), enc.SUMS)
            allowed = digits_for(*a) & digits_for(*d)
            losses.append(math.log(len(allowed)))
            hits.append(1 / len(allowed))
    return float(np.mean(losses)), float(np.mean(hits))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--pool-size", type=int, default=600)
    ap.add_argument("--held-out", type=int, default=64)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (a shared machine: 1)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    sides = ["6", "7", "8"]
    cfg = TrainConfig(task="kakuro", model="loopmdm", grid=8, pool_mix=sides, pool_size=args.pool_size,
                      model_config={"dim": args.dim, "heads": 2, "max_loops": 4}, steps=args.steps,
                      batch_size=args.batch_size, lr=args.lr, warmup=args.steps // 10, eval_puzzles=0,
                      checkpoint_every_minutes=None, checkpoint_every_steps=10 ** 6, log_every=10, device="cpu")
    run = args.out.parent / f"{args.out.name}-run"
    losses = []

    def on_event(e: dict) -> None:
        if e.get("event") == "step":
            losses.append((e["step"], e["loss"]))
            print(f"step {e['step']}: loss {e['loss']:.4f}", flush=True)
        elif e.get("event") == "phase":
            print(e["what"], flush=True)

    end = train(cfg, run, force=True, on_event=on_event)
    task = get_task("kakuro", 8)
    model, _ = models.load(run / "model.safetensors", "loopmdm", "kakuro")
    puzzles, solutions = held_out(task, args.held_out, seed=1, mix=sides)
    puzzles, solutions = puzzles.astype(np.int64), solutions.astype(np.int64)
    st = task.structure(None, puzzles)
    v = torch.as_tensor(puzzles)
    with torch.no_grad():
        logits = model(v, v > 0, torch.as_tensor(st.positions), torch.as_tensor(st.graph), model.max_loops).float()
    empty = torch.as_tensor(puzzles == 0)
    target = torch.as_tensor(solutions) - 1
    loss = float(F.cross_entropy(logits[empty], target[empty]))
    accuracy = float((logits.argmax(-1)[empty] == target[empty]).float().mean())
    clue_loss, clue_accuracy = clue_baseline(puzzles, (8, 8))
    decoder = models.decoder("loopmdm", model, task, SamplerConfig(max_steps=48), torch.device("cpu"))
    outcomes = decoder.solve(puzzles)
    assert all(task.verify(p, o.values) for p, o in zip(puzzles, outcomes) if o.verified)
    report = {
        "steps": end["step"], "final_running_loss": round(end["loss"], 4),
        "loss_curve": losses, "params": model.num_params(), "config": cfg.model_config, "pool_size": args.pool_size,
        "batch_size": args.batch_size, "lr": args.lr, "sides": sides, "held_out": len(puzzles),
        "empty_cells": int(empty.sum()),
        "held_out_loss": round(loss, 4), "held_out_accuracy": round(accuracy, 4),
        "chance_loss": round(math.log(9), 4), "chance_accuracy": round(1 / 9, 4),
        "clue_loss": round(clue_loss, 4), "clue_accuracy": round(clue_accuracy, 4),
        "sampler_solved": int(sum(o.verified for o in outcomes)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out.with_suffix(".json"), json.dumps(report, indent=1) + "\n")
    md = [f"# Kakuro LoopMDM, a tiny learning check ({report['params']:,} parameters, dim {args.dim})", "",
          f"{report['steps']} steps of {args.batch_size} puzzles (sides {', '.join(sides)} on an 8x8 canvas, a pool "
          f"of {args.pool_size}), lr {args.lr}; {len(puzzles)} held-out puzzles, {report['empty_cells']} empty cells, "
          "read bare in one model call.", "",
          "| | cross-entropy | cell accuracy |", "|---|---|---|",
          f"| chance (1-9) | {report['chance_loss']} | {report['chance_accuracy']} |",
          f"| the clues alone | {report['clue_loss']} | {report['clue_accuracy']} |",
          f"| the model | {report['held_out_loss']} | {report['held_out_accuracy']} |", "",
          f"Training loss (running): {losses[0][1] if losses else '-'} at step {losses[0][0] if losses else '-'}, "
          f"{report['final_running_loss']} at the end. The sampler (one chain, rules on, 48 steps) solved "
          f"{report['sampler_solved']} of {len(puzzles)} (verified)."]
    write_text(args.out.with_suffix(".md"), "\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
