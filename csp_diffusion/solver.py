"""Neural solvers behind the common Result interface: load a checkpoint, sample, verify."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from csp_diffusion import models
from csp_diffusion.blocks import fast_bf16, keep_freed_memory, pick_device
from csp_diffusion.errors import CheckpointError
from csp_diffusion.decoders import decoder
from csp_diffusion.sampler import SamplerConfig, State
from puzzles.domains import get_task
from puzzles.result import Result

SHIPPED = Path(__file__).parent / "checkpoints"


def shipped_checkpoint(kind: str, task: str) -> Path:
    path = SHIPPED / f"{task}-{kind}.safetensors"
    if not path.is_file():
        raise CheckpointError(f"no shipped {kind} checkpoint for {task} (expected {path}); pass --checkpoint")
    return path


SMALL_BATCH = 32  # grids; below this one CPU thread is faster than several (no sync on tiny matmuls)


@contextmanager
def _threads(grids: int, device: torch.device):
    """One intra-op thread for small CPU batches: measured 20 ms/step alone vs 0.7-1.4 s/step with
    two threads when the other core is busy; large batches keep torch's default."""
    before = torch.get_num_threads()
    if device.type == "cpu" and grids < SMALL_BATCH:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class NeuralSolver:
    """A trained model of any kind plus its decoding (LoopMDM: the retracting sampler), for one task."""

    def __init__(self, kind: str, task: str, checkpoint: Path | None = None, device: str | None = None,
                 sampler: SamplerConfig | None = None, batch_size: int = 256):
        self.device = pick_device(device)
        if self.device.type == "cpu":
            keep_freed_memory()
        self.model, self.meta = models.load(checkpoint or shipped_checkpoint(kind, task), kind, task, self.device)
        self.task = get_task(task, self.meta["info"].get("train_config", {}).get("grid"))  # trained grid size
        self.name = kind
        self.config = sampler or SamplerConfig()
        self.batch_size = batch_size
        self.autocast = fast_bf16(self.device)
        if self.autocast:  # bf16 weights too: no recasting per call, 1.1-2x faster (README, "Speed"), same solve rates
            self.model.to(torch.bfloat16)

    @property
    def params(self) -> int:
        return self.model.num_params()

    def describe(self, shape) -> str:
        """One line on the model and its compute for a grid of `shape`."""
        plan = self.plan(shape)
        loops, steps = plan.loops, plan.max_steps
        st = self.task.structure(shape)
        neighbours = st.neighbours.shape[1] if st.neighbours is not None else int(st.adjacency.sum(1).mean())
        flops = self.model.flops(loops, st.positions.shape[0], neighbours)
        together = " started together" if self.config.chains > 1 and self.config.spare_after == 0 else ""
        return (f"model: {self.params / 1e6:.2f}M parameters, {flops / 1e9:.2f} GFLOP per grid per step at "
                f"{loops} loops; {self.config.chains} chain(s){together}, step limit {steps}")

    def plan(self, shape, puzzle: np.ndarray | None = None) -> SamplerConfig:
        """The sampler settings for `puzzle` (encoded), a grid of `shape`: the configured ones when
        `loops` is set; for a model that learned an execution trace, a loop cap from the puzzle's size
        (`trace_loops`); else the model's K_max, both it and the step limit scaled up by the grid's
        side over the trained side."""
        if self.config.loops:
            return self.config
        if getattr(self.model.config, "trace", 0):  # the first step settles most puzzles; the step limit is not scaled
            return replace(self.config, loops=self.trace_loops(shape, puzzle))
        scale = max(1.0, max(shape) / max(self.task.structure().shape))
        return replace(self.config, loops=round(getattr(self.model.config, "max_loops", 1) * scale),
                       max_steps=round(self.config.max_steps * scale))

    @staticmethod
    def trace_loops(shape, puzzle: np.ndarray | None = None) -> int:
        """The loop cap for a model that learned an execution trace (one cell per loop; done at loop
        2 x the path length, which no solver knows beforehand): 2 per unknown cell (every cell without a
        puzzle) + 64, rounded up to a multiple of 32 so similar puzzles share a batch. The sampler
        stops a puzzle's loops early once the model's answer verifies."""
        unknown = int((puzzle == 0).sum()) if puzzle is not None else shape[0] * shape[1]
        return 32 * -(-(2 * unknown + 64) // 32)

    def solve(self, puzzles: list, on_step: Callable[[State], None] | None = None) -> Iterator[Result]:
        """Results in input order. Puzzles are whatever the task encodes (Sudoku grids, mazes);
        those of one shape run together, one batch of puzzles (x chains) per sampler call."""
        encoded = [self.task.encode(p) for p in puzzles]
        if self.model.embed.value.num_embeddings < self.task.tokens:  # a model from before the task's marks
            encoded = [(self.task.classes(v), shape) for v, shape in encoded]  # reads plain values
        # up to batch_size puzzles per sampler call, whatever the chains: on CPU the sampler runs big batches
        # in pieces, and a big batch keeps those pieces full as puzzles finish (chains started together, 8
        # steps: magictour 20.0 puzzles/s with 256 puzzles a call against 17.8 with 32)
        per_batch = max(1, self.batch_size)
        plans = [self.plan(shape, v) for v, shape in encoded]
        start = 0
        while start < len(encoded):
            shape = encoded[start][1]
            end = start + 1
            while end < len(encoded) and end - start < per_batch and encoded[end][1] == shape and plans[end] == plans[start]:
                end += 1
            yield from self._solve_batch([v for v, _ in encoded[start:end]], puzzles[start:end], shape, plans[start],
                                         on_step if start == 0 else None)
            start = end

    def fits(self, shape) -> bool:
        """Whether the model can address every cell of a grid of `shape` (position embeddings
        bound it; models without positions run on any size)."""
        sizes = self.model.config.position_sizes
        positions = self.task.structure(shape).positions[:, :len(sizes)]
        return bool((positions < np.asarray(sizes, dtype=np.int64)).all()) if sizes else True

    def _solve_batch(self, rows: list[np.ndarray], originals: list, shape, config: SamplerConfig,
                     on_step) -> Iterator[Result]:
        """`rows` encoded, `originals` as given (the text of a result is drawn from the original:
        an encoded maze no longer tells S from G)."""
        if not self.fits(shape):
            for puzzle, original in zip(rows, originals):
                yield Result(task=self.task.name, solver=self.name, puzzle=self.task.text(puzzle, shape, original),
                             solution=None, verified=False, seconds=0.0,
                             error=f"a {shape[0]}x{shape[1]} grid is larger than this {self.name} model addresses")
            return
        loops = config.loops
        sampler = decoder(self.name, self.model, self.task, config, self.device, self.autocast)
        chunk = np.stack(rows).astype(np.int64)
        with _threads(len(chunk) * config.chains, self.device):
            outcomes = sampler.solve(chunk, on_step=on_step, shape=shape)
        for puzzle, original, o in zip(chunk, originals, outcomes):
            extra = {"steps": o.steps, "commits": o.commits, "retractions": o.retractions, "loops": loops, **o.extra}
            text = self.task.text(o.values, shape, original)
            if not o.verified:
                extra["final"] = text
            yield Result(
                task=self.task.name, solver=self.name, puzzle=self.task.text(puzzle, shape, original),
                solution=text if o.verified else None, verified=o.verified,
                seconds=o.seconds, error=None if o.verified else
                "gave up at the time limit" if o.extra.get("timed_out") else "not solved within the step limit",
                extra=extra,
            )
