"""A small-scale test: does a LoopMDM core that is told which end is S, and supervised loop by loop
with the trace of an exact local algorithm, run that algorithm on mazes far larger than it saw?

Why (README, "Mazes larger than trained"): the shipped model computes distances only roughly and
does not extrapolate on mazes with cycles; session 7's wave supervision asked a read-out to tell
the wave from S from the wave from G although the model sees S and G as the same token, so
half of that target could not be learned. Here S carries a learned marker (added to its input
embedding) and the trace is one the model can follow cell by cell:

- wave: after loop k, an open cell knows whether it is within k steps of G and, if so, its
  distance to G mod 3 (4 classes: not yet, 0, 1, 2); the wave advances one cell per loop;
- walk: S is marked on-path at loop T = dist(S, G); each loop the walk steps to the first
  neighbour (up, right, down, left) that is one step closer to G, so the j-th path cell is
  marked at loop T + j and the whole path by loop 2T. This is `maze.shortest_path`'s tie-break,
  computed in each training maze's own (augmented) frame, so the target is a function of the input.

The coda's output after K >= 2T loops is the path (cross-entropy on bare mazes); the trace is
supervised on the differentiated loops (the last 3 of K, K drawn across the whole run, the
earlier loops without grad). Inference is pure neural: the model alone, no read-out needed.

    python scripts/maze_hints.py train --out runs/hints9 --minutes 40
    python scripts/maze_hints.py eval results/maze-hints9 --sizes 9,15,21 -n 32
    python scripts/maze_hints.py eval results/maze-hints9 --sizes 30 --min-path 110 -n 200 --loops-per-cell 1

`eval` runs each maze for 2 dist(S, G) + 4 loops ("enough", from the true length) and, with
--loops-per-cell F, for F x (open cells) loops, which needs no oracle; it reports mazes solved
(the coda's argmax is a shortest path, by the verifier) and how far the trace is right.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from csp_diffusion.checkpoint import load_state, save_state
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from puzzles import maze
from puzzles.domains import MazeTask
from puzzles.errors import UserError

OFF, ON = MazeTask.OFF, MazeTask.ON


def make_pool(n: int, side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Mazes of sides 5..side on side x side grids (half perfect, half open): walls bool (n, side, side)
    and S as a one-hot bool grid (n, side, side)."""
    rng = np.random.default_rng(seed)
    walls = np.ones((n, side, side), dtype=bool)
    start = np.zeros((n, side, side), dtype=bool)
    goal = np.zeros((n, side, side), dtype=bool)
    sizes = np.arange(5, side + 1, 2)
    for i in range(n):
        size = int(sizes[rng.integers(len(sizes))]) if rng.random() < 0.4 else side
        if i % 2 == 0:
            m = maze.perfect(size, size, rng, maze.ALGORITHMS[int(rng.integers(2))])
        else:
            m = maze.open_maze(size, rng, knock=float(rng.uniform(0.02, 0.3)))
        r0, c0 = rng.integers(side - size + 1, size=2)
        walls[i, r0:r0 + size, c0:c0 + size] = m.walls
        start[i, r0 + m.start[0], c0 + m.start[1]] = True
        goal[i, r0 + m.goal[0], c0 + m.goal[1]] = True
    return walls, start, goal


def traces(mazes: list[maze.Maze]):
    """Per maze, flattened: dist to G (-1 walls), on-path incl. S and G, T = dist(S, G)."""
    out = []
    for m in mazes:
        d = maze.distances(m, m.goal)
        path = maze.shortest_path(m)
        path[m.start] = path[m.goal] = True
        out.append((d.reshape(-1), path.reshape(-1), int(d[m.start])))
    return out


def encode(mazes: list[maze.Maze]):
    values = np.stack([MazeTask().classes(MazeTask().encode(m)[0]) for m in mazes])  # S marked below, not as START
    is_s = np.zeros_like(values, dtype=bool)
    for i, m in enumerate(mazes):
        is_s[i, m.start[0] * m.shape[1] + m.start[1]] = True
    return torch.as_tensor(values), torch.as_tensor(is_s)


