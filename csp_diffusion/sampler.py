"""Decoding with retraction: commit the confident cells, take back the doubtful ones.

One `step` looks at the model's predictions for the current grid and
  1. retracts committed cells that the grid no longer supports: the less
     confident side of every conflict (two peers holding one value), and cells
     whose value's probability fell below a threshold that decays over the run
     (so late steps stop second-guessing, a guard against cycles);
  2. commits masked cells by the margin between their two most probable values
     (Kim et al.: the order decides everything): every cell whose top
     probability clears `confident`, at least the single best, never two that
     the task's clash rule refuses (all-different: two that would clash with
     each other or with a filled peer); a cell just retracted waits `tabu`
     steps before it can be committed again; where the model's most probable
     values complete the grid without breaking the rule, all of them at once;
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
propagates constraints: every value comes from the model. But steps 1 and 2 use the
puzzle's rules (the clash rules in constraints.py, keyed by the kind of constraint the task
names): they decide which of the model's values may stand, so figures from this sampler say
"rules on" unless `rules` is off (then only the verifier judges a grid, and retraction reads
only the model's doubt). Any model kind that predicts each cell's distribution runs here: a
recurrent one (HRM, TRM) through denoiser.Recurrent, its state carried from step to step.

A model that learned an execution trace (mazes) runs its first step in chunks of loops
up to a cap, and a puzzle stops looping as soon as the model's own argmax verifies as an
answer; that answer is then committed whole (the early exit, with "verified" in place of
"confident"). A first step whose answer moved and then stood still for two checks
without verifying has stalled (the trace went wrong: no more loops will mend it), and
stops there. Each chain runs in one of the task's frames (symmetries of the grid,
`task.frames`; chain c in frame c): a chain whose first step in its frame stalled starts
again, cold, from the bare puzzle in its next frame, until it has tried them all. Only the grid's frame changes; every
value still comes from the model, and answers are verified in the puzzle's own frame.

Speed: on grids of more than QUIET_CELLS cells with a neighbour-table graph, a first step's loops
recompute only the cells near a cell whose state moved (quiet.py): on a 201x201 perfect maze the
wave and the walk touch about 1% of the cells a loop. With `warm_loops`, a chain's later steps start the model's looped core from
the state it ended the previous step in and run only that many loops; with
`time_limit`, each puzzle has that many seconds of its own work (`Budget`): the time of
every step, and of every piece of a long step's loops, is shared out among the grids
that ran in it, so a puzzle is never charged for another's, and one whose time is up
stops after the step (or piece) it is in, with what that step gave it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from csp_diffusion.constraints import rule_for
from csp_diffusion.denoiser import as_denoiser
from csp_diffusion.quiet import QuietCells
from puzzles.domains import structure_of
from puzzles.errors import UserError


@dataclass
class SamplerConfig:
    loops: int = 0  # passes of the looped core per step; 0 = the model's K_max, scaled with grid size
    max_steps: int = 64
    chains: int = 1
    retract: bool = True
    confident: float | None = None  # commit every masked cell at least this sure (early exit when all are);
    # None = the task's own
    doubt: float = 0.2  # retract a committed cell whose value's probability fell below this (decays to 0)
    tabu: int = 2  # steps a retracted cell stays masked
    temperature: float | None = None  # for chains > 0 and restarted chains; None = the task's own
    spare_after: int = 4  # chains beyond the first join only for puzzles still unsolved after this many steps
    # (0 = all start at once), so an easy puzzle costs one chain however many are allowed
    patience: int = 5  # >0: a chain whose grid has not grown for this many steps re-masks everything it
    # committed after its first step and goes on with noise (0 = off)
    warm_loops: int | None = None  # >0: after a chain's first step, start the core from its state at the end
    # of the previous step and run only this many loops (the grid changes by a few cells per step); 0 = every
    # step cold; None = the task's own
    time_limit: float | None = 0.0  # >0: seconds of its own work per puzzle (Budget), after which it is given up
    # (extra["timed_out"]); a step of many loops is cut between pieces of them for a puzzle whose time is up;
    # 0 = only the step limit; None = the default for the grid's size (puzzles/limits.py; NeuralSolver.plan)
    seed: int = 0
    rules: bool = True  # the decoder uses the puzzle's rules (constraints.py): the sampler refuses commits that
    # clash and retracts clashing cells, the unmasking decoder refuses clashing commits, AR masks a peer's value;
    # off: every value comes from the model and only the verifier judges the grid
    decoder: str | None = None  # argmax, native or sampler (decoders.py); None = the model kind's own


@dataclass
class Outcome:
    """Per puzzle: the best chain's final grid and its counters."""

    values: np.ndarray  # (T,) final grid of the chosen chain
    verified: bool
    steps: int
    commits: int
    retractions: int
    seconds: float  # the puzzle's own time (Budget): its share of every step it ran in, to its answer or its end
    extra: dict = field(default_factory=dict)


