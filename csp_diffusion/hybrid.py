"""The never-wrong hybrid: a complete search whose order comes from a neural model.

The task's `guided_search` (Sudoku: constraint propagation by the most-constrained cell, then
depth-first search) asks for the model's probabilities at the root and, with `queries` > 1, at the
first branch nodes after it, each from the grid the search stands on; the questions of every puzzle
in a call go to the model together, in batches. It tries each cell's digits most probable first and
breaks ties between equally constrained cells by the model's confidence. The search is complete, so
every solvable puzzle is solved, and "no solution" and "more than one solution" (with `unique`) are
said exactly as the oracles say them. Every answer is checked by the task's verifier as well. Each
result counts the search `nodes` (digits tried at cells with more than one candidate, until the first
solution), the wrong tries among them (`backtracks`: 0 means the model's order led straight to the
answer) and the model `queries`; `csp bench` sets the nodes against the same search without the model,
outside the timed solve.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles.result import Result

QUERIES = 1  # model queries per puzzle: the root only; more (at the first branch nodes) did not pay
# on the forum-hardest (docs/results.md, "The never-wrong hybrid"; scripts/hybrid_queries.py)


class HybridSolver:
    name = "hybrid"

    def __init__(self, task: str, checkpoint: Path | None = None, device: str | None = None, kind: str = "loopmdm",
                 batch_size: int = 256, queries: int = QUERIES, loops: int = 0):
        self.net = NeuralSolver(kind, task, checkpoint, device, SamplerConfig(chains=1))
        self.task, self.model, self.device = self.net.task, self.net.model, self.net.device
        self.config = self.net.config
        self.batch_size, self.queries = batch_size, queries
        self.loops = loops or self.model.max_loops  # of each model pass
        st = self.task.structure()
        self.positions = torch.as_tensor(st.positions, device=self.device)
        self.graph = torch.as_tensor(st.graph, device=self.device)

    @property
    def params(self) -> int:
        return self.net.params

    @property
    def train_flops(self) -> float | None:
        return self.net.train_flops

    def describe(self, shape) -> str:
        return (f"hybrid: {self.net.kind}'s probabilities ({self.params / 1e6:.2f}M parameters, one pass at "
                f"{self.loops} loops) order a complete search; every answer verified")

    @torch.no_grad()
    def probabilities(self, puzzles: np.ndarray, givens: np.ndarray | None = None) -> np.ndarray:
        """float (n, cells, n_values): the model's belief in each value of each cell, from `puzzles` (grids
        whose non-zero cells are givens, or, with `givens`, whose givens are that puzzle's non-zero cells)."""
        out = []
        for start in range(0, len(puzzles), self.batch_size):
            values = torch.as_tensor(puzzles[start:start + self.batch_size], dtype=torch.long, device=self.device)
            given = values > 0 if givens is None else torch.as_tensor(givens[start:start + self.batch_size] > 0,
                                                                      device=self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.net.autocast):
                logits = self.model(values, given, self.positions, self.graph, self.loops)
            out.append(logits.float().softmax(-1).cpu().numpy())
        return np.concatenate(out)

    def solve_screened(self, puzzles: list, unique: bool = False, reasons: list | None = None,
                       on_step=None) -> Iterator[Result]:
        """One Result per puzzle, in input order (`reasons`: a caller's screening, as NeuralSolver takes it).
        Every puzzle's search runs at once: the grids they ask about go to the model together, in batches."""
        grids = np.stack([self.task.encode(p)[0] for p in puzzles]).astype(np.int64)
        searches, seconds, queries, outcome = {}, np.zeros(len(grids)), np.zeros(len(grids), np.int64), {}
        asking: dict[int, np.ndarray] = {}

        def advance(k: int, probabilities):
            t = time.perf_counter()
            try:
                asking[k] = searches[k].send(probabilities)
            except StopIteration as done:
                outcome[k] = done.value
            seconds[k] += time.perf_counter() - t

        for k, puzzle in enumerate(grids):
            if reasons is None or reasons[k] is None:
                searches[k] = self.task.guided_search(puzzle, unique, self.queries)
                advance(k, None)
        nxt = 0
        while asking or nxt < len(grids):
            ks = list(asking)[:self.batch_size]
            if ks:
                t = time.perf_counter()
                probs = self.probabilities(np.stack([asking.pop(k) for k in ks]).astype(np.int64))
                seconds[ks] += (time.perf_counter() - t) / len(ks)
                queries[ks] += 1
                for k, p in zip(ks, probs):
                    advance(k, p)
            while nxt < len(grids) and (nxt in outcome or nxt not in searches):  # in input order, when known
                yield self._result(puzzles[nxt], grids[nxt], outcome.pop(nxt, None), seconds[nxt], int(queries[nxt]),
                                   None if reasons is None else reasons[nxt])
                nxt += 1

    def _result(self, original, puzzle: np.ndarray, outcome, seconds: float, queries: int, reason) -> Result:
        text = self.task.to_text(original)
        if outcome is None:
            return Result(self.task.name, self.name, text, None, False, 0.0, reason)
        solution, why, nodes, wrong = outcome
        extra = {"nodes": int(nodes), "backtracks": int(wrong), "queries": queries}
        if solution is None:
            return Result(self.task.name, self.name, text, None, False, seconds, why, extra)
        ok = self.task.verify(puzzle, solution)
        return Result(self.task.name, self.name, text, self.task.text(solution) if ok else None, ok, seconds,
                      None if ok else "the search returned a grid the verifier refuses", extra)
