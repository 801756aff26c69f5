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

The model runs in NumPy (numpy_loopmdm.py) unless a device is named: the hybrid asks one question per
puzzle, and without torch to import `csp solve sudoku PUZZLE --solver hybrid` starts as fast as the
exact solvers (docs/results/sudoku.md, "Cold commands"). With `device` (or a model NumPy does not run) it is
the torch network, in bf16 where the CPU has it natively.

A task whose structure differs per puzzle (Kakuro: `puzzles.domains.per_puzzle`) sends each question with its
own grid's structure (per-cell run features, a neighbour table with its slot biases), in NumPy too, and only
grids of one shape go to the model together. Its puzzles may differ in size, so every grid keeps its own shape.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from puzzles.domains import per_puzzle
from puzzles.result import Result

QUERIES = 1  # model queries per puzzle: the root only; more (at the first branch nodes) did not pay
# on the forum-hardest (docs/results/sudoku.md, "The never-wrong hybrid"; experiments/hybrid_queries/run.py)
PEEK_LOOPS, PEEK_SURE = 4, 0.55  # chosen on puzzles 1000-1299 of the forum-hardest and 17-clue files, which
# the reported figures do not use (experiments/hybrid_peek/run.py; docs/results/sudoku.md, "The never-wrong hybrid")


