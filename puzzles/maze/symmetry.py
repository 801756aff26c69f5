"""Maze symmetries: the 8 of the square (rotations and reflections), on mazes and as the sampler's frames.

Pure NumPy; never imports torch.
"""

from __future__ import annotations

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.maze.grid import Cell, Maze


def _apply(a: np.ndarray, k: int) -> np.ndarray:
    """Symmetry k of a 2-D array: transpose when k >= 4, then rotate k % 4 quarter turns."""
    if k >= 4:
        a = a.T
    return np.ascontiguousarray(np.rot90(a, k % 4))


def inverse(k: int) -> int:
    """The symmetry undoing symmetry k (the four reflections undo themselves)."""
    if not 0 <= k < 8:
        raise PuzzleError(f"a dihedral symmetry is 0..7, got {k}")
    return k if k >= 4 else (4 - k) % 4


def _apply_cell(cell: Cell, shape: tuple[int, int], k: int) -> Cell:
    h, w = shape
    moved = _apply(np.arange(h * w).reshape(h, w), k)
    r, c = np.argwhere(moved == cell[0] * w + cell[1])[0]
    return int(r), int(c)


def dihedral(maze: Maze, k: int) -> Maze:
    """The maze under symmetry k of the square (0 = identity, 1-3 rotations, 4-7 reflections)."""
    inverse(k)  # validates k
    return Maze(
        _apply(maze.walls, k),
        _apply_cell(maze.start, maze.shape, k),
        _apply_cell(maze.goal, maze.shape, k),
        None if maze.path is None else _apply(np.asarray(maze.path, dtype=bool), k),
        maze.source,
    )


def frames(shape: tuple[int, int]) -> np.ndarray:
    """int64 (F, H*W): the symmetries that keep a grid's shape as cell permutations, identity first: all 8
    on a square (row k is symmetry k, so `grid.reshape(-1)[frames(shape)[k]]` is `dihedral`'s grid k),
    otherwise 0, 2, 5 and 7 (the identity, the half turn and the two reflections along the axes). Each
    row lists, for each cell of the moved grid, the cell of the original grid it holds."""
    cells = np.arange(shape[0] * shape[1]).reshape(shape)
    moved = [_apply(cells, k) for k in range(8)]
    return np.stack([m.reshape(-1) for m in moved if m.shape == tuple(shape)]).astype(np.int64)


def random_dihedral(maze: Maze, rng: np.random.Generator) -> tuple[Maze, int]:
    """The maze under a random symmetry, and its k (undo it with `dihedral(m, inverse(k))`)."""
    k = int(rng.integers(8))
    return dihedral(maze, k), k
