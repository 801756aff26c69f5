"""Neural solvers behind the common Result interface: load a checkpoint, sample, verify."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from csp_diffusion import models
from csp_diffusion.blocks import fast_bf16, pick_device
from csp_diffusion.errors import CheckpointError
from csp_diffusion.sampler import Sampler, SamplerConfig, State
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
    """A trained masked-diffusion model plus the retracting sampler, for one task."""

    def __init__(self, kind: str, task: str, checkpoint: Path | None = None, device: str | None = None,
                 sampler: SamplerConfig | None = None, batch_size: int = 256):
        self.device = pick_device(device)
        self.task = get_task(task)
        self.model, self.meta = models.load(checkpoint or shipped_checkpoint(kind, task), kind, task, self.device)
        self.name = kind
        self.config = sampler or SamplerConfig()
        self.batch_size = batch_size
        self.autocast = fast_bf16(self.device)

    @property
    def params(self) -> int:
        return self.model.num_params()

    def solve(self, puzzles: list[np.ndarray], on_step: Callable[[State], None] | None = None) -> Iterator[Result]:
        """Results in input order, one batch of puzzles (x chains) per sampler call."""
        sampler = Sampler(self.model, self.task, self.config, self.device, self.autocast)
        per_batch = max(1, self.batch_size // max(1, self.config.chains))
        for start in range(0, len(puzzles), per_batch):
            chunk = np.stack([np.asarray(p, dtype=np.int64) for p in puzzles[start:start + per_batch]])
            with _threads(len(chunk) * self.config.chains, self.device):
                outcomes = sampler.solve(chunk, on_step=on_step if start == 0 else None)
            for puzzle, o in zip(chunk, outcomes):
                extra = {"steps": o.steps, "commits": o.commits, "retractions": o.retractions,
                         "loops": self.config.loops, **o.extra}
                if not o.verified:
                    extra["final"] = self.task.text(o.values)
                yield Result(
                    task=self.task.name, solver=self.name, puzzle=self.task.text(puzzle),
                    solution=self.task.text(o.values) if o.verified else None, verified=o.verified,
                    seconds=o.seconds, error=None if o.verified else "not solved within the step limit",
                    extra=extra,
                )
