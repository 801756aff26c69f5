"""Inference for the baselines, with the sampler's interface and result fields.

- AR: greedy, one unknown cell per step in row-major order, never revisited. `legal`
  masks values a peer already holds (all-different tasks), which is as much constraint
  knowledge as it may use; it still cannot take a cell back.
- HRM: segment after segment from the initial state; after each, the predicted grid is
  checked and a verified one stops the puzzle; with ACT, the halting head may stop it
  earlier. `max_steps` caps the segments.
Both verify every grid with the task's verifier, as the sampler does; `decoder()` picks
the decoding for a model kind (LoopMDM's is the retracting sampler).
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch

from csp_diffusion.sampler import Deadline, Outcome, Sampler, SamplerConfig, State


class _Decoder:
    def __init__(self, model, task, config: SamplerConfig, device: torch.device, autocast: bool = False):
        self.model, self.task, self.config, self.device, self.autocast = model, task, config, device, autocast

    def amp(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast)

    def _inputs(self, puzzles: np.ndarray, shape):
        """(structure, its shape, positions tensor, puzzles as a long tensor) for one batch."""
        structure = self.task.structure(shape)
        positions = torch.as_tensor(structure.positions, device=self.device)
        return structure, structure.shape, positions, torch.as_tensor(puzzles, dtype=torch.long, device=self.device)

    def _outcomes(self, puzzles, values, verified, steps, commits, t0, timed_out: bool) -> list[Outcome]:
        seconds = (time.perf_counter() - t0) / max(len(puzzles), 1)
        return [Outcome(values=values[k], verified=bool(verified[k]), steps=int(steps[k]), commits=int(commits[k]),
                        retractions=0, seconds=seconds,
                        extra={"chains": 1, "chain": 0, "restarts": 0, "timed_out": timed_out and not verified[k]})
                for k in range(len(puzzles))]


class ARDecoder(_Decoder):
    @torch.no_grad()
    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        t0 = time.perf_counter()
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        P, T = puzzle.shape
        answer = torch.zeros_like(puzzle)
        peers = None
        if self.config.legal and self.task.constraint == "all-different":
            peers = torch.as_tensor(structure.adjacency, device=self.device)
        deadline = Deadline(self.config.time_limit, P)
        for t in range(T):
            given = puzzle[:, t] > 0
            if given.all():
                answer[:, t] = puzzle[:, t]
                continue
            if not deadline.allows(P):
                break
            with self.amp():
                logits = self.model(puzzle, answer, positions)[:, t].float()
            if peers is not None:
                taken = torch.zeros_like(logits, dtype=torch.bool)
                held = torch.where(puzzle > 0, puzzle, answer) * peers[t]  # values of cell t's peers
                taken.scatter_(1, (held - 1).clamp(min=0), held > 0)
                logits = logits.masked_fill(taken & ~taken.all(-1, keepdim=True), float("-inf"))
            answer[:, t] = torch.where(given, puzzle[:, t], logits.argmax(-1) + 1)
            if on_step is not None:
                now = np.zeros(T, bool)
                now[t] = True
                on_step(State(answer[0].cpu().numpy(), (puzzle[0] > 0).cpu().numpy(), now, np.zeros(T, bool), t + 1, 1))
        values = answer.cpu().numpy()
        verified = [self.task.verify(puzzles[k], values[k], shape) for k in range(P)]
        unknown = (puzzle == 0).sum(-1).cpu().numpy()
        return self._outcomes(puzzles, values, verified, unknown, unknown, t0, deadline.hit)


class HRMDecoder(_Decoder):
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
            if on_step is not None and 0 in idx:
                on_step(State(values[0], puzzles[0] > 0, np.zeros(T, bool), np.zeros(T, bool), segment + 1, 1))
        unknown = (puzzles == 0).sum(-1)
        return self._outcomes(puzzles, values, verified, steps, unknown, t0, deadline.hit)


def decoder(kind: str, model, task, config: SamplerConfig, device: torch.device, autocast: bool = False):
    """The inference procedure for a model kind, with `solve(puzzles, on_step=None, shape=None)`."""
    if kind == "ar":
        return ARDecoder(model, task, config, device, autocast)
    if kind == "hrm":
        return HRMDecoder(model, task, config, device, autocast)
    return Sampler(model, task, config, device, autocast)
