"""The never-wrong hybrid: a complete search whose order comes from a neural model.

The task's `guided_search` (Sudoku: constraint propagation by the most-constrained cell, then
depth-first search) asks for the model's probabilities at the root and, with `queries` > 1, at the
first branch nodes after it, each from the grid the search stands on; the questions of every puzzle
in a call go to the model together, in batches. It tries each cell's digits most probable first and
breaks ties between equally constrained cells by the model's confidence. Each question first gets
PEEK_LOOPS loops of the model's core, and its full count only where that short pass is already
sure enough (a mean top probability over the open cells of at least PEEK_SURE): where the model is
still near chance after the peek, more loops do not make its order better (on the forum-hardest
class, the share of puzzles searched in fewer nodes than without the model is the same at 4 loops
as at 16), and where it is getting somewhere (17-clue puzzles) they make most searches backtrack-free. The search is complete, so
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles.result import Result

QUERIES = 1  # model queries per puzzle: the root only; more (at the first branch nodes) did not pay
# on the forum-hardest (docs/results.md, "The never-wrong hybrid"; scripts/hybrid_queries.py)
PEEK_LOOPS, PEEK_SURE = 4, 0.55  # chosen on puzzles 1000-1299 of the forum-hardest and 17-clue files, which
# the reported figures do not use (scripts/hybrid_peek.py; docs/results.md, "The never-wrong hybrid")


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
        at = f"{self.loops} loops"
        if self.model.carries_state and self.loops > PEEK_LOOPS:
            at = f"{PEEK_LOOPS} loops, {self.loops} where those leave it sure"
        return (f"hybrid: {self.net.kind}'s probabilities ({self.params / 1e6:.2f}M parameters, one pass at "
                f"{at}) order a complete search; every answer verified")

    @torch.no_grad()
    def probabilities(self, puzzles: np.ndarray, givens: np.ndarray | None = None, peek: bool = False):
        """float (n, cells, n_values): the model's belief in each value of each cell after its full count of
        loops, from `puzzles` (grids whose non-zero cells are givens, or, with `givens`, whose givens are that
        puzzle's non-zero cells). With `peek`, (that belief, loops run per grid): a grid gets its full count
        only where PEEK_LOOPS loops left the model sure enough (the search's questions)."""
        out, ran = [], []
        for start in range(0, len(puzzles), self.batch_size):
            values = torch.as_tensor(puzzles[start:start + self.batch_size], dtype=torch.long, device=self.device)
            given = values > 0 if givens is None else torch.as_tensor(givens[start:start + self.batch_size] > 0,
                                                                      device=self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.net.autocast):
                probs, loops = self._pass(values, given, peek)
            out.append(probs.cpu().numpy())
            ran.append(loops.cpu().numpy())
        probs = np.concatenate(out)
        return (probs, np.concatenate(ran)) if peek else probs

    def _pass(self, values: torch.Tensor, given: torch.Tensor, peek: bool):
        """(probabilities, loops run per grid) of one batch: PEEK_LOOPS loops first with `peek` (a model whose
        core carries its state), then the rest of the full count for the grids that peek left sure enough,
        from the state it reached (the same as running them straight through)."""
        full = self.loops
        if not (peek and self.model.carries_state and full > PEEK_LOOPS):
            probs = self.model(values, given, self.positions, self.graph, full).float().softmax(-1)
            return probs, torch.full((len(values),), full, device=values.device)
        logits, state = self.model(values, given, self.positions, self.graph, PEEK_LOOPS, return_state=True)
        probs = logits.float().softmax(-1)
        blank = values == 0
        sure = (probs.amax(-1) * blank).sum(-1) / blank.sum(-1).clamp(min=1)
        go = (blank.any(-1) & (sure >= PEEK_SURE)).nonzero().squeeze(1)
        loops = torch.full((len(values),), PEEK_LOOPS, device=values.device)
        if len(go):
            more = self.model(values[go], given[go], self.positions, self.graph, full - PEEK_LOOPS, state=state[go])
            probs[go] = more.float().softmax(-1)
            loops[go] = full
        return probs, loops

    def solve_screened(self, puzzles: list, unique: bool = False, reasons: list | None = None,
                       on_step=None) -> Iterator[Result]:
        """One Result per puzzle, in input order (`reasons`: a caller's screening, as NeuralSolver takes it).
        Every puzzle's search runs at once: the grids they ask about go to the model together, in batches."""
        grids = np.stack([self.task.encode(p)[0] for p in puzzles]).astype(np.int64)
        shape = self.task.structure().shape
        searches, seconds, outcome = {}, np.zeros(len(grids)), {}
        queries, passes, loops = (np.zeros(len(grids), np.int64) for _ in range(3))
        asking: dict[int, np.ndarray] = {}

        def step(k: int, probabilities):
            """Puzzle k's search to its next question or its end: (k, the grid it asks about, its outcome,
            seconds). The searches of a batch run in threads: the compiled search lets go of the GIL."""
            t = time.perf_counter()
            try:
                return k, searches[k].send(probabilities), None, time.perf_counter() - t
            except StopIteration as done:
                return k, None, done.value, time.perf_counter() - t

        def advance(ks, probabilities):
            for k, grid, value, spent in pool.map(step, ks, probabilities):
                seconds[k] += spent
                if grid is None:
                    outcome[k] = value
                else:
                    asking[k] = grid

        for k, puzzle in enumerate(grids):
            if reasons is None or reasons[k] is None:
                searches[k] = self.task.guided_search(puzzle, unique, self.queries)
        with ThreadPoolExecutor(max(1, torch.get_num_threads())) as pool:
            advance(list(searches), [None] * len(searches))
            nxt = 0
            while asking or nxt < len(grids):
                ks = list(asking)[:self.batch_size]
                if ks:
                    t = time.perf_counter()
                    probs, ran = self.probabilities(np.stack([asking.pop(k) for k in ks]).astype(np.int64), peek=True)
                    seconds[ks] += (time.perf_counter() - t) / len(ks)
                    queries[ks] += 1
                    loops[ks] += ran
                    passes[ks] += 1 + (ran > PEEK_LOOPS)  # a grid that went on ran the prelude and coda again
                    advance(ks, probs)
                while nxt < len(grids) and (nxt in outcome or nxt not in searches):  # in input order, when known
                    flops = self.net.flops(shape, passes[nxt], loops[nxt])
                    yield self._result(puzzles[nxt], grids[nxt], outcome.pop(nxt, None), seconds[nxt], int(queries[nxt]),
                                       flops, None if reasons is None else reasons[nxt])
                    nxt += 1

    def _result(self, original, puzzle: np.ndarray, outcome, seconds: float, queries: int, flops: float,
                reason) -> Result:
        text = self.task.to_text(original)
        if outcome is None:
            return Result(self.task.name, self.name, text, None, False, 0.0, reason)
        solution, why, nodes, wrong = outcome
        extra = {"nodes": int(nodes), "backtracks": int(wrong), "queries": queries, "flops": float(flops)}
        if solution is None:
            return Result(self.task.name, self.name, text, None, False, seconds, why, extra)
        ok = self.task.verify(puzzle, solution)
        return Result(self.task.name, self.name, text, self.task.text(solution) if ok else None, ok, seconds,
                      None if ok else "the search returned a grid the verifier refuses", extra)
