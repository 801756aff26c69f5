"""The never-wrong hybrid: a complete search whose order comes from a neural model.

The model (LoopMDM by default) reads each puzzle once, in batches; the task's `guided_search`
(Sudoku: constraint propagation by the most-constrained cell, then depth-first search) tries each
cell's values most probable first and breaks ties between equally constrained cells by the model's
confidence. The search is complete, so every solvable puzzle is solved, and "no solution" and "more
than one solution" (with `unique`) are said exactly as the oracles say them. Every answer is checked
by the task's verifier as well. Each result counts the search `nodes` (values tried at cells with
more than one candidate, until the first solution) and the wrong tries among them (`backtracks`:
0 means the model's order led straight to the answer).
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


class HybridSolver:
    name = "hybrid"

    def __init__(self, task: str, checkpoint: Path | None = None, device: str | None = None, kind: str = "loopmdm",
                 batch_size: int = 256):
        self.net = NeuralSolver(kind, task, checkpoint, device, SamplerConfig(chains=1))
        self.task, self.model, self.device = self.net.task, self.net.model, self.net.device
        self.config = self.net.config
        self.batch_size = batch_size
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
                f"{self.model.max_loops} loops) order a complete search; every answer verified")

    @torch.no_grad()
    def probabilities(self, puzzles: np.ndarray) -> np.ndarray:
        """float (n, cells, n_values): the model's belief in each value of each cell, from the bare puzzle."""
        out = []
        for start in range(0, len(puzzles), self.batch_size):
            values = torch.as_tensor(puzzles[start:start + self.batch_size], dtype=torch.long, device=self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.net.autocast):
                logits = self.model(values, values > 0, self.positions, self.graph, self.model.max_loops)
            out.append(logits.float().softmax(-1).cpu().numpy())
        return np.concatenate(out)

    def solve_screened(self, puzzles: list, unique: bool = False, reasons: list | None = None,
                       on_step=None) -> Iterator[Result]:
        """One Result per puzzle, in input order (`reasons`: a caller's screening, as NeuralSolver takes it)."""
        grids = np.stack([self.task.encode(p)[0] for p in puzzles]).astype(np.int64)
        t0 = time.perf_counter()
        probs = self.probabilities(grids)
        per_model = (time.perf_counter() - t0) / max(1, len(grids))
        for k, (puzzle, p) in enumerate(zip(grids, probs)):
            text = self.task.to_text(puzzles[k])
            if reasons is not None and reasons[k] is not None:
                yield Result(self.task.name, self.name, text, None, False, 0.0, reasons[k])
                continue
            t = time.perf_counter()
            solution, why, nodes, wrong = self.task.guided_search(puzzle, p, unique)
            seconds = per_model + time.perf_counter() - t
            extra = {"nodes": int(nodes), "backtracks": int(wrong)}
            if solution is None:
                yield Result(self.task.name, self.name, text, None, False, seconds, why, extra)
                continue
            ok = self.task.verify(puzzle, solution)
            yield Result(self.task.name, self.name, text, self.task.text(solution) if ok else None, ok, seconds,
                         None if ok else "the search returned a grid the verifier refuses", extra)
