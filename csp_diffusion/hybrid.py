"""The never-wrong hybrid: a complete search whose order comes from a neural model.

The task's `guided_search` (Sudoku: constraint propagation by the most-constrained cell, then
depth-first search) asks for the model's probabilities at the root and, with `queries` > 1, at the
first branch nodes after it, each from the grid the search stands on; the questions of every puzzle
in a call go to the model together, in batches. It tries each cell's digits most probable first and
breaks ties between equally constrained cells by the model's confidence. Each question first gets
`peek` loops of the model's core, and its full count (from the state the peek reached) only where
that short pass is already sure enough (`sureness` at least PEEK_SURE): where the model is still
near chance after the peek, more loops do not make its order better (on the forum-hardest class,
the share of puzzles searched in fewer nodes than without the model is the same at 4 loops as at
16), and where it is getting somewhere (17-clue puzzles) they make most searches backtrack-free. The
searches of a batch run in threads, on as many cores as torch uses. The search is complete, so
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
# on the forum-hardest (docs/results/sudoku.md, "The never-wrong hybrid"; experiments/hybrid_queries/run.py)
PEEK_LOOPS, PEEK_SURE = 4, 0.55  # chosen on puzzles 1000-1299 of the forum-hardest and 17-clue files, which
# the reported figures do not use (experiments/hybrid_peek/run.py; docs/results/sudoku.md, "The never-wrong hybrid")


def sureness(probs: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """(n,) the model's mean top probability over each grid's open cells (values 0), from probs (n, T, V)."""
    blank = values == 0
    return (probs.amax(-1) * blank).sum(-1) / blank.sum(-1).clamp(min=1)


class HybridSolver:
    name = "hybrid"

    def __init__(self, task: str, checkpoint: Path | None = None, device: str | None = None, kind: str = "loopmdm",
                 batch_size: int = 256, queries: int = QUERIES, loops: int = 0, peek: int = PEEK_LOOPS):
        """`loops`: the model's full count a pass (0: its K_max); `peek`: the loops every question gets first
        (0: none, every question gets the full count)."""
        self.net = NeuralSolver(kind, task, checkpoint, device, SamplerConfig(chains=1))
        self.task, self.model, self.device = self.net.task, self.net.model, self.net.device
        self.config = self.net.config
        self.batch_size, self.queries = batch_size, queries
        self.loops = loops or self.model.max_loops  # of each model pass
        self.peek = peek if self.model.carries_state and 0 < peek < self.loops else 0
        st = self.task.structure()
        self.shape = st.shape
        self.positions = torch.as_tensor(st.positions, device=self.device)
        self.graph = torch.as_tensor(st.graph, device=self.device)

    @property
    def params(self) -> int:
        return self.net.params

    @property
    def train_flops(self) -> float | None:
        return self.net.train_flops

    def describe(self, shape) -> str:
        at = f"{self.loops} loops" if not self.peek else f"{self.peek} loops, on to {self.loops} where those leave it sure"
        return (f"hybrid: {self.net.kind}'s probabilities ({self.params / 1e6:.2f}M parameters, a pass of "
                f"{at}) order a complete search; every answer verified")

    @torch.no_grad()
    def probabilities(self, puzzles: np.ndarray, givens: np.ndarray | None = None, peek: bool = False):
        """float (n, cells, n_values): the model's belief in each value of each cell after its full count of
        loops, from `puzzles` (grids whose non-zero cells are givens, or, with `givens`, whose givens are that
        puzzle's non-zero cells). With `peek`, as the search asks: (that belief, loops run, passes run), a grid
        getting the full count only where the peek left the model sure enough."""
        out, ran, passes = [], [], []
        for start in range(0, len(puzzles), self.batch_size):
            values = torch.as_tensor(puzzles[start:start + self.batch_size], dtype=torch.long, device=self.device)
            given = values > 0 if givens is None else torch.as_tensor(givens[start:start + self.batch_size] > 0,
                                                                      device=self.device)
            first = self.peek if peek else 0
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.net.autocast):
                probs, went = self._pass(values, given, first)
            out.append(probs.cpu().numpy())
            went = went.cpu().numpy()
            ran.append(np.where(went, self.loops, first or self.loops))
            passes.append(1 + went)  # a grid that went on ran the prelude and coda again
        probs = np.concatenate(out)
        return (probs, np.concatenate(ran), np.concatenate(passes)) if peek else probs

    def _pass(self, values: torch.Tensor, given: torch.Tensor, peek: int):
        """(probabilities, which grids went on) of one batch: with `peek`, that many loops first, then the rest of
        the full count, from the state the peek reached (the same as one straight pass), for the grids it left
        sure enough; else one pass of the full count (and none went on)."""
        if not peek:
            probs = self.model(values, given, self.positions, self.graph, self.loops).float().softmax(-1)
            return probs, torch.zeros(len(values), dtype=torch.bool, device=values.device)
        logits, state = self.model(values, given, self.positions, self.graph, peek, return_state=True)
        probs = logits.float().softmax(-1)
        went = (values == 0).any(-1) & (sureness(probs, values) >= PEEK_SURE)
        go = went.nonzero().squeeze(1)
        if len(go):
            more = self.model(values[go], given[go], self.positions, self.graph, self.loops - peek, state=state[go])
            probs[go] = more.float().softmax(-1)
        return probs, went

    def solve_screened(self, puzzles: list, unique: bool = False, reasons: list | None = None,
                       on_step=None) -> Iterator[Result]:
        """One Result per puzzle, in input order (`reasons`: a caller's screening, as NeuralSolver takes it).
        Every puzzle's search runs at once: the grids they ask about go to the model together, in batches."""
        grids = np.stack([self.task.encode(p)[0] for p in puzzles]).astype(np.int64)
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
        with ThreadPoolExecutor(torch.get_num_threads()) as pool:
            advance(list(searches), [None] * len(searches))
            nxt = 0
            while asking or nxt < len(grids):
                ks = list(asking)[:self.batch_size]
                if ks:
                    t = time.perf_counter()
                    probs, ran, two = self.probabilities(np.stack([asking.pop(k) for k in ks]).astype(np.int64), peek=True)
                    seconds[ks] += (time.perf_counter() - t) * ran / ran.sum()  # each grid's share, by its loops
                    queries[ks] += 1
                    loops[ks] += ran
                    passes[ks] += two
                    advance(ks, probs)
                while nxt < len(grids) and (nxt in outcome or nxt not in searches):  # in input order, when known
                    flops = self.net.flops(self.shape, passes[nxt], loops[nxt])
                    yield self._result(puzzles[nxt], grids[nxt], outcome.pop(nxt, None), seconds[nxt], int(queries[nxt]),
                                       int(loops[nxt]), flops, None if reasons is None else reasons[nxt])
                    nxt += 1

    def _result(self, original, puzzle: np.ndarray, outcome, seconds: float, queries: int, loops: int,
                flops: float, reason) -> Result:
        text = self.task.to_text(original)
        if outcome is None:
            return Result(self.task.name, self.name, text, None, False, 0.0, reason)
        solution, why, nodes, wrong = outcome
        extra = {"nodes": int(nodes), "backtracks": int(wrong), "queries": queries, "loops_run": int(loops),
                 "flops": float(flops)}
        if solution is None:
            return Result(self.task.name, self.name, text, None, False, seconds, why, extra)
        ok = self.task.verify(puzzle, solution)
        return Result(self.task.name, self.name, text, self.task.text(solution) if ok else None, ok, seconds,
                      None if ok else "the search returned a grid the verifier refuses", extra)
