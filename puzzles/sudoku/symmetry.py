"""Sudoku symmetries: validity-preserving transforms for augmentation, and the sampler's frames.

Pure NumPy; never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puzzles.sudoku.grid import CELLS


@dataclass(frozen=True)
class Symmetry:
    """A validity-preserving transform: relabel digits, permute rows and columns, maybe transpose.

    digits: int8[10] with digits[0] = 0; rows, cols: permutations of 0..8 that keep
    bands (stacks) together. Applying: out[r, c] = digits[in[rows[r], cols[c]]], then transpose.
    """

    digits: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    transpose: bool

    def apply(self, grid: np.ndarray) -> np.ndarray:
        g = np.asarray(grid).reshape(9, 9)[self.rows][:, self.cols]
        if self.transpose:
            g = g.T
        return self.digits[g].reshape(CELLS).astype(np.int8)

    def inverse(self) -> Symmetry:
        inv_digits = np.zeros(10, np.int8)
        inv_digits[self.digits] = np.arange(10)
        rows, cols = np.argsort(self.rows), np.argsort(self.cols)
        if self.transpose:
            rows, cols = cols, rows
        return Symmetry(inv_digits, rows, cols, self.transpose)


def _band_permutation(rng: np.random.Generator) -> np.ndarray:
    bands = rng.permutation(3)
    return np.concatenate([b * 3 + rng.permutation(3) for b in bands])


def random_symmetry(rng: np.random.Generator) -> Symmetry:
    digits = np.concatenate([[0], rng.permutation(9) + 1]).astype(np.int8)
    return Symmetry(digits, _band_permutation(rng), _band_permutation(rng), bool(rng.integers(2)))


def frames(n: int, seed: int = 0) -> np.ndarray:
    """int64 (n, 81): n symmetries of the grid that move cells only (rows and columns shuffled within
    their bands and stacks, bands and stacks shuffled, maybe transposed), as cell permutations, the
    identity first; seeded, so a puzzle's chains run in the same frames every time. Row k holds, at
    each cell, the cell of the puzzle it shows: `grid[frames(n)[k]]` is the grid in frame k."""
    rng = np.random.default_rng(seed)
    out = [np.arange(CELLS)]
    for _ in range(n - 1):
        g = np.arange(CELLS).reshape(9, 9)[_band_permutation(rng)][:, _band_permutation(rng)]
        out.append((g.T if rng.integers(2) else g).reshape(CELLS))
    return np.stack(out)


def augment(puzzle: np.ndarray, solution: np.ndarray | None, rng: np.random.Generator):
    """The same random symmetry applied to a puzzle and its solution."""
    s = random_symmetry(rng)
    return s.apply(puzzle), (None if solution is None else s.apply(solution))
