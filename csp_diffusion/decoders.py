"""Inference for the baselines, with the sampler's interface and result fields.

- AR: greedy, one unknown cell per step in row-major order, never revisited. `legal`
  masks the values the task's clash rule forbids there (all-different: a peer's value),
  which is as much constraint knowledge as it may use; it still cannot take a cell back.
- AR-solver: greedy, one (cell, value) step at a time, the model choosing the cell among the
  unfilled ones (`legal` masks peers' values as for AR) or stopping; never revisited. Cells it
  never writes take the task's `unwritten` value.
- HRM and TRM: segment after segment from the initial state; after each, the predicted grid is
  checked and a verified one stops the puzzle; with ACT, the halting head may stop it
  earlier. `max_steps` caps the segments.
Both verify every grid with the task's verifier, as the sampler does; `models.decoder()`
picks the decoding for a model kind (LoopMDM's is the retracting sampler).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from csp_diffusion.constraints import rule_for
from csp_diffusion.sampler import Deadline, Outcome, SamplerConfig, State


class _Decoder:
    def __init__(self, model, task, config: SamplerConfig, device: torch.device, autocast: bool = False):
        self.model, self.task, self.config, self.device, self.autocast = model, task, config, device, autocast

    def amp(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast)

    def solve_iter(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None):
        """(index, Outcome) per puzzle; these decoders step every puzzle together, so all come at the end."""
        yield from enumerate(self.solve(puzzles, on_step=on_step, shape=shape))

    def _inputs(self, puzzles: np.ndarray, shape):
        """(structure, its shape, positions tensor, puzzles as a long tensor) for one batch."""
        structure = self.task.structure(shape)
        positions = torch.as_tensor(structure.positions, device=self.device)
        return structure, structure.shape, positions, torch.as_tensor(puzzles, dtype=torch.long, device=self.device)

    def _outcomes(self, puzzles, values, verified, steps, commits, passes, t0, timed_out: bool,
                  finished: np.ndarray | None = None) -> list[Outcome]:
        """`passes`: forward passes each puzzle took part in (each one loop); `finished`: seconds from t0 to
        each puzzle's end (nan or None: the call's end)."""
        end = time.perf_counter() - t0
        done = np.full(len(puzzles), np.nan) if finished is None else finished
        return [Outcome(values=values[k], verified=bool(verified[k]), steps=int(steps[k]), commits=int(commits[k]),
                        retractions=0, seconds=end if np.isnan(done[k]) else float(done[k]),
                        extra={"chains": 1, "chain": 0, "restarts": 0, "timed_out": timed_out and not verified[k],
                               "passes": int(passes[k]), "loops_run": int(passes[k])})
                for k in range(len(puzzles))]


class ARDecoder(_Decoder):
    @torch.no_grad()
    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        t0 = time.perf_counter()
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        P, T = puzzle.shape
        answer = torch.zeros_like(puzzle)
        rule = rule_for(self.task, torch.as_tensor(structure.graph, device=self.device)) if self.config.legal else None
        deadline = Deadline(self.config.time_limit, P)
        calls = 0
        for t in range(T):
            given = puzzle[:, t] > 0
            if given.all():
                answer[:, t] = puzzle[:, t]
                continue
            if not deadline.allows(P):
                break
            with self.amp():
                logits = self.model(puzzle, answer, positions)[:, t].float()
            calls += 1
            taken = None if rule is None else rule.taken(torch.where(puzzle > 0, puzzle, answer), t, logits.shape[-1])
            if taken is not None:
                logits = logits.masked_fill(taken & ~taken.all(-1, keepdim=True), float("-inf"))
            answer[:, t] = torch.where(given, puzzle[:, t], logits.argmax(-1) + 1)
            if on_step is not None:
                now = np.zeros(T, bool)
                now[t] = True
                on_step(State(answer[0].cpu().numpy(), (puzzle[0] > 0).cpu().numpy(), now, np.zeros(T, bool), t + 1, 1))
        values = answer.cpu().numpy()
        verified = [self.task.verify(puzzles[k], values[k], shape) for k in range(P)]
        unknown = (puzzle == 0).sum(-1).cpu().numpy()
        return self._outcomes(puzzles, values, verified, unknown, unknown, np.full(P, calls), t0, deadline.hit)


class ARSolverDecoder(_Decoder):
    @torch.no_grad()
    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        t0 = time.perf_counter()
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        P, T = puzzle.shape
        V = self.task.n_values
        grid = puzzle.clone()
        rule = rule_for(self.task, torch.as_tensor(structure.graph, device=self.device)) if self.config.legal else None
        cells = torch.zeros(P, 0, dtype=torch.long, device=self.device)
        values = torch.zeros_like(cells)
        done = (grid > 0).all(1)
        steps, passes, flops = np.zeros(P, int), np.zeros(P, int), np.zeros(P)
        finished = np.full(P, np.nan)
        deadline = Deadline(self.config.time_limit, P)
        for t in range(int((puzzle == 0).sum(1).max())):
            act = torch.nonzero(~done).flatten()
            if len(act) == 0 or not deadline.allows(len(act)):
                break
            with self.amp():
                logits = self.model(puzzle[act], cells[act], values[act], positions, last=True)[:, -1].float()
            g = grid[act]
            scores = logits[:, :T * V].view(len(act), T, V).masked_fill((g > 0)[..., None], float("-inf"))
            taken = None if rule is None else rule.taken_all(g, V)
            if taken is not None:
                scores = scores.masked_fill(taken & ~taken.all(-1, keepdim=True), float("-inf"))
            stop = logits[:, -1:] if self.task.unwritten else torch.full_like(logits[:, -1:], float("-inf"))
            pick = torch.cat([scores.flatten(1), stop], dim=1).argmax(-1)
            write = pick < T * V
            cell, value = (pick // V).clamp(max=T - 1), pick % V + 1
            rows = act[write]
            grid[rows, cell[write]] = value[write]
            new_cells = torch.full((P, 1), -1, dtype=torch.long, device=self.device)
            new_values = torch.zeros_like(new_cells)
            new_cells[rows, 0], new_values[rows, 0] = cell[write], value[write]
            cells, values = torch.cat([cells, new_cells], 1), torch.cat([values, new_values], 1)
            a = act.cpu().numpy()
            passes[a] += 1
            flops[a] += self.model.flops(0, T, steps=t + 1, last=True)  # each pass is longer by one slot
            steps[rows.cpu().numpy()] += 1
            done[act] = ~write | (grid[act] > 0).all(1)
            finished[a[done[act].cpu().numpy()]] = time.perf_counter() - t0
            if on_step is not None and 0 in a:
                now = np.zeros(T, bool)
                if bool(write[0]) and a[0] == 0:
                    now[int(cell[0])] = True
                on_step(State(grid[0].cpu().numpy(), (puzzle[0] > 0).cpu().numpy(), now, np.zeros(T, bool), t + 1, 1))
        out = torch.where(grid == 0, torch.full_like(grid, self.task.unwritten), grid).cpu().numpy()
        verified = [self.task.verify(puzzles[k], out[k], shape) for k in range(P)]
        outcomes = self._outcomes(puzzles, out, verified, steps, steps, passes, t0, deadline.hit, finished)
        for o, f in zip(outcomes, flops):
            o.extra["flops"] = float(f)
        return outcomes


class RecurrentDecoder(_Decoder):
    @torch.no_grad()
    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        t0 = time.perf_counter()
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        graph = torch.as_tensor(structure.graph, device=self.device)
        P, T = puzzle.shape
        z_h, z_l = self.model.initial(P, T)
        values = puzzle.cpu().numpy().copy()
        verified = np.zeros(P, bool)
        halted = np.zeros(P, bool)
        steps = np.zeros(P, int)
        finished = np.full(P, np.nan)
        act = self.model.config.act
        deadline = Deadline(self.config.time_limit, P)
        for segment in range(self.config.max_steps):
            idx = np.flatnonzero(~verified & ~halted)
            if len(idx) == 0 or not deadline.allows(len(idx)):
                break
            sel = torch.as_tensor(idx, device=self.device)
            with self.amp():
                (h, l_), logits, q = self.model(puzzle[sel], (z_h[sel], z_l[sel]), positions, graph)
            z_h[sel], z_l[sel] = h.to(z_h.dtype), l_.to(z_l.dtype)
            pred = (logits.float().argmax(-1) + 1).cpu().numpy()
            steps[idx] += 1
            for j, k in enumerate(idx):
                values[k] = pred[j]
                verified[k] = self.task.verify(puzzles[k], pred[j], shape)
            if act:
                halted[idx] = (q[:, 0] > q[:, 1]).cpu().numpy()
            finished[idx[verified[idx] | halted[idx]]] = time.perf_counter() - t0
            if on_step is not None and 0 in idx:
                on_step(State(values[0], puzzles[0] > 0, np.zeros(T, bool), np.zeros(T, bool), segment + 1, 1))
        unknown = (puzzles == 0).sum(-1)
        return self._outcomes(puzzles, values, verified, steps, unknown, steps, t0, deadline.hit, finished)
