"""Decoding with retraction: commit the confident cells, take back the doubtful ones.

One `step` looks at the model's predictions for the current grid and
  1. retracts committed cells that the grid no longer supports: the less
     confident side of every conflict (two peers holding one value), and cells
     whose value's probability fell below a threshold that decays over the run
     (so late steps stop second-guessing, a guard against cycles);
  2. commits masked cells by the margin between their two most probable values
     (Kim et al.: the order decides everything): every cell whose top
     probability clears `confident`, at least the single best, never two that
     would clash with each other or with a filled peer; a cell just retracted
     waits `tabu` steps before it can be committed again; where the model's
     most probable values fill the grid with no clash (all-different tasks),
     all of them at once, since that grid is a solution;
  3. restarts a chain whose grid has not grown for `patience` steps: everything
     it committed after its first step is re-masked (retracted) and it goes on
     with noisy commit order and sampled values, so it does not walk back into
     the same self-consistent wrong grid (on such a grid the model is as sure of
     the wrong cells as of the right ones, so thresholds alone cannot find them);
  4. stops a grid when it is full and verified.
Several chains per puzzle run in one batch; chain 0 is greedy, the others add
Gumbel noise to the commit order and sample values at a temperature, and join
only for puzzles that chain 0 has not solved within `spare_after` steps. A
puzzle is solved when any of its chains is verified. Nothing here searches or
propagates constraints: every value comes from the model.

A model that learned an execution trace (mazes) runs its first step in chunks of loops
up to a cap, and a puzzle stops looping as soon as the model's own argmax verifies as an
answer; that answer is then committed whole (the early exit, with "verified" in place of
"confident").

Speed: with `warm_loops`, a chain's later steps start the model's looped core from
the state it ended the previous step in and run only that many loops; with
`time_limit`, puzzles still running when the next step would end past their share
of it are given up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch


@dataclass
class SamplerConfig:
    loops: int = 0  # passes of the looped core per step; 0 = the model's K_max, scaled with grid size
    max_steps: int = 64
    chains: int = 1
    retract: bool = True
    confident: float | None = None  # commit every masked cell at least this sure (early exit when all are);
    # None = the task's own (Sudoku 0.99; mazes 0.9: measured 24/24 vs 14/24 mid-training 15x15 mazes at 64 steps)
    doubt: float = 0.2  # retract a committed cell whose value's probability fell below this (decays to 0)
    tabu: int = 2  # steps a retracted cell stays masked
    temperature: float | None = None  # for chains > 0 and restarted chains; None = the task's own (Sudoku 2.5, mazes 1.0)
    spare_after: int = 4  # chains beyond the first join only for puzzles still unsolved after this many steps
    # (0 = all start at once), so an easy puzzle costs one chain however many are allowed
    patience: int = 5  # >0: a chain whose grid has not grown for this many steps re-masks everything it
    # committed after its first step and goes on with noise (0 = off)
    warm_loops: int | None = None  # >0: after a chain's first step, start the core from its state at the end
    # of the previous step and run only this many loops (the grid changes by a few cells per step); 0 = every
    # step cold; None = the task's own
    time_limit: float = 0.0  # >0: seconds per puzzle; a call on P puzzles starts no step that would end past
    # P x this, and gives up the puzzles still running (extra["timed_out"]); a step of many loops is cut between
    # chunks of them when the time is up; 0 = only the step limit
    seed: int = 0
    legal: bool = False  # AR only: never write a value a peer already holds


@dataclass
class Outcome:
    """Per puzzle: the best chain's final grid and its counters."""

    values: np.ndarray  # (T,) final grid of the chosen chain
    verified: bool
    steps: int
    commits: int
    retractions: int
    seconds: float
    extra: dict = field(default_factory=dict)


@dataclass
class State:
    """What a live view needs after each step (for chain 0 of puzzle 0)."""

    values: np.ndarray
    given: np.ndarray
    committed_now: np.ndarray
    retracted_now: np.ndarray
    step: int
    loops: int