def trace_targets(tr, k: int):
    """(B, T) long wave class (0 not yet, 1 + dist mod 3; -1 on walls) and (B, T) float walk flag after loop k."""
    d = torch.as_tensor(np.stack([t[0] for t in tr]))
    on = torch.as_tensor(np.stack([t[1] for t in tr]))
    t0 = torch.as_tensor([t[2] for t in tr])[:, None]
    wave = torch.where(d > k, 0, 1 + d % 3)
    wave = torch.where(d < 0, -1, wave)
    walk = (on & (2 * t0 - d <= k)).float()
    return wave, walk


class HintModel(torch.nn.Module):
    """LoopMDM plus a learned S marker on the input embedding and a trace read-out (training only)."""

    def __init__(self, cfg: LoopMDMConfig):
        super().__init__()
        self.net = LoopMDM(cfg)
        self.s_mark = torch.nn.Parameter(torch.randn(cfg.dim) * 0.02)
        self.read = torch.nn.Linear(cfg.dim, 5)
        self._is_s = None
        self.net.embed.register_forward_hook(lambda mod, inp, out: out + self._is_s[..., None] * self.s_mark)
        self.states: list[torch.Tensor] = []
        self.net.core[-1].register_forward_hook(lambda mod, inp, out: self.states.append(out))

    def forward(self, values, is_s, positions, graph, loops, grad_loops=None):
        self._is_s = is_s.to(self.s_mark.dtype)
        self.states = []
        return self.net(values, values > 0, positions, graph, loops, grad_loops)


def build(dim: int) -> HintModel:
    cfg = LoopMDMConfig(n_values=2, position_sizes=(), dim=dim, max_loops=1000, grad_loops=3, slots=5)
    return HintModel(cfg)


def train(args) -> None:
    if args.side < 5 or args.minutes <= 0 or args.batch_size < 1 or args.pool < 1:
        raise UserError("--side must be at least 5, and --minutes, --batch-size and --pool positive")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    task = MazeTask()
    st = task.structure((args.side, args.side))
    positions, graph = torch.as_tensor(st.positions), torch.as_tensor(st.graph)
    model = build(args.dim)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    rng = np.random.default_rng(args.seed)
    step, elapsed = 0, 0.0
    if (out / "state.pt").exists():
        s = load_state(out / "state.pt")
        model.load_state_dict(s["model"]), opt.load_state_dict(s["opt"])
        step, elapsed = s["step"], s["elapsed"]
        rng.bit_generator.state = json.loads(s["rng"])
    walls, start, goal = make_pool(args.pool, args.side, args.seed)

    def checkpoint():
        save_state(out / "state.pt", {"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                                      "elapsed": elapsed, "rng": json.dumps(rng.bit_generator.state),
                                      "args": vars(args)})

    with open(out / "log.jsonl", "a") as log:
        last_ckpt, tick, run = elapsed, time.perf_counter(), {}
        while elapsed < 60 * args.minutes:
            idx = rng.integers(len(walls), size=args.batch_size)
            ks = rng.integers(8, size=args.batch_size)
            mazes = []
            for i, k in zip(idx, ks):
                w, s, g = (maze._apply(a[i], int(k)) for a in (walls, start, goal))
                mazes.append(maze.Maze(w, tuple(int(x) for x in np.argwhere(s)[0]), tuple(int(x) for x in np.argwhere(g)[0])))
            tr = traces(mazes)
            values, is_s = encode(mazes)
            need = 2 * max(t[2] for t in tr)
            loops = need + int(rng.integers(1, 9)) if rng.random() < 0.5 else int(rng.integers(1, need + 9))
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(values, is_s, positions, graph, loops, 3)
            loss_trace = 0.0
            for j, h in enumerate(model.states[-3:]):
                k = loops - len(model.states[-3:]) + 1 + j
                wave, walk = trace_targets(tr, k)
                pred = model.read(h.float())
                open_ = wave >= 0
                loss_trace = loss_trace + F.cross_entropy(pred[..., :4][open_], wave[open_]) \
                    + F.binary_cross_entropy_with_logits(pred[..., 4][open_], walk[open_])
            loss_trace = loss_trace / len(model.states[-3:])
            t0 = torch.as_tensor([t[2] for t in tr])
            done = (2 * t0 <= loops)[:, None] & (values == 0)
            on = torch.as_tensor(np.stack([t[1] for t in tr]))
            loss_path = F.cross_entropy(logits[done].float(), on[done].long()) if done.any() else torch.zeros(())
            loss = loss_path + args.trace * loss_trace
            lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / (60 * args.minutes)))))
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            now = time.perf_counter()
            elapsed += now - tick
            tick = now
            for key, v in (("path", loss_path.item()), ("trace", float(loss_trace.detach()) if torch.is_tensor(loss_trace) else loss_trace)):
                run[key] = v if key not in run else 0.95 * run[key] + 0.05 * v
            if step % 10 == 0:
                log.write(json.dumps({"step": step, "minutes": round(elapsed / 60, 2), "loops": loops,
                                      **{k: round(v, 4) for k, v in run.items()}}) + "\n")
                log.flush()
            if elapsed - last_ckpt > 120:
                checkpoint()
                last_ckpt = elapsed
    checkpoint()


