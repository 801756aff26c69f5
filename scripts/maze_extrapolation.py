"""A small-scale test of what makes the maze model extrapolate to larger mazes with cycles.

The shipped maze model (trained on 15x15 grids, 16 loops of a 2-block core: 33 hops of
attention in one pass) solves 81% of open 15x15 mazes and 9% of Maze-Hard-like 30x30 ones.
A hypothesis: the shortest path through a maze with cycles is a BFS wave from S and one
from G, which needs about one hop per path cell; at 15x15 the path is often longer than 33
hops, so the model learned shortcuts instead of the wave, and the shortcuts do not scale.
This script tests that at a size this CPU can train: grids of 11x11 (mazes of sides 7-11,
half perfect and half open, the shipped model's mix), where 20 loops (41 hops) cover
almost every path, and then runs the model on open mazes up to 31x31 with loops (and steps)
scaled with the side, as `NeuralSolver` scales them.

    python scripts/maze_extrapolation.py train --out runs/x11-plain --minutes 45
    python scripts/maze_extrapolation.py train --out runs/x11-waves --minutes 45 --waves 1
    python scripts/maze_extrapolation.py eval runs/x11-plain runs/x11-waves --sizes 11,15,21,31 -n 32

`--waves W` adds an auxiliary loss of weight W on the looped core's state after every
differentiated loop k: a linear read-out must say, for every open cell, whether it lies
within k steps of S and of G. It asks the core to run the two BFS waves, one step per loop
(a first try at one step per attention block, 1 + 2k, stayed at chance for 13 minutes). Inference is
unchanged (the read-out is dropped): pure neural, labels from BFS as the path labels are.
Runs are resumable (`train` again with the same --out continues) and checkpoint atomically.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from csp_diffusion import models
from csp_diffusion.checkpoint import load_state, save_model, save_state
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.noising import noise
from csp_diffusion.sampler import Sampler, SamplerConfig
from puzzles import maze
from puzzles.domains import MazeTask
from puzzles.errors import UserError


class SmallMazeTask(MazeTask):
    TRAIN_SIZE = 11


def waves(puzzle: torch.Tensor, graph: torch.Tensor, hops: int):
    """(B, T, hops + 1) bool x 2: open cell within h steps of S (of G) for h = 0..hops, BFS over open cells."""
    open_ = puzzle != MazeTask.OFF
    ends = (puzzle == MazeTask.ON).nonzero()  # two per row, S then G in row-major order
    B, T = puzzle.shape
    out = []
    for which in (0, 1):
        reached = torch.zeros(B, T, dtype=torch.bool)
        cells = ends[which::2]
        reached[cells[:, 0], cells[:, 1]] = True
        seen = [reached]
        nb = graph.clamp(min=0)
        has = graph >= 0
        for _ in range(hops):
            reached = reached | ((reached[:, nb] & has).any(-1) & open_)
            seen.append(reached)
        out.append(torch.stack(seen, -1))
    return out


@contextmanager
def core_states(model: LoopMDM):
    """Collects the looped core's state after every loop of the forward passes run inside it, as a
    list indexed by loop - 1 (a forward hook on the core's last block; the model is unchanged)."""
    states: list[torch.Tensor] = []
    handle = model.core[-1].register_forward_hook(lambda mod, inp, out: states.append(out))
    try:
        yield states
    finally:
        handle.remove()


def train(args) -> None:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    task = SmallMazeTask()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    st = task.structure()
    positions, graph = torch.as_tensor(st.positions), torch.as_tensor(st.graph)
    cfg = LoopMDMConfig(n_values=2, tokens=MazeTask.tokens, position_sizes=(), dim=64, max_loops=args.max_loops, grad_loops=3, slots=5)
    model = LoopMDM(cfg)
    read_out = torch.nn.Linear(cfg.dim, 2)
    params = list(model.parameters()) + list(read_out.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    step, elapsed = 0, 0.0
    if (out / "state.pt").exists():
        s = load_state(out / "state.pt")
        model.load_state_dict(s["model"]), read_out.load_state_dict(s["read_out"]), opt.load_state_dict(s["opt"])
        step, elapsed = s["step"], s["elapsed"]
        rng.bit_generator.state = json.loads(s["rng"])
        gen.set_state(s["gen"])
    pool = task.make_pool(args.pool, seed=args.seed)
    info = {"script": "maze_extrapolation", "train_size": task.TRAIN_SIZE, "args": vars(args)}

    def checkpoint():
        save_model(out / "model.safetensors", model, "loopmdm", "maze", cfg.to_dict(), {**info, "step": step, "minutes": elapsed / 60})
        save_state(out / "state.pt", {"model": model.state_dict(), "read_out": read_out.state_dict(), "opt": opt.state_dict(),
                                      "step": step, "elapsed": elapsed, "rng": json.dumps(rng.bit_generator.state),
                                      "gen": gen.get_state()})

    with open(out / "log.jsonl", "a") as log:
        last_ckpt, running, tick = elapsed, None, time.perf_counter()
        while elapsed < 60 * args.minutes:
            p, s = task.training_pairs(pool, args.batch_size, rng)
            puzzle, solution = torch.as_tensor(p), torch.as_tensor(s)
            values, given = noise(puzzle, solution, 2, gen)
            loops = int(rng.integers(1, cfg.max_loops + 1))
            with torch.autocast("cpu", dtype=torch.bfloat16), core_states(model) as states:
                logits = model(values, given, positions, graph, loops, cfg.grad_loops)
            free = ~given
            loss = F.cross_entropy(logits[free].float(), solution[free] - 1)
            path_loss = loss.item()
            if args.waves:
                ws, wg = waves(puzzle, graph, loops)
                open_ = (puzzle != MazeTask.OFF)
                wave_loss = 0.0
                trained = [(k, hk) for k, hk in enumerate(states, start=1) if hk.requires_grad]  # the last grad_loops
                for k, hk in trained:
                    target = torch.stack([ws[..., k], wg[..., k]], -1).float()
                    pred = read_out(hk.float())
                    wave_loss = wave_loss + F.binary_cross_entropy_with_logits(pred[open_], target[open_])
                loss = loss + args.waves * wave_loss / len(trained)
            lr = args.lr * min(1.0, (step + 1) / 200) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / (60 * args.minutes)))))
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            now = time.perf_counter()
            elapsed += now - tick
            tick = now
            running = path_loss if running is None else 0.98 * running + 0.02 * path_loss
            if step % 20 == 0:
                log.write(json.dumps({"step": step, "minutes": round(elapsed / 60, 2), "path_loss": round(running, 4),
                                      "loss": round(loss.item(), 4)}) + "\n")
                log.flush()
            if elapsed - last_ckpt > 180:
                checkpoint()
                last_ckpt = elapsed
    checkpoint()