class Deadline:
    """A per-puzzle time limit for one call on `puzzles` puzzles (0 = none): `allows(rows)` says
    whether a step over `rows` grids, costing what the last one did per grid, ends within the
    call's share (puzzles x limit), and if so starts timing it."""

    def __init__(self, limit: float, puzzles: int):
        self.end = time.perf_counter() + limit * puzzles if limit else float("inf")
        self.last: float | None = None
        self.rows = 1
        self.hit = False

    def passed(self) -> bool:
        """Whether the call's time is up (checked inside long steps too)."""
        self.hit = self.hit or time.perf_counter() > self.end
        return self.hit

    def allows(self, rows: int) -> bool:
        now = time.perf_counter()
        if self.last is not None and now + (now - self.last) * rows / self.rows > self.end:
            self.hit = True
            return False
        self.last, self.rows = now, rows
        return True


def _clashing(task, v: torch.Tensor, conf: torch.Tensor, committed: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
    """bool (n, T): committed cells to retract because the grid breaks a constraint there.

    The domain names its kind of constraint:
    - "all-different" (Sudoku): two peers (graph: bool adjacency without self-loops) may not hold one value; the
      less confident side of each such pair goes (ties: the later cell);
    - "path" (mazes; graph: neighbour table self/up/right/down/left): an on-path cell needs two
      on-path neighbours and S/G one, so an on-path cell that can no longer get them (a dead
      end) goes, and where a cell has too many (a branch) its least confident committed
      on-path neighbour, or itself, goes.
    """
    T = v.shape[1]
    if task.constraint == "all-different":
        filled = v > 0
        same = (v[:, :, None] == v[:, None, :]) & filled[:, :, None] & filled[:, None, :] & graph
        order = torch.arange(T, device=v.device)
        weaker = (conf[:, None, :] > conf[:, :, None]) | (
            (conf[:, None, :] == conf[:, :, None]) & (order[None, :] < order[:, None])[None]
        )
        return committed & (same & weaker).any(-1)
    if task.constraint == "path":
        nb, has = graph[:, 1:].clamp(min=0), graph[:, 1:] >= 0  # (T, 4)
        on = v >= task.ON  # ON, or the START mark
        on_nb = on[:, nb] & has  # (n, T, 4)
        may_nb = (on | (v == 0))[:, nb] & has
        end = on & ~committed  # S and G (the only given on-path cells)
        need = torch.where(end, 1, 2)
        dead = committed & on & (may_nb.sum(-1) < need)
        branch = on & (on_nb.sum(-1) > need)
        # among a branching cell and its on-path neighbours, the least confident committed one goes
        mine = torch.where(committed & on, conf, torch.full_like(conf, float("inf")))
        cand = torch.cat([mine[:, :, None], torch.where(on_nb, mine[:, nb], float("inf"))], dim=-1)  # (n, T, 5)
        pick = graph.clamp(min=0)[None].expand(len(v), -1, -1).gather(-1, cand.argmin(-1, keepdim=True)).squeeze(-1)
        ok = branch & torch.isfinite(cand.min(-1).values)
        hit = torch.zeros_like(pick).scatter_add_(1, pick, ok.long()) > 0
        return dead | (hit & committed & on)
    raise NotImplementedError(f"no clash rule for {task.constraint!r} constraints")


def _completes(v: torch.Tensor, argmax: torch.Tensor, peers: torch.Tensor) -> torch.Tensor:
    """bool (n,): rows whose grid `v` (0 = masked), its masked cells filled with the model's `argmax`, has no
    two peers holding one value. Givens are fixed in the network, so such a grid is a solution: committing it
    whole ends the chain a step or more early (measured, 8 chains started together, 8 steps: 10-17% more
    puzzles/s, the same or more solved; README, "Speed")."""
    pred = torch.where(v > 0, v, argmax)
    return ~((pred[:, :, None] == pred[:, None, :]) & peers).flatten(1).any(-1)


class Sampler:
    """Runs a masked-diffusion network over a batch of puzzles of one task and grid size.

    model(values, given, positions, graph, loops) -> logits; task supplies
    structure(shape), conflicts(values) and verify(puzzle, values, shape).
    """

    def __init__(self, model, task, config: SamplerConfig, device: torch.device, autocast: bool = False):
        self.model, self.task, self.config, self.device = model, task, config, device
        self.autocast = autocast

    CHUNK = 32  # a step of more loops runs in chunks of this many when it has a deadline or can settle early
    CPU_ROWS = 128  # on CPU, larger batches run in pieces of this many grids: their activations stay in cache
    # (measured, Sudoku: 256 grids 390 grids/s in pieces of 128 vs 339 whole, 512: 379 vs 324); GPUs take them whole

    def _model(self, v, g, positions, graph, loops: int, state=None):
        """(logits, final core state or None) for rows v, g, run in pieces of CPU_ROWS on CPU."""
        carries = getattr(self.model, "carries_state", False)
        step = self.CPU_ROWS if self.device.type == "cpu" else max(len(v), 1)
        outs = []
        for i in range(0, len(v), step):
            sl = slice(i, i + step)
            if carries:
                outs.append(self.model(v[sl], g[sl], positions, graph, loops,
                                       state=None if state is None else state[sl], return_state=True))
            else:
                outs.append((self.model(v[sl], g[sl], positions, graph, loops), None))
        if len(outs) == 1:
            return outs[0]
        return torch.cat([o[0] for o in outs]), None if outs[0][1] is None else torch.cat([o[1] for o in outs])

    def _forward(self, v, g, positions, graph, loops: int, state=None, deadline: Deadline | None = None,
                 settled: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None):
        """(logits, final core state, loops run per row, rows answered) after up to `loops` passes (state None for models
        that carry none). With a deadline or a `settled` rule (settled(logits, rows): which of those rows
        have an answer already verified) and a model that carries state, the loops run in chunks: a row
        stops where it settled, keeping that chunk's logits and state, the step ends when every row has,
        and (None, None, None, None) once the deadline passes."""
        if state is None and settled is None:
            # identical grids (a puzzle's chains before they diverge: all of them at step 1, spares as they
            # join) run once; the network is deterministic, so each copy gets the same logits
            key = v * 2 + g.long()
            uniq, inverse = torch.unique(key, dim=0, return_inverse=True)
            if len(uniq) < len(v):
                rep = torch.empty(len(uniq), dtype=torch.long, device=v.device)
                rep[inverse] = torch.arange(len(v), device=v.device)
                out = self._forward(v[rep], g[rep], positions, graph, loops, None, deadline, None)
                return tuple(None if x is None else x[inverse] for x in out)  # all None past the deadline
        full = torch.full((len(v),), loops, device=v.device)
        answered = torch.zeros(len(v), dtype=torch.bool, device=v.device)
        timed = deadline is not None and deadline.end != float("inf")
        if not getattr(self.model, "carries_state", False) or not (timed or settled) or loops <= self.CHUNK:
            return (*self._model(v, g, positions, graph, loops, state), full, answered)
        done, kept, ran = 0, None, full.clone()
        open_ = torch.arange(len(v), device=v.device)  # rows still running (settled rows stop computing)
        while True:
            n = min(self.CHUNK, loops - done)
            lg, h = self._model(v[open_], g[open_], positions, graph, n, None if state is None else state[open_])
            if kept is None:
                kept, state = lg.new_empty((len(v), *lg.shape[1:])), h.new_zeros((len(v), *h.shape[1:]))
            kept[open_], state[open_] = lg, h.to(state.dtype)
            done += n
            if settled is not None:
                now = settled(lg, open_)
                ran[open_[now]] = done
                answered[open_[now]] = True
                open_ = open_[~now]
            if done == loops or len(open_) == 0:
                return kept, state, ran, answered
            if timed and deadline.passed():
                return None, None, None, None

    def _warm_forward(self, v, g, idx, cold, carried, positions, graph, warm_loops: int, deadline=None,
                      settled=None):
        """Logits for rows idx: cold rows run all loops from scratch (or until `settled(rows)` says they
        are answered), the others warm_loops from their carried core state. Returns (logits, updated
        carried state, loops run per row, rows answered)."""
        cfg, logits = self.config, None
        is_cold = cold[idx]
        ran = torch.full((len(idx),), warm_loops, device=v.device)
        answered = torch.zeros(len(idx), dtype=torch.bool, device=v.device)
        for rows, from_state in ((is_cold, False), (~is_cold, True)):
            if not rows.any():
                continue
            sel = idx[rows]
            loops, state = (warm_loops, carried[sel]) if from_state else (cfg.loops, None)
            lg, h, r, a = self._forward(v[rows], g[rows], positions, graph, loops, state, deadline,
                                        None if from_state or settled is None else settled(sel))
            if lg is None:
                return None, carried, None, None
            if logits is None:
                logits = lg.new_empty((len(idx), *lg.shape[1:]))
            if carried is None:
                carried = h.new_zeros((len(cold), *h.shape[1:]))
            logits[rows], carried[sel], ran[rows], answered[rows] = lg, h.to(carried.dtype), r, a
        cold[idx] = False
        return logits, carried, ran, answered

    @torch.no_grad()
    def solve(
        self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None
    ) -> list[Outcome]:
        """puzzles: int (P, T), 0 = unknown. Returns one Outcome per puzzle."""
        cfg = self.config
        confident = cfg.confident if cfg.confident is not None else self.task.confident
        temperature = cfg.temperature if cfg.temperature is not None else self.task.temperature
        t0 = time.perf_counter()
        structure = self.task.structure(shape)
        shape = structure.shape
        positions = torch.as_tensor(structure.positions, device=self.device)
        graph = torch.as_tensor(structure.graph, device=self.device)
        all_different = self.task.constraint == "all-different"
        peers = graph & ~torch.eye(graph.shape[0], dtype=torch.bool, device=self.device) if all_different else None
        P, T = puzzles.shape
        C = cfg.chains
        gen = torch.Generator(device=self.device).manual_seed(cfg.seed)

        values = torch.as_tensor(np.repeat(puzzles, C, axis=0), dtype=torch.long, device=self.device)  # (N, T)
        given = values > 0
        N = P * C
        greedy = (torch.arange(N, device=self.device) % C == 0)[:, None]
        first = torch.zeros(N, T, dtype=torch.bool, device=self.device)  # committed at step 1
        best_filled = (values > 0).sum(-1)
        last_progress = torch.zeros(N, dtype=torch.long, device=self.device)
        restarts = torch.zeros(N, dtype=torch.long, device=self.device)
        tabu = torch.zeros(N, T, dtype=torch.long, device=self.device)
        commits = torch.zeros(N, dtype=torch.long, device=self.device)
        retractions = torch.zeros(N, dtype=torch.long, device=self.device)
        steps = torch.zeros(N, dtype=torch.long, device=self.device)
        spare = ~greedy[:, 0]
        waiting = C > 1 and cfg.spare_after > 0  # spare chains not yet joined
        active = ~spare if waiting else torch.ones(N, dtype=torch.bool, device=self.device)
        verified = torch.zeros(N, dtype=torch.bool, device=self.device)
        warm_loops = cfg.warm_loops if cfg.warm_loops is not None else self.task.warm_loops
        warm = warm_loops > 0 and getattr(self.model, "carries_state", False)
        cold = torch.ones(N, dtype=torch.bool, device=self.device)  # no carried state yet (or restarted)
        carried = None  # (N, T, dim) core state after each chain's last step
        puzzle_done = np.zeros(P, dtype=bool)

        deadline = Deadline(cfg.time_limit, P)
        first_loops = torch.zeros(N, dtype=torch.long, device=self.device)  # loops run by each row's first step

        def settled(rows: torch.Tensor):
            """For a model that learned an execution trace: check(logits, part) says which of rows[part]
            already have a verified answer in the model's argmax (their loops can stop; `loops` is a cap)."""
            def check(logits: torch.Tensor, part: torch.Tensor) -> torch.Tensor:
                sub = rows[part]
                pred = torch.where(given[sub], values[sub], logits.argmax(-1) + 1).cpu().numpy()
                ok = [self.task.verify(puzzles[n // C], pred[k], shape) for k, n in enumerate(sub.tolist())]
                return torch.as_tensor(ok, dtype=torch.bool, device=self.device)
            return check

        settle = settled if getattr(getattr(self.model, "config", None), "trace", 0) else None
        for step in range(cfg.max_steps):
            if waiting and (step == cfg.spare_after or not active.any()):  # join now, or early if chain 0s all stopped
                active |= spare & ~torch.as_tensor(np.repeat(puzzle_done, C), device=self.device)
                waiting = False
            idx = active.nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            if not deadline.allows(len(idx)):
                break
            v, g = values[idx], given[idx]
            # what chain 0 runs this step, for the live view (read before the forward pass clears `cold`)
            loops_now = warm_loops if on_step is not None and warm and not cold[0] else cfg.loops
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                if warm:
                    logits, carried, ran, answered = self._warm_forward(v, g, idx, cold, carried, positions, graph, warm_loops,
                                                              deadline, settle)
                else:
                    logits, _, ran, answered = self._forward(v, g, positions, graph, cfg.loops, deadline=deadline,
                                                   settled=settle(idx) if settle else None)
            if logits is None:  # the time limit passed inside this step
                break
            if step == 0:
                first_loops[idx] = ran.long()
            probs = logits.float().softmax(-1)  # (n, T, V)
            filled = v > 0
            committed = filled & ~g

            # 1. retract
            retracted = torch.zeros_like(filled)
            if cfg.retract:
                p_cur = probs.gather(-1, (v - 1).clamp(0, probs.shape[-1] - 1)[..., None]).squeeze(-1)
                conf = torch.where(g, torch.full_like(p_cur, 2.0), torch.where(filled, p_cur, torch.zeros_like(p_cur)))
                clash = _clashing(self.task, v, conf, committed, peers if all_different else graph)
                doubt = cfg.doubt * (1 - step / cfg.max_steps)
                retracted = clash | (committed & (p_cur < doubt))
                v = torch.where(retracted, 0, v)
                filled = v > 0
                tabu[idx] = torch.where(retracted, cfg.tabu, (tabu[idx] - 1).clamp(min=0))

            # 2. commit
            open_ = ~filled & (tabu[idx] == 0)
            sample_noise = ~greedy[idx]
            top2 = probs.topk(2, dim=-1)
            margin = top2.values[..., 0] - top2.values[..., 1]
            choice = top2.indices[..., 0] + 1
            if C > 1 or cfg.patience:
                gumbel = -torch.log(-torch.log(torch.rand(probs.shape[:2], generator=gen, device=self.device) + 1e-9) + 1e-9)
                noisy_margin = margin + temperature * 0.1 * gumbel
                margin = torch.where(sample_noise, noisy_margin, margin)
                tempered = (probs.clamp_min(1e-9).log() / temperature).softmax(-1)
                sampled = torch.multinomial(tempered.view(-1, tempered.shape[-1]), 1, generator=gen).view(probs.shape[:2]) + 1
                choice = torch.where(sample_noise, sampled, choice)
            if all_different:  # the model's argmax fills the grid without a clash: an answer, taken whole
                answered = answered | _completes(v, top2.indices[..., 0] + 1, peers)
                open_ = open_ | (~filled & answered[:, None])  # cells under tabu too
            score = torch.where(open_, margin, torch.full_like(margin, -1.0))
            want = open_ & (top2.values[..., 0] >= confident)
            # a row whose argmax is already an answer (a trace model's settled step, a clash-free completion) commits all of it
            want |= open_ & answered[:, None]
            choice = torch.where(answered[:, None], top2.indices[..., 0] + 1, choice)
            best = score.argmax(-1)
            has_open = open_.any(-1)
            want[torch.arange(len(idx), device=self.device), best] |= has_open
            commit = want
            if all_different:  # no two new commits that clash with each other (keep the higher score) or a filled peer
                same_new = (choice[:, :, None] == choice[:, None, :]) & want[:, :, None] & want[:, None, :] & peers
                beaten = (same_new & (score[:, None, :] > score[:, :, None])).any(-1)
                against_filled = ((choice[:, :, None] == v[:, None, :]) & filled[:, None, :] & peers).any(-1)
                commit = want & ~beaten & ~(against_filled & ~(torch.arange(T, device=self.device)[None] == best[:, None]))
            v = torch.where(commit, choice, v)
            if step == 0:
                first[idx] = commit

            # a chain that stopped growing starts over from its first-step commitments, with noise
            if cfg.retract and cfg.patience:
                n_filled = (v > 0).sum(-1)
                grew = n_filled > best_filled[idx]
                best_filled[idx] = torch.maximum(best_filled[idx], n_filled)
                last_progress[idx] = torch.where(grew, step, last_progress[idx])
                stuck = (step - last_progress[idx] >= cfg.patience) & ~(v > 0).all(-1)
                if stuck.any():
                    wipe = stuck[:, None] & (v > 0) & ~g & ~first[idx]
                    v = torch.where(wipe, 0, v)
                    retracted = retracted | wipe
                    greedy[idx[stuck]] = False
                    cold[idx[stuck]] = True
                    restarts[idx[stuck]] += 1
                    best_filled[idx[stuck]] = (v[stuck] > 0).sum(-1)
                    last_progress[idx[stuck]] = step

            values[idx] = v
            commits[idx] += commit.sum(-1)
            retractions[idx] += retracted.sum(-1)
            steps[idx] += 1

            # 3. stop grids that are full and verified
            full = (v > 0).all(-1)
            if full.any():
                fidx = idx[full]
                ok = ~torch.as_tensor(self.task.conflicts(v[full].cpu().numpy()).any(-1), device=self.device)
                for n in fidx[ok].tolist():
                    p = n // C
                    if self.task.verify(puzzles[p], values[n].cpu().numpy(), shape):
                        verified[n] = True
                        puzzle_done[p] = True
                if not cfg.retract:
                    active[fidx] = False  # nothing can change a full grid without retraction
            # a puzzle stops when one chain is verified
            done_rows = torch.as_tensor(np.repeat(puzzle_done, C), device=self.device)
            active &= ~done_rows
            if on_step is not None and active[0] | (step == 0) | verified[0]:
                on_step(State(
                    values[0].cpu().numpy(), given[0].cpu().numpy(),
                    commit[0].cpu().numpy() if idx[0] == 0 else np.zeros(T, bool),
                    retracted[0].cpu().numpy() if idx[0] == 0 else np.zeros(T, bool),
                    step + 1, loops_now,
                ))

        seconds = (time.perf_counter() - t0) / max(P, 1)
        out = []
        vals = values.cpu().numpy()
        for p in range(P):
            rows = np.arange(p * C, (p + 1) * C)
            ok = verified[rows].cpu().numpy()
            n = rows[np.argmax(ok)] if ok.any() else rows[0]
            out.append(Outcome(
                values=vals[n], verified=bool(ok.any()), steps=int(steps[n]), commits=int(commits[n]),
                retractions=int(retractions[n]), seconds=seconds,
                extra={"chains": C, "chain": int(n - p * C), "restarts": int(restarts[n]),
                       "warm_loops": warm_loops if warm else 0, "first_step_loops": int(first_loops[n]),
                       "timed_out": deadline.hit and not puzzle_done[p]},
            ))
        return out