@torch.no_grad()
def evaluate(args) -> None:
    torch.set_num_threads(args.threads)
    s = load_state(Path(args.run) / "state.pt")
    model = build(s["args"]["dim"])
    model.load_state_dict(s["model"])
    model.eval()
    task = MazeTask()
    for size in [int(x) for x in args.sizes.split(",")]:
        mazes = maze.generate(args.n, size, args.kind, min_path=args.min_path, seed=args.seed)
        st = task.structure(mazes[0].shape)
        positions, graph = torch.as_tensor(st.positions), torch.as_tensor(st.graph)
        tr = traces(mazes)
        values, is_s = encode(mazes)
        modes = [("enough", None)] + ([("per_cell", args.loops_per_cell)] if args.loops_per_cell else [])
        for mode, f in modes:
            solved, wave_ok, t1 = 0, [], time.perf_counter()
            for i, m in enumerate(mazes):  # one at a time: the loop count differs per maze
                loops = 2 * tr[i][2] + 4 if f is None else int(f * (~m.walls).sum())
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    logits = model(values[i:i + 1], is_s[i:i + 1], positions, graph, loops)
                pred = logits.argmax(-1)[0] + 1
                solved += task.verify(values[i].numpy(), pred.numpy(), m.shape)
                wave, _ = trace_targets([tr[i]], loops)
                w = model.read(model.states[-1].float())[0, :, :4].argmax(-1)
                open_ = wave[0] >= 0
                wave_ok.append((w[open_] == wave[0][open_]).float().mean().item())
            print(json.dumps({"size": size, "kind": args.kind, "min_path": args.min_path, "mode": mode,
                              "solved": solved, "n": len(mazes), "wave_cells_right": round(float(np.mean(wave_ok)), 4),
                              "s_per_maze": round((time.perf_counter() - t1) / len(mazes), 2)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--out", required=True)
    t.add_argument("--minutes", type=float, default=40)
    t.add_argument("--side", type=int, default=9)
    t.add_argument("--dim", type=int, default=64)
    t.add_argument("--trace", type=float, default=1.0)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--pool", type=int, default=20000)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1)
    e = sub.add_parser("eval")
    e.add_argument("run")
    e.add_argument("--sizes", default="9,15,21")
    e.add_argument("--kind", default="open")
    e.add_argument("--min-path", type=int, default=None)
    e.add_argument("-n", type=int, default=32)
    e.add_argument("--loops-per-cell", type=float, default=0.0)
    e.add_argument("--seed", type=int, default=1)
    e.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        {"train": train, "eval": evaluate}[args.cmd](args)
    except UserError as e:  # a missing or damaged state, an impossible maze size
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