@dataclass
class State:
    """What a live view needs after each step: chain 0 of puzzle 0, then, if another chain of that puzzle
    was verified, a last State of that chain's answer (`chain` > 0)."""

    values: np.ndarray
    given: np.ndarray
    committed_now: np.ndarray
    retracted_now: np.ndarray
    step: int
    loops: int
    chain: int = 0


class Budget:
    """Each puzzle's own time in one call on `puzzles` puzzles of `chains` rows (grids) each, and its limit
    (`limit` seconds; 0 = none). The clock runs from `start` (a step's beginning: time spent while the caller
    holds a result is nobody's) and `charge(rows)` shares the seconds since the last mark out among the rows
    that ran in them, in proportion to `weights` (the loops each ran; default equal), so a puzzle is charged
    only for its own grids' share of a batch, never for another puzzle's, and its limit counts from when its
    own work starts. A puzzle is out of time once it has spent its limit."""

    def __init__(self, limit: float, puzzles: int, chains: int = 1):
        self.limit, self.chains = float(limit or 0.0), chains
        self.spent = np.zeros(puzzles)
        self.mark = time.perf_counter()

    def start(self) -> None:
        self.mark = time.perf_counter()

    def charge(self, rows, weights=None) -> np.ndarray:
        """Share the seconds since the last mark among `rows` (int array of row numbers); which of them belong
        to a puzzle now out of time."""
        now = time.perf_counter()
        spent, self.mark = now - self.mark, now
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(rows):
            w = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
            w = w / w.sum() if w.sum() > 0 else np.full(len(rows), 1 / len(rows))
            np.add.at(self.spent, rows // self.chains, spent * w)
        return self.over(rows)

    def over(self, rows) -> np.ndarray:
        """Per row: whether its puzzle is out of time."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        return self.out[rows // self.chains]

    @property
    def out(self) -> np.ndarray:
        """Per puzzle: whether it has spent its limit."""
        return self.spent >= self.limit if self.limit > 0 else np.zeros(len(self.spent), dtype=bool)


class Sampler:
    """Runs a masked-diffusion network over a batch of puzzles of one task and grid size.

    model(values, given, positions, graph, loops) -> logits; task supplies
    structure(shape), conflicts(values) and verify(puzzle, values, shape). A task whose structure differs
    per puzzle (Kakuro) runs one puzzle (and its chains) per call, under that puzzle's structure
    (`puzzles.domains.structure_of`; `models.decoder` hands them over one at a time).
    """

    def __init__(self, model, task, config: SamplerConfig, device: torch.device, autocast: bool = False):
        self.model, self.task, self.config, self.device = as_denoiser(model), task, config, device
        self.autocast = autocast

    CHUNK = 32  # a step of more loops runs in chunks of this many when it has a time limit or can settle early
    CHUNK_CELLS = 1024  # grids larger than this run their chunks in smaller pieces (see `piece`)
    CPU_ROWS = 128  # on CPU, larger batches run in pieces of this many grids, whose activations stay in cache
    # (docs/results/sudoku.md, "Speed"); GPUs take them whole
    CPU_CELLS = QuietCells.PART  # and of at most this many cells, as quiet passes: the 8 chains of two 201x201
    # mazes peaked at 4.8 GB in one warm piece, 0.86 GB in these (docs/results/maze.md, "Every kind from side 11 to 201")
    QUIET_CELLS = 1024  # a chunked step on a larger sparse grid runs quiet cells (quiet.py; docs/results/maze.md,
    # "Quiet cells": 1.2x on random-wall 60x60 mazes, 3.1x on perfect 61x61, what made 201x201 measurable;
    # no faster at 30x30, where most cells move every loop)

    def piece(self, cells: int, quiet: bool = False) -> int:
        """Loops per piece of a chunked step on grids of `cells`: CHUNK, halved while a piece would cost more
        than CHUNK loops on CHUNK_CELLS cells, so the time limit is checked as often in wall time on any grid
        (answers are still checked every CHUNK loops); CHUNK for `quiet` loops, whose cells are few."""
        piece = self.CHUNK
        while not quiet and piece > 1 and piece * cells > self.CHUNK * self.CHUNK_CELLS:
            piece //= 2
        return piece

    def runs_quiet(self, cells: int, graph: torch.Tensor) -> bool:
        """Whether a chunked step on grids of `cells` runs quiet cells (quiet.py): a looped model on a
        neighbour table, larger than QUIET_CELLS."""
        return self.model.carries_state and graph.dtype != torch.bool and cells > self.QUIET_CELLS

    def run_model(self, v, g, positions, graph, loops: int, state=None, quiet: QuietCells | None = None):
        """(logits, final core state or None) of one model call of `loops` loops on rows v (values) with g (the
        given cells), from core state `state` (None: cold), run in pieces of CPU_ROWS grids and CPU_CELLS cells
        on CPU (with `quiet`, whole: its cells are few). Every step of the sampler calls the model through it;
        public so that one call can be measured alone (experiments/maze_memory)."""
        carries = self.model.carries_state
        if self.device.type == "cpu" and quiet is None:
            step = max(1, min(self.CPU_ROWS, self.CPU_CELLS // max(v.shape[1], 1)))
        else:
            step = max(len(v), 1)
        outs = []
        for i in range(0, len(v), step):
            sl = slice(i, i + step)
            if carries:
                outs.append(self.model(v[sl], g[sl], positions, graph, loops, return_state=True,
                                       state=None if state is None else state[sl], quiet=quiet))
            else:
                outs.append((self.model(v[sl], g[sl], positions, graph, loops), None))
        if len(outs) == 1:
            return outs[0]
        return torch.cat([o[0] for o in outs]), None if outs[0][1] is None else torch.cat([o[1] for o in outs])

    STALL_CHECKS = 2  # a settling row whose answer grew, then not for this many checks, unverified, has stalled

    def _forward(self, v, g, positions, graph, loops: int, state=None,
                 clock: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 settled: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None):
        """(logits, final core state, loops run per row, rows answered, rows stalled) after up to `loops` passes
        (state None for models that carry none). With a `clock` (clock(rows): charges the time since its last
        call to those rows and says which are out of time) or a `settled` rule (settled(logits, rows):
        which of those rows have an answer already verified) and a model that carries state, the loops run
        in chunks: a row stops where it settled, or where it stalled: its answer (the cells whose argmax differs
        from the first check's) grew at some check, then did not outgrow its largest for STALL_CHECKS checks
        (on a maze, the walk stopped short of G or turns in circles), or where its puzzle's time is up; it keeps that
        chunk's logits and state; the step ends when every row has (so every row gets at least one piece)."""
        if state is None and settled is None:
            # identical grids (a puzzle's chains before they diverge: all of them at step 1, spares as they
            # join) run once; the network is deterministic, so each copy gets the same logits
            key = v * 2 + g.long()
            uniq, inverse = torch.unique(key, dim=0, return_inverse=True)
            if len(uniq) < len(v):
                rep = torch.empty(len(uniq), dtype=torch.long, device=v.device)
                rep[inverse] = torch.arange(len(v), device=v.device)
                sub = None if clock is None else (lambda rows: clock(rep[rows]))
                out = self._forward(v[rep], g[rep], positions, graph, loops, None, sub, None)
                return tuple(None if x is None else x[inverse] for x in out)  # a model without state: None
        full = torch.full((len(v),), loops, device=v.device)
        answered = torch.zeros(len(v), dtype=torch.bool, device=v.device)
        stalled = answered.clone()
        timed = clock is not None
        quiet = QuietCells(graph) if self.runs_quiet(v.shape[1], graph) else None
        piece = self.piece(v.shape[1], quiet is not None)
        if not self.model.carries_state or not (timed or settled) or loops <= piece:
            return (*self.run_model(v, g, positions, graph, loops, state), full, answered, stalled)
        done, kept, ran = 0, None, full.clone()
        first, best = None, torch.zeros(len(v), dtype=torch.long, device=v.device)
        still = torch.zeros_like(best)
        open_ = torch.arange(len(v), device=v.device)  # rows still running (settled rows stop computing)
        while True:
            n = min(piece, loops - done)
            lg, h = self.run_model(v[open_], g[open_], positions, graph, n, None if state is None else state[open_], quiet)
            if kept is None:
                kept, state = lg.new_empty((len(v), *lg.shape[1:])), h.new_zeros((len(v), *h.shape[1:]))
            kept[open_], state[open_] = lg, h.to(state.dtype)
            done += n
            if settled is not None and (done % self.CHUNK == 0 or done == loops):
                now = settled(lg, open_)
                pred = lg.argmax(-1)
                if first is None:
                    first = pred.new_zeros((len(v), pred.shape[1]))
                    first[open_] = pred
                size = (pred != first[open_]).sum(-1)
                grew = size > best[open_]
                still[open_] = torch.where(grew, 0, still[open_] + 1)
                best[open_] = torch.maximum(best[open_], size)
                stuck = ~now & (best[open_] > 0) & (still[open_] >= self.STALL_CHECKS)
                stalled[open_[stuck]] = True
                ran[open_[now | stuck]] = done
                answered[open_[now]] = True
                open_ = open_[~(now | stuck)]
                if quiet is not None:
                    quiet.keep(~(now | stuck))
            if timed and len(open_) and done < loops:
                out = clock(open_)  # the piece's time, shared among the rows that ran it
                ran[open_[out]] = done
                open_ = open_[~out]
                if quiet is not None and out.any():
                    quiet.keep(~out)
            if done == loops or len(open_) == 0:
                return kept, state, ran, answered, stalled

    def _warm_forward(self, v, g, idx, cold, carried, positions, graph, warm_loops: int, clock=None,
                      settled=None):
        """Logits for rows idx: cold rows run all loops from scratch (or until `settled(rows)` says they
        are answered or stalled), the others warm_loops from their carried core state. Returns (logits,
        updated carried state, loops run per row, rows answered, rows stalled)."""
        cfg, logits = self.config, None
        is_cold = cold[idx]
        ran = torch.full((len(idx),), warm_loops, device=v.device)
        answered = torch.zeros(len(idx), dtype=torch.bool, device=v.device)
        stalled = answered.clone()
        for rows, from_state in ((is_cold, False), (~is_cold, True)):
            if not rows.any():
                continue
            sel = idx[rows]
            loops, state = (warm_loops, carried[sel]) if from_state else (cfg.loops, None)
            at = rows.nonzero().squeeze(1)
            sub = None if clock is None else (lambda part, at=at: clock(at[part]))
            lg, h, r, a, st = self._forward(v[rows], g[rows], positions, graph, loops, state, sub,
                                            None if from_state or settled is None else settled(sel))
            if logits is None:
                logits = lg.new_empty((len(idx), *lg.shape[1:]))
            if carried is None:
                carried = h.new_zeros((len(cold), *h.shape[1:]))
            logits[rows], carried[sel], ran[rows], answered[rows], stalled[rows] = lg, h.to(carried.dtype), r, a, st
        cold[idx] = False
        return logits, carried, ran, answered, stalled


    def solve(
        self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None
    ) -> list[Outcome]:
        """puzzles: int (P, T), 0 = unknown. Returns one Outcome per puzzle."""
        done = dict(self.solve_iter(puzzles, on_step, shape))
        return [done[p] for p in range(len(puzzles))]

    @torch.no_grad()
    def solve_iter(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None,
                   shape=None) -> Iterator[tuple[int, Outcome]]:
        """(index, Outcome) per puzzle as soon as it is final: a puzzle when one of its chains is verified or
        its time is up, the rest when the call ends. The live view's last State of puzzle 0 comes before its
        Outcome."""
        run = _Run(self, puzzles, shape)
        ch = run.chains
        sent = np.zeros(len(puzzles), dtype=bool)
        for step in range(self.config.max_steps):
            ch.join_spares(step, self.config.spare_after)
            idx = ch.active.nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            run.budget.start()  # the time the caller held the last result is nobody's
            v, g = ch.values[idx], ch.given[idx]
            # what chain 0 runs this step, for the live view (read before the forward pass clears `cold`)
            loops_now = run.warm_loops if on_step is not None and run.warm and not ch.cold[0] else run.loops
            probs, answered, stalled, ran = run.predict(idx, v, g, step)
            v, retracted = run.retract(idx, v, g, probs, step)
            v, commit = run.commit(idx, v, probs, answered, step)
            v, wiped = run.restart(idx, v, g, step)
            v, moved = run.reframe(idx, v, stalled, step)
            retracted = (retracted | wiped) & ~moved[:, None]
            commit = commit & ~moved[:, None]
            ch.values[idx] = v
            ch.counters["commits"][idx] += commit.sum(-1)
            ch.counters["retractions"][idx] += retracted.sum(-1)
            ch.counters["steps"][idx] += 1
            run.stop(idx, v)
            run.give_up(idx, ran)
            if on_step is not None and ch.active[0] | (step == 0) | ch.verified[0]:
                on_step(ch.state(idx, commit, retracted, step, loops_now))
            for p in np.flatnonzero((ch.puzzle_done | run.gave_up) & ~sent):
                yield int(p), run.outcome(int(p), on_step)
                sent[p] = True
        for p in np.flatnonzero(~sent):
            yield int(p), run.outcome(int(p), on_step)


@dataclass
class _Chains:
    """Every chain's state over one sampler call: row n is chain n % C of puzzle n // C (N = P x C rows
    of T cells). Chain 0 of each puzzle is greedy; the spares join later unless spare_after is 0."""

    values: torch.Tensor  # long (N, T), 0 = masked
    given: torch.Tensor  # bool (N, T)
    chains: int
    perms: torch.Tensor  # long (F, T): the task's frames; a chain in frame f holds puzzle cell perms[f, t] at t
    frame: torch.Tensor  # long (N,): each chain's frame
    greedy: torch.Tensor  # bool (N, 1): commits by margin and argmax, no noise (until it restarts)
    spare: torch.Tensor  # bool (N,): chains beyond the first
    waiting: bool  # spares not joined yet
    active: torch.Tensor  # bool (N,): still stepping
    first: torch.Tensor  # bool (N, T): committed at step 1 (a restart keeps these)
    best_filled: torch.Tensor  # (N,) most cells ever filled
    last_progress: torch.Tensor  # (N,) the step that last grew the grid
    tabu: torch.Tensor  # (N, T) steps a retracted cell stays masked
    cold: torch.Tensor  # bool (N,): no carried core state yet (or restarted)
    fresh: torch.Tensor  # bool (N,): the next step is the chain's first in its frame (from the bare puzzle)
    verified: torch.Tensor  # bool (N,)
    puzzle_done: np.ndarray  # bool (P,): a chain of the puzzle is verified
    counters: dict[str, torch.Tensor]  # long (N,) each, COUNTERS
    carried: torch.Tensor | None = None  # (N, T, dim) core state after each chain's last step

    COUNTERS: ClassVar[tuple[str, ...]] = ("restarts", "reframes", "commits", "retractions", "steps", "first_loops",
                                           "passes", "loops_run")

    @classmethod
    def start(cls, puzzles: np.ndarray, chains: int, spare_after: int, device, frames: np.ndarray) -> _Chains:
        P, T = puzzles.shape
        N = P * chains
        perms = torch.as_tensor(frames, dtype=torch.long, device=device)
        frame = torch.arange(N, device=device) % chains % len(perms)
        values = torch.as_tensor(np.repeat(puzzles, chains, axis=0), dtype=torch.long, device=device)
        values = values.gather(1, perms[frame])
        greedy = (torch.arange(N, device=device) % chains == 0)[:, None]
        waiting = chains > 1 and spare_after > 0
        zeros = lambda: torch.zeros(N, dtype=torch.long, device=device)  # noqa: E731
        return cls(
            values=values, given=values > 0, chains=chains, perms=perms, frame=frame, greedy=greedy,
            spare=~greedy[:, 0], waiting=waiting,
            active=greedy[:, 0].clone() if waiting else torch.ones(N, dtype=torch.bool, device=device),
            first=torch.zeros(N, T, dtype=torch.bool, device=device), best_filled=(values > 0).sum(-1),
            last_progress=zeros(), tabu=torch.zeros(N, T, dtype=torch.long, device=device),
            cold=torch.ones(N, dtype=torch.bool, device=device), fresh=torch.ones(N, dtype=torch.bool, device=device),
            counters={k: zeros() for k in cls.COUNTERS},
            verified=torch.zeros(N, dtype=torch.bool, device=device), puzzle_done=np.zeros(P, dtype=bool),
        )

    def original(self, rows: torch.Tensor, grids: torch.Tensor) -> torch.Tensor:
        """`grids` of chains `rows`, each in its chain's frame, in the puzzle's own frame."""
        if len(self.perms) == 1:
            return grids
        inv = torch.argsort(self.perms[self.frame[rows]], dim=1)
        return grids.gather(1, inv)

    def done_rows(self) -> torch.Tensor:
        return torch.as_tensor(np.repeat(self.puzzle_done, self.chains), device=self.values.device)

    def join_spares(self, step: int, spare_after: int) -> None:
        """The spares join at step `spare_after`, or earlier once every greedy chain has stopped."""
        if self.waiting and (step == spare_after or not self.active.any()):
            self.active |= self.spare & ~self.done_rows()
            self.waiting = False

    def state(self, idx, commit, retracted, step: int, loops: int) -> State:
        """The live view's State of chain 0 of puzzle 0 after a step."""
        stepped = idx[0] == 0
        zero = torch.zeros(1, dtype=torch.long, device=self.values.device)
        grids = torch.stack([self.values[0], self.given[0].long(),
                             commit[0].long() if stepped else torch.zeros_like(self.values[0]),
                             retracted[0].long() if stepped else torch.zeros_like(self.values[0])])
        values, given, committed, retracted = self.original(zero.expand(4), grids).cpu().numpy()
        return State(values, given.astype(bool), committed.astype(bool), retracted.astype(bool), step + 1, loops)


class _Run:
    """One `Sampler.solve` call: the settings resolved against the task, the chains, and the four parts
    of a step (predict, retract, commit, restart) plus the stop check, each over the active rows `idx`."""

    def __init__(self, sampler: Sampler, puzzles: np.ndarray, shape):
        cfg, task, device = sampler.config, sampler.task, sampler.device
        self.budget = Budget(cfg.time_limit, len(puzzles), cfg.chains)
        self.gave_up = np.zeros(len(puzzles), dtype=bool)  # out of time before an answer
        self.sampler, self.cfg, self.task, self.device, self.puzzles = sampler, cfg, task, device, puzzles
        self.confident = cfg.confident if cfg.confident is not None else task.confident
        self.temperature = cfg.temperature if cfg.temperature is not None else task.temperature
        structure = structure_of(task, shape, puzzles)
        self.shape = structure.shape
        self.positions = torch.as_tensor(structure.positions, device=device)
        self.graph = torch.as_tensor(structure.graph, device=device)
        self.rule = rule_for(task, self.graph, cfg.rules, self.positions)
        self.gen = torch.Generator(device=device).manual_seed(cfg.seed)
        frames = task.frames(self.shape)
        self.chains = _Chains.start(puzzles, cfg.chains, cfg.spare_after, device, frames)
        self.loops = cfg.loops
        self.warm_loops = cfg.warm_loops if cfg.warm_loops is not None else task.warm_loops
        if sampler.model.resumes:  # a recurrent model goes on from its state at every step, as many loops each
            self.warm_loops = cfg.warm_loops or max(1, cfg.loops)
        self.warm = self.warm_loops > 0 and sampler.model.carries_state
        self.settle = self._settled if sampler.model.trace else None
        self.chunked = sampler.model.carries_state and (self.budget.limit > 0 or self.settle is not None)
        self.piece = sampler.piece(len(structure.positions), sampler.runs_quiet(len(structure.positions), self.graph))

    def _settled(self, rows: torch.Tensor):
        """For a model that learned an execution trace: check(logits, part) says which of rows[part]
        already have a verified answer in the model's argmax (their loops can stop; `loops` is a cap)."""
        ch, C = self.chains, self.cfg.chains

        def check(logits: torch.Tensor, part: torch.Tensor) -> torch.Tensor:
            sub = rows[part]
            pred = ch.original(sub, torch.where(ch.given[sub], ch.values[sub], logits.argmax(-1) + 1)).cpu().numpy()
            ok = [self.task.verify(self.puzzles[n // C], pred[k], self.shape) for k, n in enumerate(sub.tolist())]
            return torch.as_tensor(ok, dtype=torch.bool, device=self.device)
        return check

    def clock(self, idx: torch.Tensor):
        """With a time limit, clock(part): charge the time since the budget's last mark to rows idx[part] and say
        which of them are out of time (the pieces of a long step); else None."""
        if not self.budget.limit:
            return None

        def clock(part: torch.Tensor) -> torch.Tensor:
            out = self.budget.charge(idx[part].cpu().numpy())
            return torch.as_tensor(out, dtype=torch.bool, device=self.device)
        return clock

    def predict(self, idx, v, g, step: int):
        """(probabilities (n, T, V), rows whose argmax is already a verified answer, rows that stalled, loops
        each row ran) for the active rows; a row whose puzzle's time ran out inside the step has what its
        loops so far gave. Counts each row's forward passes and loops."""
        ch, s = self.chains, self.sampler
        clock = self.clock(idx)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=s.autocast):
            if self.warm:
                logits, ch.carried, ran, answered, stalled = s._warm_forward(v, g, idx, ch.cold, ch.carried, self.positions,
                                                                    self.graph, self.warm_loops, clock, self.settle)
            else:
                logits, _, ran, answered, stalled = s._forward(v, g, self.positions, self.graph, self.loops, clock=clock,
                                                      settled=self.settle(idx) if self.settle else None)
        ran = ran.long()
        fresh = ch.fresh[idx]
        ch.counters["first_loops"][idx[fresh]] = ran[fresh]
        ch.counters["loops_run"][idx] += ran
        ch.counters["passes"][idx] += (-(-ran // self.piece)).clamp(min=1) if self.chunked else 1
        probs = logits.float().softmax(-1)
        if torch.isnan(probs).any():
            raise UserError("the model's output is not a number (NaN): its weights are broken or it overflowed")
        return probs, answered, stalled & fresh, ran

    def retract(self, idx, v, g, probs, step: int):
        """1. Committed cells that clash (the less confident side) or whose value's probability fell
        below a threshold decaying to 0 over the step budget go back to masked, for `tabu` steps."""
        cfg, ch = self.cfg, self.chains
        filled = v > 0
        retracted = torch.zeros_like(filled)
        if not cfg.retract:
            return v, retracted
        committed = filled & ~g
        p_cur = probs.gather(-1, (v - 1).clamp(0, probs.shape[-1] - 1)[..., None]).squeeze(-1)
        conf = torch.where(g, torch.full_like(p_cur, 2.0), torch.where(filled, p_cur, torch.zeros_like(p_cur)))
        doubt = cfg.doubt * (1 - step / cfg.max_steps)
        retracted = self.rule.clashing(v, conf, committed) | (committed & (p_cur < doubt))
        ch.tabu[idx] = torch.where(retracted, cfg.tabu, (ch.tabu[idx] - 1).clamp(min=0))
        return torch.where(retracted, 0, v), retracted

    def commit(self, idx, v, probs, answered, step: int):
        """2. Masked cells by margin: all at least `confident` sure, at least the best one, none that the
        rule refuses; a row whose argmax is an answer (verified, or a completion the rule accepts) whole.
        Greedy chains take the argmax; the others add Gumbel noise to the margins and sample values."""
        ch = self.chains
        filled = v > 0
        open_ = ~filled & (ch.tabu[idx] == 0)
        sample_noise = ~ch.greedy[idx]
        top2 = probs.topk(2, dim=-1)
        argmax = top2.indices[..., 0] + 1
        margin = top2.values[..., 0] - top2.values[..., 1]
        choice = argmax
        if self.cfg.chains > 1 or self.cfg.patience:
            uniform = torch.rand(probs.shape[:2], generator=self.gen, device=self.device)
            gumbel = -torch.log(-torch.log(uniform + 1e-9) + 1e-9)
            margin = torch.where(sample_noise, margin + self.temperature * 0.1 * gumbel, margin)
            tempered = (probs.clamp_min(1e-9).log() / self.temperature).softmax(-1)
            sampled = torch.multinomial(tempered.view(-1, tempered.shape[-1]), 1, generator=self.gen)
            choice = torch.where(sample_noise, sampled.view(probs.shape[:2]) + 1, choice)
        whole = self.rule.completes(v, argmax)
        answered = answered | whole
        open_ = open_ | (~filled & whole[:, None])  # cells under tabu too
        score = torch.where(open_, margin, torch.full_like(margin, -1.0))
        want = open_ & ((top2.values[..., 0] >= self.confident) | answered[:, None])
        choice = torch.where(answered[:, None], argmax, choice)
        best = score.argmax(-1)
        want[torch.arange(len(idx), device=self.device), best] |= open_.any(-1)
        commit = self.rule.admissible(want, choice, score, v, best)
        fresh = ch.fresh[idx]
        ch.first[idx[fresh]] = commit[fresh]
        ch.fresh[idx] = False
        return torch.where(commit, choice, v), commit

    def restart(self, idx, v, g, step: int):
        """3. A chain whose grid has not grown for `patience` steps re-masks everything it committed after
        its first step and goes on noisy (and cold)."""
        cfg, ch = self.cfg, self.chains
        wipe = torch.zeros_like(v, dtype=torch.bool)
        if not (cfg.retract and cfg.patience):
            return v, wipe
        n_filled = (v > 0).sum(-1)
        grew = n_filled > ch.best_filled[idx]
        ch.best_filled[idx] = torch.maximum(ch.best_filled[idx], n_filled)
        ch.last_progress[idx] = torch.where(grew, step, ch.last_progress[idx])
        stuck = (step - ch.last_progress[idx] >= cfg.patience) & ~(v > 0).all(-1)
        if not stuck.any():
            return v, wipe
        wipe = stuck[:, None] & (v > 0) & ~g & ~ch.first[idx]
        v = torch.where(wipe, 0, v)
        rows = idx[stuck]
        ch.greedy[rows] = False
        ch.cold[rows] = True
        ch.counters["restarts"][rows] += 1
        ch.best_filled[rows] = (v[stuck] > 0).sum(-1)
        ch.last_progress[rows] = step
        return v, wipe

    def reframe(self, idx, v, stalled, step: int):
        """3b. A chain whose first step in its frame stalled starts again, cold and as it began (greedy or
        not), from the bare puzzle in its next frame, unless it has tried every frame (then it goes on where
        it stands). Returns the grids and the rows moved."""
        ch = self.chains
        F = len(ch.perms)
        moved = stalled & (ch.counters["reframes"][idx] < F - 1)
        if not moved.any():
            return v, moved
        rows = idx[moved]
        ch.frame[rows] = (ch.frame[rows] + 1) % F
        bare = torch.as_tensor(self.puzzles[(rows // self.cfg.chains).cpu().numpy()], dtype=torch.long,
                               device=self.device)
        v = v.clone()
        v[moved] = bare.gather(1, ch.perms[ch.frame[rows]])
        ch.given[rows] = v[moved] > 0
        ch.cold[rows] = ch.fresh[rows] = True
        ch.greedy[rows] = (rows % self.cfg.chains == 0)[:, None]
        ch.tabu[rows] = 0
        ch.best_filled[rows] = ch.given[rows].sum(-1)
        ch.last_progress[rows] = step
        ch.counters["reframes"][rows] += 1
        return v, moved

    def stop(self, idx, v) -> None:
        """4. Full grids that pass the task's checks are verified; a puzzle stops when one chain is."""
        ch, C = self.chains, self.cfg.chains
        full = (v > 0).all(-1)
        if full.any():
            fidx = idx[full]
            grids = ch.original(fidx, v[full]).cpu().numpy()
            ok = ~self.task.conflicts(grids, self.shape).any(-1)
            for n, grid in zip(fidx[torch.as_tensor(ok, device=self.device)].tolist(), grids[ok]):
                if self.task.verify(self.puzzles[n // C], grid, self.shape):
                    ch.verified[n] = True
                    ch.puzzle_done[n // C] = True
            if not self.cfg.retract:
                ch.active[fidx] = False  # nothing can change a full grid without retraction
        ch.active &= ~ch.done_rows()

    def give_up(self, idx, ran) -> None:
        """After a step over rows `idx`: the rest of its time, shared by the loops each row ran, is charged, and
        the puzzles out of time without an answer stop."""
        self.budget.charge(idx.cpu().numpy(), ran.clamp(min=1).cpu().numpy())
        ch = self.chains
        late = self.budget.out & ~ch.puzzle_done & ~self.gave_up
        if late.any():
            self.gave_up |= late
            ch.active &= ~torch.as_tensor(np.repeat(late, self.cfg.chains), device=self.device)

    def answer_state(self) -> State | None:
        """The State of puzzle 0's verified chain when that is not chain 0 (the one the live view followed)."""
        ch = self.chains
        ok = ch.verified[: self.cfg.chains].nonzero().squeeze(1).tolist()
        if not ok or ok[0] == 0:
            return None
        n = ok[0]
        T = ch.values.shape[1]
        row = torch.tensor([n], device=self.device)
        return State(ch.original(row, ch.values[row])[0].cpu().numpy(),
                     ch.original(row, ch.given[row].long())[0].cpu().numpy().astype(bool),
                     np.zeros(T, bool), np.zeros(T, bool),
                     int(ch.counters["steps"][n]), self.loops, chain=n)

    def outcome(self, p: int, on_step: Callable[[State], None] | None = None) -> Outcome:
        """Puzzle p's first verified chain (else chain 0), with the work of all its chains; its seconds are its
        own time (Budget). For puzzle 0, `on_step` first gets the answer's State when another chain than the
        one it followed found it."""
        ch, C = self.chains, self.cfg.chains
        if p == 0 and on_step is not None:
            answer = self.answer_state()
            if answer is not None:
                on_step(answer)
        rows = slice(p * C, (p + 1) * C)
        ok = ch.verified[rows].cpu().numpy()
        n = p * C + (int(np.argmax(ok)) if ok.any() else 0)
        counters = {k: int(t[n]) for k, t in ch.counters.items()}
        seconds = float(self.budget.spent[p])
        return Outcome(
            values=ch.original(torch.tensor([n], device=self.device), ch.values[n:n + 1])[0].cpu().numpy(),
            verified=bool(ok.any()), steps=counters["steps"],
            commits=counters["commits"], retractions=counters["retractions"], seconds=seconds,
            extra={"chains": C, "chain": n - p * C, "restarts": counters["restarts"],
                   "frame": int(ch.frame[n]), "reframes": counters["reframes"],
                   "warm_loops": self.warm_loops if self.warm else 0, "first_step_loops": counters["first_loops"],
                   "timed_out": bool(self.gave_up[p]),
                   "passes": int(ch.counters["passes"][rows].sum()),
                   "loops_run": int(ch.counters["loops_run"][rows].sum())},
        )
