"""What a neural model may know about a puzzle: the domain interface.

A task turns puzzles into integer grids for a model and back, supplies the
structure of the grid (which row/column/box each cell is in), the constraint
graph (which cells constrain each other), a verifier, and training pairs.
`csp_diffusion` sees only this interface. Pure NumPy; never imports torch.

Value convention: 0 = unknown, 1..n_values = a value. Models predict
n_values classes; class k means value k + 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puzzles import sudoku


@dataclass(frozen=True)
class Structure:
    """The shape a model sees for one grid size.

    positions: int64 (cells, axes), each cell's index along each structural axis
        (Sudoku: row, column, box), so cell identity is learned from those.
    adjacency: bool (cells, cells), the constraint graph with self-loops.
    """

    positions: np.ndarray
    adjacency: np.ndarray


class SudokuTask:
    name = "sudoku"
    n_values = 9
    constraint = "all-different"  # neighbours in the constraint graph hold different values
    position_sizes = (9, 9, 9)  # rows, columns, boxes

    def __init__(self) -> None:
        adjacency = np.eye(sudoku.CELLS, dtype=bool)
        adjacency[np.repeat(np.arange(sudoku.CELLS), 20), sudoku.PEERS.reshape(-1)] = True
        self._structure = Structure(np.stack([sudoku.ROW, sudoku.COL, sudoku.BOX], axis=1).astype(np.int64), adjacency)

    def structure(self, shape=None) -> Structure:
        return self._structure

    def conflicts(self, values: np.ndarray) -> np.ndarray:
        """bool (..., 81): filled cells sharing a value with a filled peer."""
        v = values[..., sudoku.PEERS]  # (..., 81, 20)
        return ((v == values[..., None]) & (values[..., None] > 0)).any(-1)

    def text(self, values: np.ndarray) -> str:
        return sudoku.to_string(np.asarray(values, np.int8))

    def verify(self, puzzle: np.ndarray, values: np.ndarray) -> bool:
        return sudoku.verify(np.asarray(puzzle, np.int8), np.asarray(values, np.int8)) is None

    def training_pairs(self, pool: tuple[np.ndarray, np.ndarray], n: int, rng: np.random.Generator):
        """n augmented (puzzle, solution) pairs drawn from a pool of generated ones, int64 (n, 81)."""
        puzzles, solutions = pool
        idx = rng.integers(len(puzzles), size=n)
        p, s = puzzles[idx].astype(np.int64), solutions[idx].astype(np.int64)
        # a random symmetry per row: digits relabelled, rows/cols shuffled in bands, maybe transposed
        perm = np.stack([sudoku.random_symmetry(rng) for _ in range(n)], axis=0)
        out_p, out_s = np.empty_like(p), np.empty_like(s)
        for k, sym in enumerate(perm):
            out_p[k], out_s[k] = sym.apply(p[k]), sym.apply(s[k])
        return out_p, out_s

    def make_pool(self, n: int, seed: int, workers: int = 2, difficulties=("hard", "extreme")):
        """Generated puzzles with unique solutions, split evenly over `difficulties`."""
        per = [n // len(difficulties) + (k < n % len(difficulties)) for k in range(len(difficulties))]
        puzzles, solutions = [], []
        for k, (d, m) in enumerate(zip(difficulties, per)):
            for s in sudoku.generate(m, d, seed=seed * 97 + k, workers=workers):
                puzzles.append(s.givens)
                solutions.append(s.solution)
        return np.stack(puzzles).astype(np.int8), np.stack(solutions).astype(np.int8)


TASKS = {"sudoku": SudokuTask}


def get_task(name: str):
    from puzzles.errors import UserError

    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name]()
