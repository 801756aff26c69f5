"""What a neural model may know about a puzzle: the domain interface.

A task turns puzzles into integer grids for a model and back, supplies the
structure of the grid (which row/column/box each cell is in), the constraint
graph (which cells constrain each other), a verifier, and training pairs.
`csp_diffusion` sees only this interface. Pure NumPy; never imports torch.

Value convention: 0 = unknown, 1..n_values = a value. Models predict
n_values classes; class k means value k + 1. A task may add input-only tokens
above n_values (`tokens` counts them all, MASK included): a marked given cell whose
value is the top class (mazes: START, the on-path end the walk begins at, so a
model can tell S from G). `classes` maps a grid back to plain values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from puzzles import maze, sudoku


@dataclass(frozen=True)
class Structure:
    """The shape a model sees for one grid size.

    positions: int64 (cells, axes), each cell's index along each structural axis
        (Sudoku: row, column, box), so cell identity is learned from those.
    adjacency: bool (cells, cells), the constraint graph with self-loops; None when the grid is
        large and sparse and `neighbours` describes it instead.
    neighbours: int64 (cells, slots), each cell's neighbours in fixed slots (mazes: self, up,
        right, down, left), -1 where there is none; None for small dense graphs.
    shape: the grid's (rows, cols).
    """

    positions: np.ndarray
    adjacency: np.ndarray | None
    neighbours: np.ndarray | None = None
    shape: tuple[int, int] = (9, 9)

    @property
    def graph(self) -> np.ndarray:
        """What attention follows: the neighbour table when there is one, else the adjacency."""
        return self.neighbours if self.neighbours is not None else self.adjacency


class SudokuTask:
    name = "sudoku"
    n_values = 9
    tokens = 10  # MASK + 9 digits
    trace_size = 0  # no execution trace to supervise
    constraint = "all-different"  # neighbours in the constraint graph hold different values
    position_sizes = (9, 9, 9)  # rows, columns, boxes
    axes = position_sizes  # what the structure's positions index (models that need an order use them)
    confident = 0.99  # the sampler commits at once every cell a model is this sure of
    warm_loops = 0  # the sampler's loops per step after the first, from the carried state (0 = all cold)
    temperature = 2.5  # the sampler's noisy chains; chosen on magictour puzzles 1001-1465 (the reported figures use
    # the first 1000): 8 chains 96.6% at 2.5 vs 94.2% at 1.5, and 8 started together for 8 steps 91.8% vs 83.7%
    # (2.0: 88.8%, 3.0: 90.3%), each faster; hotter chains are more diverse (README, "Results")

    def __init__(self) -> None:
        adjacency = np.eye(sudoku.CELLS, dtype=bool)
        adjacency[np.repeat(np.arange(sudoku.CELLS), 20), sudoku.PEERS.reshape(-1)] = True
        self._structure = Structure(np.stack([sudoku.ROW, sudoku.COL, sudoku.BOX], axis=1).astype(np.int64), adjacency)

    def structure(self, shape=None) -> Structure:
        return self._structure

    def encode(self, grid: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """(values (81,), shape) of a puzzle grid."""
        return np.asarray(grid, dtype=np.int64).reshape(-1), (9, 9)

    def classes(self, values: np.ndarray) -> np.ndarray:
        return values

    def conflicts(self, values: np.ndarray) -> np.ndarray:
        """bool (..., 81): filled cells sharing a value with a filled peer."""
        v = values[..., sudoku.PEERS]  # (..., 81, 20)
        return ((v == values[..., None]) & (values[..., None] > 0)).any(-1)

    def text(self, values: np.ndarray, shape=None, puzzle=None) -> str:
        return sudoku.to_string(np.asarray(values, np.int8))

    def verify(self, puzzle: np.ndarray, values: np.ndarray, shape=None) -> bool:
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


class MazeTask:
    """Shortest paths: walls are given off-path, S and G given on-path (S as its own token,
    START), every open cell is unknown and predicted on-path (value 2) or off-path (value 1).

    The graph is the 4-neighbourhood (slots self, up, right, down, left) and cells carry
    no position (position_sizes is empty), so one model runs on any maze size. The structure
    still lists each cell's row and column (`axes`, mazes up to MAX_SIDE a side) for a model
    that must know the order it writes cells in (AR). Training grids are
    `train_size` square (15 by default); smaller mazes are placed in them at a random offset,
    walled around.

    The execution trace (`trace`, supervised loop by loop when a model is built with a trace
    read-out): after loop k, each open cell knows whether it is within k steps of G and if so its
    distance to G mod 3 (a BFS wave from G, one cell per loop); then a walk from S marks the path,
    S at loop T = dist(S, G) and each next cell one loop later (the first neighbour, up, right,
    down, left, one step closer to G: `maze.shortest_path`'s tie-break, in the maze's own frame),
    so the whole path stands by loop 2T.
    """

    name = "maze"
    n_values = 2
    OFF, ON, START = 1, 2, 3
    tokens = 4  # MASK, OFF, ON, START
    trace_size = 5  # wave classes (not yet, dist mod 3 = 0, 1, 2) + the walk's on-path flag
    constraint = "path"  # the on-path cells with S and G form one simple shortest S-G chain
    confident = 0.9
    temperature = 1.0
    warm_loops = 4  # measured: 300/300 perfect 15x15 both ways, open 15x15 78.7% vs 79.7% cold, 31x31 2/8 both, 4.4x faster
    position_sizes: tuple[int, ...] = ()
    MAX_SIDE = 64
    axes = (MAX_SIDE, MAX_SIDE)  # row, column
    TRAIN_SIZE = 15
    SLOTS = ((0, 0), (-1, 0), (0, 1), (1, 0), (0, -1))

    def __init__(self, train_size: int | None = None) -> None:
        self.train_size = train_size or self.TRAIN_SIZE

    def structure(self, shape=None) -> Structure:
        h, w = shape or (self.train_size, self.train_size)
        r, c = np.divmod(np.arange(h * w), w)
        table = np.full((h * w, len(self.SLOTS)), -1, dtype=np.int64)
        for k, (dr, dc) in enumerate(self.SLOTS):
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            table[ok, k] = rr[ok] * w + cc[ok]
        return Structure(np.stack([r, c], axis=1).astype(np.int64), None, table, (h, w))

    def encode(self, m: maze.Maze) -> tuple[np.ndarray, tuple[int, int]]:
        """(values (H*W,), shape): walls OFF, S START, G ON, open cells 0."""
        v = np.where(m.walls, self.OFF, 0).astype(np.int64)
        v[m.goal] = self.ON
        v[m.start] = self.START
        return v.reshape(-1), m.shape

    def classes(self, values: np.ndarray) -> np.ndarray:
        """`values` with START read as ON (for models built before START, and for solutions)."""
        return np.where(values == self.START, self.ON, values)

    def decode(self, puzzle: np.ndarray, shape) -> maze.Maze:
        """The maze of an encoded grid: S is the START cell (without one, the first end in row-major order)."""
        grid = np.asarray(puzzle).reshape(shape)
        ends = [tuple(int(x) for x in e) for e in np.argwhere(grid >= self.ON)]
        if len(ends) != 2:
            raise ValueError(f"a maze grid needs two ends, got {len(ends)}")
        if grid[ends[1]] == self.START:
            ends.reverse()
        return maze.Maze(grid == self.OFF, ends[0], ends[1])

    def trace(self, puzzle: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray, int]:
        """The execution trace's ground truth for an encoded maze (see the class doc): (distance to G
        per cell, -1 where unreachable or a wall; bool on the walked path, S and G included; T)."""
        m = self.decode(puzzle, shape)
        d = maze.distances(m, m.goal).reshape(-1)
        path = maze.shortest_path(m)
        on = np.zeros(d.shape, dtype=bool) if path is None else path.reshape(-1).copy()
        on[m.start[0] * shape[1] + m.start[1]] = on[m.goal[0] * shape[1] + m.goal[1]] = True
        return d, on, int(d[m.start[0] * shape[1] + m.start[1]])

    def conflicts(self, values: np.ndarray) -> np.ndarray:  # the sampler's path rule works on tensors
        return np.zeros(values.shape, dtype=bool)

    def text(self, values: np.ndarray, shape=None, puzzle: maze.Maze | None = None) -> str:
        """`puzzle` (the maze as given; without it, one decoded from `values`, where the first end in
        row-major order becomes S) with `values`' path."""
        m = self.decode(values, shape) if puzzle is None else puzzle
        return maze.to_text(m.with_path(np.asarray(values).reshape(shape) >= self.ON))

    def verify(self, puzzle: np.ndarray, values: np.ndarray, shape=None) -> bool:
        m = self.decode(puzzle, shape)
        return maze.verify(m, np.asarray(values).reshape(shape) >= self.ON) is None

    def training_pairs(self, pool: tuple[np.ndarray, np.ndarray], n: int, rng: np.random.Generator):
        """n (puzzle, solution) pairs, int64 (n, side**2), each under a random one of the 8 symmetries."""
        puzzles, solutions = pool
        idx = rng.integers(len(puzzles), size=n)
        ks = rng.integers(8, size=n)
        side = math.isqrt(puzzles.shape[1])
        p = np.stack([maze._apply(puzzles[i].reshape(side, side), k) for i, k in zip(idx, ks)])
        s = np.stack([maze._apply(solutions[i].reshape(side, side), k) for i, k in zip(idx, ks)])
        return p.reshape(n, -1).astype(np.int64), s.reshape(n, -1).astype(np.int64)

    def make_pool(self, n: int, seed: int, workers: int = 2, difficulties=None):
        """n solved mazes on train_size grids: half perfect, half open (2-30% of inner walls knocked
        out); 40% of sides 5..train_size (odd), the rest train_size."""
        rng = np.random.default_rng(seed)
        side = self.train_size
        sizes = np.arange(5, side + 1, 2)
        puzzles = np.full((n, side, side), self.OFF, dtype=np.int8)
        solutions = puzzles.copy()
        for i in range(n):
            size = int(sizes[rng.integers(len(sizes))]) if rng.random() < 0.4 else side
            if i % 2 == 0:
                algorithm = maze.ALGORITHMS[int(rng.integers(2))]
                m = maze.perfect(size, size, rng, algorithm)
            else:
                m = maze.open_maze(size, rng, knock=float(rng.uniform(0.02, 0.3)))
            m = maze.solve(m)
            v, _ = self.encode(m)
            sol = np.full(m.shape, self.OFF, dtype=np.int8)
            sol[maze.path_mask(m)] = self.ON
            sol[m.start] = sol[m.goal] = self.ON
            r0, c0 = rng.integers(side - size + 1, size=2)
            puzzles[i, r0:r0 + size, c0:c0 + size] = v.reshape(size, size)
            solutions[i, r0:r0 + size, c0:c0 + size] = sol
        return puzzles.reshape(n, -1), solutions.reshape(n, -1)


TASKS = {"sudoku": SudokuTask, "maze": MazeTask}


def get_task(name: str, train_size: int | None = None):
    """The task `name`; `train_size` sets a maze task's training grid side (Sudoku has one size)."""
    from puzzles.errors import UserError

    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    if train_size is None:
        return TASKS[name]()
    if name != "maze" or not 5 <= train_size <= MazeTask.MAX_SIDE:
        raise UserError(f"a training grid size applies to mazes only, from 5 to {MazeTask.MAX_SIDE}")
    return MazeTask(train_size)
