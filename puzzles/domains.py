"""What a neural model may know about a puzzle: the domain interface.

A task is everything the neural side and the benchmark know about one kind of puzzle:
it turns puzzles into integer grids for a model and back, supplies the structure of the
grid (which row/column/box each cell is in) and the constraint graph, names its kind of
constraint (the sampler's clash rules are keyed by it), checks grids (conflicts, verify),
makes training pairs and, where it has one, an execution trace to supervise; for
benchmarks it reads and generates puzzle sets, gives reference answers, scores answers,
screens out puzzles with no (unique) answer and runs its exact oracles.
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
from puzzles.errors import UserError
from puzzles.kakuro.task import KakuroTask


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


def _with_values(cells: np.ndarray, solutions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cells, their solution values, 0 where a cell is -1)."""
    values = np.take_along_axis(np.asarray(solutions, np.int64), cells.clip(min=0), axis=1)
    return cells, np.where(cells >= 0, values, 0)


class SudokuTask:
    name = "sudoku"
    n_values = 9
    tokens = 10  # MASK + 9 digits
    trace_classes = trace_flags = trace_size = 0  # no execution trace to supervise
    constraint = "all-different"  # neighbours in the constraint graph hold different values
    oracles = ("cpsat", "constraint")
    position_sizes = (9, 9, 9)  # rows, columns, boxes
    axes = position_sizes  # what the structure's positions index (models that need an order use them)
    confident = 0.99  # the sampler commits at once every cell a model is this sure of
    warm_loops = 0  # the sampler's loops per step after the first, from the carried state (0 = all cold)
    temperature = 2.5  # the sampler's noisy chains: chosen on magictour puzzles past the first 1000, which the
    # reported figures use (docs/results.md, "Sampler settings"); hotter chains are more diverse
    chains, steps = 64, 12  # LoopMDM's chains per puzzle and step limit unless told: the greedy chain alone for
    # spare_after steps, then 63 more for 8 steps; on the hardest class many chains for few steps solve far
    # more than few chains for many, at the same cost (docs/results.md, "The default")

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

    def conflicts(self, values: np.ndarray, shape=None) -> np.ndarray:
        """bool (..., 81): filled cells sharing a value with a filled peer."""
        v = values[..., sudoku.PEERS]  # (..., 81, 20)
        return ((v == values[..., None]) & (values[..., None] > 0)).any(-1)

    n_frames = 1  # frames the sampler's chains run under: the identity only, until frames are shown to pay (design.md, "Frames")

    def frames(self, shape=None) -> np.ndarray:
        """int64 (F, 81): the cell permutations the sampler runs a puzzle's chains under (chain c in frame
        c mod F; MazeTask.frames): seeded symmetries of the grid that move cells only, the identity first."""
        return sudoku.frames(self.n_frames)

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

    unwritten = 0  # what a solver-order model leaves in a cell it never writes (a blank: such a grid fails)

    def study_set(self, n: int, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
        """The architecture study's held-out set: n generated hard puzzles and their solutions, int8 (n, 81)."""
        return self.make_pool(n, seed, workers=1, mix=("hard",))

    def solver_steps(self, puzzles: np.ndarray, solutions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cells, values), int64 (B, S), -1 / 0 past each row's end: each puzzle's blanks in the order a
        human-style propagation solver fills them (singles first, a guess only where it must), with
        their values; the targets of the `ar-solver` model (Shah et al. 2024)."""
        from puzzles.sudoku_search import solver_order

        cells = np.full(puzzles.shape, -1, np.int64)
        for k in range(len(puzzles)):
            order = solver_order(puzzles[k], solutions[k])
            cells[k, :len(order)] = order
        return _with_values(cells, solutions)

    pool_levels = sudoku.DIFFICULTIES  # what make_pool's `mix` may name: the generator's levels
    held_out_mix = ("hard",)  # the training run's own small evaluation set

    def make_pool(self, n: int, seed: np.random.SeedSequence, workers: int = 2, mix=("hard", "extreme")):
        """Generated puzzles with unique solutions, split evenly over the levels in `mix` (`seed`: a named stream
        of `puzzles.seeds`)."""
        from puzzles.seeds import child, sequence

        seed = sequence(seed)
        per = [n // len(mix) + (k < n % len(mix)) for k in range(len(mix))]
        puzzles, solutions = [], []
        for k, (d, m) in enumerate(zip(mix, per)):
            for s in sudoku.generate(m, d, seed=child(seed, k), workers=workers):
                puzzles.append(s.givens)
                solutions.append(s.solution)
        return np.stack(puzzles).astype(np.int8), np.stack(solutions).astype(np.int8)

    # ---- benchmarks: puzzle sets, references, scoring, screening, oracles

    def read_file(self, path: str) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """(puzzles, the solutions the file gives, None where it gives none)."""
        items = sudoku.read_file(path)
        return [s.givens for s in items], [s.solution for s in items]

    def generate(self, kind: str, n: int, options: dict, seed) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(n puzzles of difficulty `kind`, their solutions); no options."""
        if options:
            raise UserError(f"unknown Sudoku generator option(s): {', '.join(options)}")
        made = list(sudoku.generate(n, kind, seed=seed, workers=2))
        return [s.givens for s in made], [s.solution for s in made]

    def reference(self, puzzle: np.ndarray, where: str, known: np.ndarray | None = None) -> np.ndarray | None:
        """The one solution (`known`, when the source has it); None when there is none or several (a verified
        answer to such a puzzle would not be "the" answer a benchmark scores: it counts the puzzle apart)."""
        from puzzles.sudoku_search import search

        n, _, solution = search(puzzle, 2)
        if n != 1:
            return None
        return known if known is not None else solution

    def shape_of(self, puzzle) -> tuple[int, int]:
        return 9, 9

    def to_text(self, puzzle) -> str:
        return sudoku.to_string(np.asarray(puzzle, np.int8))

    def answer(self, text: str) -> np.ndarray:
        """The grid of a result's answer text (it may hold clashes)."""
        return np.array([int(ch) if ch.isdigit() else 0 for ch in text], dtype=np.int64)

    def check(self, puzzle: np.ndarray, answer: np.ndarray) -> str | None:
        """Why `answer` does not solve `puzzle` (None: it does): the contract's verifier."""
        return sudoku.verify(puzzle, answer)

    def score(self, puzzle, reference: np.ndarray, answer: np.ndarray | None) -> tuple[int, int]:
        """(unknown cells whose answer matches the reference, unknown cells)."""
        unknown = np.asarray(puzzle) == 0
        right = 0 if answer is None else int((answer[unknown] == np.asarray(reference)[unknown]).sum())
        return right, int(unknown.sum())

    def screen(self, puzzle, unique: bool) -> str | None:
        """Why a puzzle cannot have the answer a solver looks for, checked before a model runs (None: it
        can). Clashing givens never get here (parsing refuses them); with `unique`, a puzzle needs exactly
        one solution. Without it, a puzzle with none is told apart only once a model fails it
        (`explain`), so puzzles a model solves cost no search."""
        if not unique:
            return None
        n = sudoku.count_solutions(np.asarray(puzzle, np.int8), 2)
        if n == 0:
            return sudoku.NO_SOLUTION
        return sudoku.SEVERAL_SOLUTIONS if n > 1 else None

    def explain(self, puzzle) -> str | None:
        """Why a model found no answer when the puzzle itself is at fault (None: the model is)."""
        return None if sudoku.count_solutions(np.asarray(puzzle, np.int8), 1) else sudoku.NO_SOLUTION

    hybrids = ("hybrid",)  # a complete search ordered by a model's probabilities (`guided_search`)

    def guided_search(self, puzzle: np.ndarray, unique: bool, queries: int = 1):
        """The most-constrained-cell search as a coroutine: it yields grids (the puzzle plus the search's
        assignments) and takes a model's probabilities for each back by `send`, at the root and at up to
        `queries` - 1 more branch nodes; each cell's digits are tried most probable first (queries=0: in
        ascending order, the model-free search). It returns (solution or None, why not (None when solved),
        nodes until the first solution, wrong tries among them). With `unique` it goes on to prove the
        answer unique, and says so when it is not, exactly as the oracles do."""
        from puzzles.sudoku_search import guided

        found, nodes, wrong, first = yield from guided(puzzle, 2 if unique else 1, queries)
        if found == 0:
            return None, sudoku.NO_SOLUTION, nodes, wrong
        if found > 1:
            return None, sudoku.SEVERAL_SOLUTIONS, nodes, wrong
        return first.astype(np.int64), None, nodes, wrong

    def free_search_nodes(self, puzzle: np.ndarray) -> int:
        """Nodes the model-free search (ascending digits, the generator's) takes to the first solution."""
        from puzzles.sudoku_search import counted_search

        return int(counted_search(puzzle, 1)[1])

    def solve_exact(self, puzzles: list, solver: str, time_limit: float | None, workers: int = 2):
        """One Result per puzzle, in order, from an exact oracle (`oracles`); time_limit None: the size default."""
        from puzzles import sudoku_oracle
        from puzzles.limits import time_limit as limit_for

        return sudoku_oracle.solve_many(puzzles, solver, time_limit=limit_for(time_limit, 81), workers=workers)


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
    trace_classes = 4  # the BFS wave: not reached yet, or reached with dist mod 3 = 0, 1, 2
    trace_flags = 1  # the walk's on-path flag (the answer of a trace model: its last output)
    trace_size = trace_classes + trace_flags
    constraint = "path"  # the on-path cells with S and G form one simple shortest S-G chain
    oracles = ("cpsat",)
    confident = 0.9
    temperature = 1.0
    warm_loops = 4  # as good as cold steps on 15x15 mazes and several times faster (docs/results.md, "Mazes")
    chains, steps = 8, 64  # LoopMDM's chains per maze and step limit unless told: most mazes settle in the first
    # step, and the spares are for the walks that stall
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

    def trace(self, puzzles: np.ndarray, shape) -> dict[str, np.ndarray]:
        """The execution trace's ground truth for encoded mazes (B, T) (see the class doc): distance to G per
        cell ("dist", -1 where unreachable or a wall), the walked path ("on", S and G included) and each
        maze's dist(S, G) ("length")."""
        dist, on, length = [], [], []
        for puzzle in puzzles:
            m = self.decode(puzzle, shape)
            d = maze.distances(m, m.goal).reshape(-1)
            path = maze.shortest_path(m)
            walk = np.zeros(d.shape, dtype=bool) if path is None else path.reshape(-1).copy()
            walk[m.start[0] * shape[1] + m.start[1]] = walk[m.goal[0] * shape[1] + m.goal[1]] = True
            dist.append(d)
            on.append(walk)
            length.append(int(d[m.start[0] * shape[1] + m.start[1]]))
        return {"dist": np.stack(dist), "on": np.stack(on), "length": np.asarray(length)}

    def trace_loops(self, trace: dict) -> int:
        """Loops after which every maze of `trace` has its whole path walked (2 x the longest dist(S, G))."""
        return 2 * int(trace["length"].max())

    def trace_done(self, trace: dict, loops: int) -> np.ndarray:
        """bool (B,): the mazes whose trace is complete after `loops` loops."""
        return 2 * trace["length"] <= loops

    def trace_targets(self, trace: dict, loop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the read-out should say after loop `loop`: (classes int64 (B, T) in 0..trace_classes-1,
        flags float32 (B, T, trace_flags), cells bool (B, T) where the trace is defined: the reachable ones)."""
        dist, length = trace["dist"], trace["length"][:, None]
        wave = np.where(dist > loop, 0, 1 + dist % 3)
        walk = trace["on"] & (2 * length - dist <= loop)
        return wave.astype(np.int64), walk[..., None].astype(np.float32), dist >= 0

    def trace_loop_cap(self, puzzle: np.ndarray | None, shape) -> int:
        """Loops a trace model may need on an encoded maze (done at loop 2 x the path length, which no
        solver knows beforehand): 2 per unknown cell + 64, rounded up to a multiple of 32 so that similar
        mazes share a batch. The sampler stops a maze's loops as soon as its answer verifies."""
        unknown = int((puzzle == 0).sum()) if puzzle is not None else shape[0] * shape[1]
        return 32 * -(-(2 * unknown + 64) // 32)

    def conflicts(self, values: np.ndarray, shape=None) -> np.ndarray:
        """bool (..., T): on-path cells that break the path rule whatever the ends are: a branch (more than
        two on-path neighbours) or an isolated cell (none)."""
        values = np.asarray(values)
        h, w = shape or (math.isqrt(values.shape[-1]),) * 2
        on = (values >= self.ON).reshape(*values.shape[:-1], h, w)
        pad = np.pad(on, [(0, 0)] * (on.ndim - 2) + [(1, 1), (1, 1)])
        degree = pad[..., :-2, 1:-1].astype(np.int8) + pad[..., 2:, 1:-1] + pad[..., 1:-1, :-2] + pad[..., 1:-1, 2:]
        return (on & ((degree > 2) | (degree == 0))).reshape(values.shape)

    def frames(self, shape) -> np.ndarray:
        """int64 (F, T): the grid symmetries that keep the maze's shape, as cell permutations (identity first).
        The sampler runs a chain in one of them, and moves a chain whose trace stalls to the next: the
        trace's tie-break and the model's mistakes depend on the frame (docs/results.md, "Frames")."""
        return maze.frames(shape)

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

    unwritten = OFF  # a cell the walk never reaches is off the path
    hybrids = ()  # no model-guided search for mazes: BFS is exact and linear already

    def study_set(self, n: int, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
        """The architecture study's held-out set: n generated 15x15 `open` mazes, encoded, and their solutions
        (each cell OFF or ON, a shortest path ON), int8 (n, 225)."""
        mazes, paths = self.generate("open", n, {"size": 15}, seed)
        puzzles = np.stack([self.encode(m)[0] for m in mazes])
        solutions = np.where(np.stack([p.reshape(-1) for p in paths]) | (puzzles >= self.ON), self.ON, self.OFF)
        return puzzles.astype(np.int8), solutions.astype(np.int8)

    def solver_steps(self, puzzles: np.ndarray, solutions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cells, values), int64 (B, S), -1 / 0 past each row's end: the path's unknown cells as a walk
        from S to G (each written ON); every cell the walk leaves is OFF (`unwritten`)."""
        side = math.isqrt(puzzles.shape[1])
        cells = np.full(puzzles.shape, -1, np.int64)
        for k in range(len(puzzles)):
            on = (solutions[k] >= self.ON) & (puzzles[k] == 0)
            at = int(np.flatnonzero(puzzles[k] == self.START)[0])
            n = 0
            while True:
                r, c = divmod(at, side)
                nxt = [rr * side + cc for rr, cc in ((r - 1, c), (r, c + 1), (r + 1, c), (r, c - 1))
                       if 0 <= rr < side and 0 <= cc < side and on[rr * side + cc]]
                if not nxt:
                    break
                at = nxt[0]
                on[at] = False
                cells[k, n] = at
                n += 1
        return _with_values(cells, solutions)

    pool_levels = maze.KINDS  # what make_pool's `mix` may name: the generator's kinds
    held_out_mix = None  # the training run's own small evaluation set: the default mix

    def make_pool(self, n: int, seed: np.random.SeedSequence, workers: int = 2, mix=None):
        """n solved mazes on train_size grids, the kinds in `mix` taking turns (None: perfect and open, 2-30%
        of inner walls knocked out); 40% of sides 5..train_size (odd), the rest train_size. A smaller maze
        sits at a random place inside walls, so a `walls` or `borderless` one keeps an open edge only where
        it touches the grid's."""
        rng = np.random.default_rng(seed)
        side = self.train_size
        sizes = np.arange(5, side + 1, 2)
        kinds = tuple(mix) if mix else ("perfect", "open")
        puzzles = np.full((n, side, side), self.OFF, dtype=np.int8)
        solutions = puzzles.copy()
        for i in range(n):
            size = int(sizes[rng.integers(len(sizes))]) if rng.random() < 0.4 else side
            m = maze.solve(self._pool_maze(kinds[i % len(kinds)], size, rng))
            v, _ = self.encode(m)
            sol = np.full(m.shape, self.OFF, dtype=np.int8)
            sol[maze.path_mask(m)] = self.ON
            sol[m.start] = sol[m.goal] = self.ON
            r0, c0 = rng.integers(side - size + 1, size=2)
            puzzles[i, r0:r0 + size, c0:c0 + size] = v.reshape(size, size)
            solutions[i, r0:r0 + size, c0:c0 + size] = sol
        return puzzles.reshape(n, -1), solutions.reshape(n, -1)

    @staticmethod
    def _pool_maze(kind: str, size: int, rng: np.random.Generator) -> maze.Maze:
        """One training maze of `kind` (the generator's own draws of density and open share)."""
        if kind == "perfect":
            return maze.perfect(size, size, rng, maze.ALGORITHMS[int(rng.integers(2))])
        if kind == "open":
            return maze.open_maze(size, rng, knock=float(rng.uniform(0.02, 0.3)))
        makers = {"walls": maze.walls_maze, "rooms": maze.rooms_maze, "borderless": maze.borderless_maze}
        if kind not in makers:
            raise UserError(f"unknown maze kind {kind!r}; choose from {', '.join(maze.KINDS)}")
        return makers[kind](size, rng)

    # ---- benchmarks: puzzle sets, references, scoring, screening, oracles

    def read_file(self, path: str) -> tuple[list[maze.Maze], list[None]]:
        mazes = maze.read_file(path)
        return mazes, [None] * len(mazes)

    def generate(self, kind: str, n: int, options: dict, seed) -> tuple[list[maze.Maze], list[np.ndarray]]:
        """(n size x size mazes of `kind`, their reference paths); options size (15), min_path, and in percent
        density (walls: wall cells) or open (rooms: the inside in rooms)."""
        unknown = set(options) - {"size", "min_path", "density", "open"}
        if unknown:
            raise UserError(f"unknown maze generator option(s): {', '.join(sorted(unknown))}")
        shares = {k: options[k] for k in ("density", "open") if k in options}
        if len(shares) > 1 or (shares and {"density": "walls", "open": "rooms"}[next(iter(shares))] != kind):
            raise UserError("density= is for walls mazes and open= for rooms mazes")
        share = next(iter(shares.values())) / 100 if shares else None
        mazes = maze.generate(n, options.get("size", 15), kind=kind, min_path=options.get("min_path"), seed=seed,
                              share=share)
        return mazes, [maze.path_mask(maze.solve(m)) for m in mazes]

    def reference(self, puzzle: maze.Maze, where: str, known=None) -> np.ndarray | None:
        """One shortest path (bool (H, W), S and G excluded); None when the goal cannot be reached."""
        path = maze.shortest_path(puzzle)
        return None if path is None else maze.path_mask(puzzle.with_path(path))

    def shape_of(self, puzzle: maze.Maze) -> tuple[int, int]:
        return puzzle.shape

    def to_text(self, puzzle: maze.Maze) -> str:
        return maze.to_text(puzzle)

    def answer(self, text: str) -> np.ndarray:
        return maze.path_mask(maze.parse(text))

    def check(self, puzzle: maze.Maze, answer: np.ndarray) -> str | None:
        """Why the path `answer` (a mask of the path's cells) is not a shortest S-G path of `puzzle` (None: it is)."""
        return maze.verify(puzzle, answer)

    def score(self, puzzle: maze.Maze, reference: np.ndarray, answer: np.ndarray | None) -> tuple[int, int]:
        """(open cells, S and G aside, labelled as on one reference path, open cells): where a maze has several
        shortest paths this is a lower bound."""
        free = ~puzzle.walls
        free[puzzle.start] = free[puzzle.goal] = False
        got = answer if answer is not None else np.zeros_like(reference)
        return int((got == reference)[free].sum()), int(free.sum())

    def screen(self, puzzle: maze.Maze, unique: bool = False) -> str | None:
        """Why no path can be found (the goal cannot be reached), or None. Shortest paths need not be unique."""
        return maze.UNREACHABLE if maze.shortest_length(puzzle) is None else None

    def explain(self, puzzle: maze.Maze) -> str | None:
        return None  # `screen` already caught every maze without an answer

    def solve_exact(self, puzzles: list, solver: str, time_limit: float | None, workers: int = 2):
        """One Result per maze, in order, from CP-SAT; time_limit None: each maze's size default."""
        from puzzles import maze_oracle

        return maze_oracle.solve_many(puzzles, time_limit, workers=workers)



TASKS = {"sudoku": SudokuTask, "maze": MazeTask, "kakuro": KakuroTask}


def get_task(name: str, train_size: int | None = None):
    """The task `name`; `train_size` sets a maze task's training grid side (Sudoku has one size)."""
    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    if train_size is None:
        return TASKS[name]()
    task = TASKS[name]
    if not hasattr(task, "TRAIN_SIZE") or not 5 <= train_size <= task.MAX_SIDE:
        raise UserError("a training grid size applies to tasks of several sizes only (mazes), from 5 to "
                        f"{MazeTask.MAX_SIDE}")
    return task(train_size)
