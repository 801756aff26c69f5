"""Training data: a cached pool of generated puzzles, augmented on the fly.

Generating unique-solution puzzles costs milliseconds each, so a pool is made
once (both cores) and cached as .npz; every batch draws from it through a random
validity-preserving symmetry, so the model rarely sees the same grid twice.
The real collections in shared/puzzles are never used here: they are the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from puzzles.files import atomic_write
from puzzles.seeds import stream


def cache_dir() -> Path:
    return Path(os.environ.get("CSP_CACHE", Path.home() / ".cache" / "csp-diffusion"))


def load_pool(task, size: int, seed: int, workers: int | None = None,
              mix: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(puzzles, solutions) int8 (size, T), generated once per (task, size, seed, mix) and cached (`mix`: the
    generator's levels (Sudoku) or kinds (mazes), in equal shares; None: the task's own mix)."""
    grid = f"-side{task.train_size}" if task.train_size else ""
    named = f"-{'+'.join(mix)}" if mix else ""
    path = cache_dir() / f"{task.name}{grid}-pool-{size}-seed{seed}{named}-v3.npz"  # v3: named seed streams
    if path.exists():
        try:
            with np.load(path) as z:
                return z["puzzles"], z["solutions"]
        except (OSError, ValueError, KeyError, EOFError):
            pass  # a damaged (or empty) cache is regenerated
    levels = {"mix": tuple(mix)} if mix else {}
    puzzles, solutions = task.make_pool(size, seed=stream("pool", seed), workers=workers or os.cpu_count() or 1,
                                        **levels)

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, puzzles=puzzles, solutions=solutions)

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)
    return puzzles, solutions


def held_out(task, n: int, seed: int, mix=None) -> tuple[np.ndarray, np.ndarray]:
    """A small generated evaluation set from its own stream, apart from every training pool: of the training
    pool's `mix` when one is given (a run on new kinds is watched on them), else the task's own default."""
    return task.make_pool(n, seed=stream("held-out", seed), workers=1, mix=mix or task.held_out_mix)