def evaluate(args) -> None:
    torch.set_num_threads(args.threads)
    task = MazeTask()
    rows = []
    for run in args.runs:
        path = Path(run) / "model.safetensors" if Path(run).is_dir() else Path(run)
        model, meta = models.load(path, "loopmdm", "maze")
        trained = meta["info"].get("train_size", MazeTask.TRAIN_SIZE)
        for size in [int(x) for x in args.sizes.split(",")]:
            mazes = maze.generate(args.n, size, "open", seed=args.seed)
            scale = max(1.0, size / trained)
            loops = args.loops or round(model.config.max_loops * scale)
            cfg = SamplerConfig(loops=loops, max_steps=round(64 * scale), warm_loops=0)
            enc = [task.encode(m) for m in mazes]
            t0 = time.perf_counter()
            outs = Sampler(model, task, cfg, torch.device("cpu"), autocast=True).solve(
                np.stack([v for v, _ in enc]), shape=enc[0][1])
            solved = sum(o.verified for o in outs)
            rows.append({"run": str(run), "trained_side": trained, "size": size, "loops": loops, "solved": solved,
                         "n": len(outs), "s_per_maze": round((time.perf_counter() - t0) / len(outs), 3)})
            print(json.dumps(rows[-1]), flush=True)
    if args.json_out:
        Path(args.json_out).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def probe(args) -> None:
    """How well a --waves run's read-out tracks the true BFS waves on bare open mazes of one size, by loop."""
    torch.set_num_threads(args.threads)
    model, _ = models.load(Path(args.run) / "model.safetensors", "loopmdm", "maze")
    read_out = torch.nn.Linear(model.config.dim, 2)
    read_out.load_state_dict(load_state(Path(args.run) / "state.pt")["read_out"])
    task = MazeTask()
    mazes = maze.generate(args.n, args.size, "open", seed=args.seed)
    enc = np.stack([task.encode(m)[0] for m in mazes])
    st = task.structure((args.size, args.size))
    positions, graph = torch.as_tensor(st.positions), torch.as_tensor(st.graph)
    values = torch.as_tensor(enc)
    given = values > 0
    ws, wg = waves(values, graph, args.loops)
    open_ = values != MazeTask.OFF
    with torch.no_grad(), core_states(model) as states:
        model(values, given, positions, graph, args.loops)
    with torch.no_grad():
        for k, h in enumerate(states, start=1):
            pred = read_out(h) > 0
            target = torch.stack([ws[..., k], wg[..., k]], -1)
            wrong = (pred != target)[open_].float().mean().item()
            front = target[..., 0].sum().item() / open_.sum().item()
            if k % args.every == 0 or k == args.loops:
                print(json.dumps({"size": args.size, "loop": k, "wave_cells_wrong": round(wrong, 4),
                                  "share_reached_from_S": round(front, 3)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--out", required=True)
    t.add_argument("--minutes", type=float, default=45)
    t.add_argument("--waves", type=float, default=0.0)
    t.add_argument("--max-loops", type=int, default=20)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--pool", type=int, default=20000)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1)
    e = sub.add_parser("eval")
    e.add_argument("runs", nargs="+")
    e.add_argument("--sizes", default="11,15,21,31")
    e.add_argument("-n", type=int, default=32)
    e.add_argument("--loops", type=int, default=0)
    e.add_argument("--seed", type=int, default=1)
    e.add_argument("--threads", type=int, default=2)
    e.add_argument("--json-out", default=None)
    p = sub.add_parser("probe")
    p.add_argument("run")
    p.add_argument("--size", type=int, default=31)
    p.add_argument("--loops", type=int, default=80)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("-n", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    try:
        {"train": train, "eval": evaluate, "probe": probe}[args.cmd](args)
    except UserError as e:  # a missing or damaged checkpoint, a bad maze size: one line, exit 2
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
