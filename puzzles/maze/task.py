"""Mazes as a task (`puzzles.contract.Task`): the core, the exact oracle, the neural encoding and
structure, the execution trace, training pairs and pools (registered in `puzzles.domains.TASKS`).

Pure NumPy; never imports torch.
"""

from __future__ import annotations

import math

import numpy as np

from puzzles import maze
from puzzles.contract import Structure, with_values
from puzzles.errors import UserError
from puzzles.maze import symmetry, terminal


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
    terminal = terminal.TERMINAL  # `csp solve maze`, `csp generate maze`
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
    warm_loops = 4  # as good as cold steps on 15x15 mazes and several times faster (docs/results/maze.md)
    chains, steps = 8, 64  # LoopMDM's chains per maze and step limit unless told: most mazes settle in the first
    # step, and the spares are for the walks that stall
    position_sizes: tuple[int, ...] = ()
    MAX_SIDE = 64
    axes = (MAX_SIDE, MAX_SIDE)  # row, column
    TRAIN_SIZE = train_size = 15  # the training grid side (an instance may have its own: `get_task`)
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
        trace's tie-break and the model's mistakes depend on the frame (docs/results/maze.md, "Frames")."""
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
        p = np.stack([symmetry._apply(puzzles[i].reshape(side, side), k) for i, k in zip(idx, ks)])
        s = np.stack([symmetry._apply(solutions[i].reshape(side, side), k) for i, k in zip(idx, ks)])
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
        return with_values(cells, solutions)

    pool_levels = maze.KINDS  # what make_pool's `mix` may name: the generator's kinds
    pool_help = "kinds (default perfect,open; also walls, rooms, borderless)"  # `csp train --pool-mix`'s words
    held_out_mix = None  # the training run's own small evaluation set: the default mix
    study_tiers = {"9x9": ("open", {"size": 9}), "15x15": ("open", {"size": 15}), "30x30 walls": ("walls", {"size": 30})}
    study_grid = 9  # the study trains on 9x9 grids and smaller, and scores on larger ones too
    structure_per_puzzle = False  # one structure serves every maze of a shape
    study_hints = 0.5  # the study's recurrent baselines (HRM, TRM) train with part of the path given in half of the
    # mazes, the curriculum the shipped maze models have (a path is not a local property: on bare mazes only they
    # stall, docs/results/baselines.md)

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

    rating_name = "shortest path (cells)"

    def rating(self, puzzle: maze.Maze, reference: np.ndarray) -> int:
        """The reference path's cells, S and G aside: the steps a wave from G must take to reach S."""
        return int(np.asarray(reference).sum())

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

    def solve_exact(self, puzzles: list, solver: str, time_limit: float | None, workers: int = 2,
                    check_unique: bool = False, streamed: bool = False):
        """One Result per maze, in order, as each is in, from CP-SAT; time_limit None: each maze's size default.
        Any shortest path is the answer, so `check_unique` asks nothing more."""
        from puzzles.maze import oracle

        return oracle.solve_many(puzzles, time_limit, workers=workers)