def sureness(probs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(n,) the model's mean top probability over each grid's open cells (values 0), from probs (n, T, V)."""
    blank = values == 0
    return (probs.max(-1) * blank).sum(-1) / np.maximum(blank.sum(-1), 1)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class _NumpyNet:
    """A LoopMDM checkpoint's network in NumPy, on the CPU (numpy_loopmdm.py)."""

    autocast = False

    def __init__(self, model, meta: dict, task: str):
        from csp_diffusion.runtime import keep_freed_memory
        from puzzles.domains import get_task

        keep_freed_memory()
        self.model, self.meta, self.kind = model, meta, meta["kind"]
        self.task = get_task(task, meta["info"].get("train_config", {}).get("grid"))
        self.params, self.train_flops = model.num_params(), meta["info"].get("train_flops")
        self.per_puzzle = per_puzzle(self.task)
        self._pass_costs: dict = {}

    @property
    def threads(self) -> int:
        from csp_diffusion.numpy_loopmdm import cores

        return cores()

    def flops(self, shape, passes: int, loops: int) -> float:
        """As NeuralSolver.flops: a pass's fixed part plus its loops', per grid shape."""
        if shape not in self._pass_costs:
            from csp_diffusion.runtime import pass_costs

            self._pass_costs[shape] = pass_costs(self.task, self.model, shape)
        fixed, per_loop = self._pass_costs[shape]
        return passes * fixed + loops * per_loop

    def run(self, values: np.ndarray, given: np.ndarray, loops: int, state=None, shape=None):
        """(probabilities float32 (n, T, V), the core's final state) after `loops` loops from `state`; a task
        whose structure differs per puzzle reads each grid's own, of `shape`."""
        positions = graph = None
        if self.per_puzzle:
            st = self.task.structure(shape, np.asarray(values))
            positions, graph = st.positions, st.neighbours
        logits, state = self.model(values, given, loops, state, positions, graph)
        return _softmax(logits), state


class _TorchNet:
    """The torch network (NeuralSolver's loading) on `device`, in bf16 where it is native."""

    def __init__(self, kind: str, task: str, checkpoint: Path | None, device: str | None):
        import torch

        from csp_diffusion.sampler import SamplerConfig
        from csp_diffusion.solver import NeuralSolver

        self.solver = NeuralSolver(kind, task, checkpoint, device, SamplerConfig(chains=1))
        self.task, self.model, self.kind = self.solver.task, self.solver.model, self.solver.kind
        self.device, self.autocast = self.solver.device, self.solver.autocast
        self.params, self.train_flops = self.solver.params, self.solver.train_flops
        self.per_puzzle = per_puzzle(self.task)
        if not self.per_puzzle:
            st = self.task.structure()
            self.positions = torch.as_tensor(st.positions, device=self.device)
            self.graph = torch.as_tensor(st.graph, device=self.device)

    @property
    def threads(self) -> int:
        import torch

        return torch.get_num_threads()

    def flops(self, shape, passes: int, loops: int) -> float:
        return self.solver.flops(shape, passes, loops)

    def run(self, values: np.ndarray, given: np.ndarray, loops: int, state=None, shape=None):
        """As _NumpyNet.run; a task whose structure differs per puzzle reads each grid's own, of `shape`."""
        import torch

        positions, graph = getattr(self, "positions", None), getattr(self, "graph", None)
        if self.per_puzzle:
            st = self.task.structure(shape, np.asarray(values))
            positions = torch.as_tensor(st.positions, device=self.device)
            graph = torch.as_tensor(st.graph, device=self.device)
        with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            v = torch.as_tensor(values, dtype=torch.long, device=self.device)
            g = torch.as_tensor(given, dtype=torch.bool, device=self.device)
            logits, state = self.model(v, g, positions, graph, loops, return_state=True, state=state)
            return logits.float().softmax(-1).cpu().numpy(), state


class HybridSolver:
    name = "hybrid"

    def __init__(self, task: str, checkpoint: Path | None = None, device: str | None = None, kind: str = "loopmdm",
                 batch_size: int = 256, queries: int = QUERIES, loops: int = 0, peek: int = PEEK_LOOPS):
        """`loops`: the model's full count a pass (0: its K_max); `peek`: the loops every question gets first
        (0: none, every question gets the full count). No `device`: the model runs in NumPy where it can."""
        from csp_diffusion import numpy_loopmdm

        loaded = numpy_loopmdm.load(checkpoint, kind, task) if device is None else None
        self.net = _NumpyNet(*loaded, task) if loaded else _TorchNet(kind, task, checkpoint, device)
        self.task, self.model = self.net.task, self.net.model
        self.batch_size, self.queries = batch_size, queries
        self.loops = loops or self.model.max_loops  # of each model pass
        self.peek = peek if self.model.carries_state and 0 < peek < self.loops else 0
        self.shape = self.task.structure().shape  # every grid's, unless the structure differs per puzzle

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

    def probabilities(self, puzzles: np.ndarray, givens: np.ndarray | None = None, peek: bool = False, shape=None):
        """float (n, cells, n_values): the model's belief in each value of each cell after its full count of
        loops, from `puzzles` (grids whose non-zero cells are givens, or, with `givens`, whose givens are that
        puzzle's non-zero cells; all of `shape`, None: the task's one). With `peek`, as the search asks: (that
        belief, loops run, passes run), a grid getting the full count only where the peek left the model sure
        enough."""
        out, ran, passes = [], [], []
        for start in range(0, len(puzzles), self.batch_size):
            values = np.asarray(puzzles[start:start + self.batch_size], dtype=np.int64)
            given = values > 0 if givens is None else np.asarray(givens[start:start + self.batch_size]) > 0
            first = self.peek if peek else 0
            probs, went = self._pass(values, given, first, shape or self.shape)
            out.append(probs)
            ran.append(np.where(went, self.loops, first or self.loops))
            passes.append(1 + went)  # a grid that went on ran the prelude and coda again
        probs = np.concatenate(out)
        return (probs, np.concatenate(ran), np.concatenate(passes)) if peek else probs

    def _pass(self, values: np.ndarray, given: np.ndarray, peek: int, shape):
        """(probabilities, which grids went on) of one batch: with `peek`, that many loops first, then the rest of
        the full count, from the state the peek reached (the same as one straight pass), for the grids it left
        sure enough; else one pass of the full count (and none went on)."""
        if not peek:
            return self.net.run(values, given, self.loops, shape=shape)[0], np.zeros(len(values), dtype=bool)
        probs, state = self.net.run(values, given, peek, shape=shape)
        went = (values == 0).any(-1) & (sureness(probs, values) >= PEEK_SURE)
        go = np.flatnonzero(went)
        if len(go):
            probs[go] = self.net.run(values[go], given[go], self.loops - peek, state=state[go], shape=shape)[0]
        return probs, went

    def solve_screened(self, puzzles: list, unique: bool = False, reasons: list | None = None,
                       on_step=None) -> Iterator[Result]:
        """One Result per puzzle, in input order (`reasons`: a caller's screening, as NeuralSolver takes it).
        Every puzzle's search runs at once: the grids they ask about go to the model together, in batches of
        one grid shape."""
        encoded = [self.task.encode(p) for p in puzzles]
        grids = [np.asarray(v, np.int64) for v, _ in encoded]
        shapes = [tuple(shape) for _, shape in encoded]
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
                searches[k] = self.task.guided_search(puzzle, unique, self.queries, shape=shapes[k])
        with ThreadPoolExecutor(self.net.threads) as pool:
            advance(list(searches), [None] * len(searches))
            nxt = 0
            while asking or nxt < len(grids):
                ks = []
                if asking:  # one shape to a batch: the shape of the longest-waiting question
                    shape = shapes[next(iter(asking))]
                    ks = [k for k in asking if shapes[k] == shape][:self.batch_size]
                if ks:
                    t = time.perf_counter()
                    probs, ran, two = self.probabilities(np.stack([asking.pop(k) for k in ks]).astype(np.int64), peek=True,
                                                         shape=shapes[ks[0]])
                    seconds[ks] += (time.perf_counter() - t) * ran / ran.sum()  # each grid's share, by its loops
                    queries[ks] += 1
                    loops[ks] += ran
                    passes[ks] += two
                    advance(ks, probs)
                while nxt < len(grids) and (nxt in outcome or nxt not in searches):  # in input order, when known
                    flops = self.net.flops(shapes[nxt], passes[nxt], loops[nxt])
                    yield self._result(puzzles[nxt], grids[nxt], shapes[nxt], outcome.pop(nxt, None), seconds[nxt],
                                       int(queries[nxt]), int(loops[nxt]), flops, None if reasons is None else reasons[nxt])
                    nxt += 1

    def _result(self, original, puzzle: np.ndarray, shape, outcome, seconds: float, queries: int, loops: int,
                flops: float, reason) -> Result:
        text = self.task.to_text(original)
        if outcome is None:
            return Result(self.task.name, self.name, text, None, False, 0.0, reason)
        solution, why, nodes, wrong = outcome
        extra = {"nodes": int(nodes), "backtracks": int(wrong), "queries": queries, "loops_run": int(loops),
                 "flops": float(flops)}
        if solution is None:
            return Result(self.task.name, self.name, text, None, False, seconds, why, extra)
        ok = self.task.verify(puzzle, solution, shape)
        return Result(self.task.name, self.name, text, self.task.text(solution, shape, original) if ok else None, ok, seconds,
                      None if ok else "the search returned a grid the verifier refuses", extra)
