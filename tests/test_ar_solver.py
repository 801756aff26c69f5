"""AR-solver (Shah et al. 2024): the steps it learns (a maze's walk from S to G), causal over its steps, and its
decoding, which fills each free cell once with a legal value."""

from __future__ import annotations

import numpy as np
import torch
from helpers import TINY

from csp_diffusion.ar_solver import ARSolver, ARSolverConfig
from csp_diffusion.decoders import ARSolverDecoder
from csp_diffusion.sampler import SamplerConfig
from puzzles import maze
from puzzles.maze.task import MazeTask
from puzzles.sudoku.task import SudokuTask


def test_maze_steps_are_the_walk_from_start_to_goal():
    task = MazeTask()
    m = maze.solve(maze.perfect(9, 9, np.random.default_rng(0)))
    puzzle, shape = task.encode(m)
    side = shape[0]
    solution = np.where(maze.path_mask(m).reshape(-1), task.ON, np.where(puzzle > 0, puzzle, task.OFF))
    cells, values = task.solver_steps(puzzle[None], solution[None])
    walk = [int(c) for c in cells[0] if c >= 0]
    assert set(walk) == set(np.flatnonzero(maze.path_mask(m).reshape(-1)).tolist())
    assert (values[0][: len(walk)] == task.ON).all()
    route = [m.start[0] * side + m.start[1], *walk, m.goal[0] * side + m.goal[1]]
    assert all(abs(a // side - b // side) + abs(a % side - b % side) == 1 for a, b in zip(route, route[1:]))


def test_ar_solver_is_causal_over_steps_and_never_picks_a_given():
    torch.manual_seed(0)
    task = SudokuTask()
    model = ARSolver(ARSolverConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    p, s = task.make_pool(1, seed=0, workers=1, mix=("hard",))
    cells, values = task.solver_steps(p.astype(np.int64), s.astype(np.int64))
    puzzle, cells, values = (torch.as_tensor(a, dtype=torch.long) for a in (p, cells[:, :20], values[:, :20]))
    positions = torch.as_tensor(task.structure().positions)
    a = model(puzzle, cells, values, positions)
    changed = values.clone()
    changed[0, 10:] = changed[0, 10:] % 9 + 1
    b = model(puzzle, cells, changed, positions)
    assert torch.allclose(a[0, :11], b[0, :11], atol=1e-5) and not torch.allclose(a[0, 11:], b[0, 11:])
    given = (puzzle[0] > 0).repeat_interleave(9)
    assert torch.isinf(a[0, :, :-1][:, given]).all() and torch.isfinite(a[0, :, :-1][:, ~given]).all()


def test_ar_solver_decoding_fills_each_cell_once_with_legal_values():
    torch.manual_seed(0)
    task = SudokuTask()
    model = ARSolver(ARSolverConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    puzzles = task.make_pool(2, seed=0, workers=1, mix=("hard",))[0]
    out = ARSolverDecoder(model, task, SamplerConfig(rules=True), torch.device("cpu")).solve(puzzles)
    for o, p in zip(out, puzzles):
        assert o.steps == (p == 0).sum() and (o.values[p > 0] == p[p > 0]).all()
        assert o.verified == task.verify(p, o.values)
        # inference FLOPs: pass t runs the puzzle and t + 1 slots, the pointer on the last slot only
        assert o.extra["flops"] == sum(model.flops(0, 81, steps=t + 1, last=True) for t in range(o.steps))
        assert model.flops(0, 81, steps=5, last=True) < model.flops(0, 81, steps=5) < model.flops(0, 81)


def test_ar_solver_last_slot_alone_matches_the_full_forward():
    torch.manual_seed(0)
    task = SudokuTask()
    model = ARSolver(ARSolverConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    p, s = task.make_pool(2, seed=0, workers=1, mix=("hard",))
    cells, values = (torch.as_tensor(a[:, :7]) for a in task.solver_steps(p.astype(np.int64), s.astype(np.int64)))
    positions = torch.as_tensor(task.structure().positions)
    puzzle = torch.as_tensor(p, dtype=torch.long)
    full, last = model(puzzle, cells, values, positions), model(puzzle, cells, values, positions, last=True)
    assert last.shape[1] == 1 and torch.allclose(full[:, -1:], last, atol=1e-5)
