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


def test_ar_solver_is_causal_over_steps_and_never_picks_a_given_or_written_cell():
    torch.manual_seed(0)
    task = SudokuTask()
    model = ARSolver(ARSolverConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    p, s = task.make_pool(1, seed=0, workers=1, mix=("hard",))
    cells, values = task.solver_steps(p.astype(np.int64), s.astype(np.int64))
    puzzle, cells, values = (torch.as_tensor(a, dtype=torch.long) for a in (p, cells[:, :20], values[:, :20]))
    positions = torch.as_tensor(task.structure().positions)
    a_cells, a_values = model(puzzle, cells, values, positions)
    assert a_cells.shape == (1, 21, 82) and a_values.shape == (1, 20, 9)
    changed = values.clone()
    changed[0, 10:] = changed[0, 10:] % 9 + 1
    b_cells, b_values = model(puzzle, cells, changed, positions)
    # step j's cell is read after step j - 1's value, its value after its own cell: values from step 10 on
    # reach only what is read after them
    for a, b in ((a_cells, b_cells), (a_values, b_values)):
        assert torch.allclose(a[0, :11], b[0, :11], atol=1e-5) and not torch.allclose(a[0, 11:], b[0, 11:])
    given = puzzle[0] > 0
    assert torch.isinf(a_cells[0, :, :-1][:, given]).all() and torch.isfinite(a_cells[0, 0, :-1][~given]).all()
    for j in range(1, 21):  # every cell written before step j is out of step j's reach
        assert torch.isinf(a_cells[0, j, cells[0, :j]]).all()
        if j < 20:
            assert torch.isfinite(a_cells[0, j, cells[0, j]])


def test_a_collapsed_value_head_cannot_hide_behind_the_cell_choice():
    """The value is its own prediction: a model that knows the cell but not the value pays ln 9 a step."""
    torch.manual_seed(0)
    task = SudokuTask()
    model = ARSolver(ARSolverConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    p, s = task.make_pool(2, seed=0, workers=1, mix=("hard",))
    cells, values = (torch.as_tensor(a) for a in task.solver_steps(p.astype(np.int64), s.astype(np.int64)))
    with torch.no_grad():
        model.value_head.weight.zero_()
        model.value_head.bias.zero_()
        _, v = model(torch.as_tensor(p, dtype=torch.long), cells, values, torch.as_tensor(task.structure().positions))
    ok = cells >= 0
    assert abs(torch.nn.functional.cross_entropy(v[ok], values[ok] - 1).item() - np.log(9)) < 1e-5


def test_ar_solver_decoding_fills_each_cell_once_with_legal_values():
    torch.manual_seed(0)
    task = SudokuTask()
    model = ARSolver(ARSolverConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    puzzles = task.make_pool(2, seed=0, workers=1, mix=("hard",))[0]
    out = ARSolverDecoder(model, task, SamplerConfig(rules=True), torch.device("cpu")).solve(puzzles)
    for o, p in zip(out, puzzles):
        assert o.steps == (p == 0).sum() and (o.values[p > 0] == p[p > 0]).all()
        assert o.verified == task.verify(p, o.values)
        # inference FLOPs, every earlier token's keys and values kept: the puzzle once, then per step the pointer
        # and two new tokens
        assert o.extra["flops"] == model.prefix_flops(81) + sum(model.step_flops(81, t) for t in range(o.steps))
        assert o.extra["passes"] == 1 + 2 * o.steps
    assert sum(model.step_flops(81, t) for t in range(60)) < model.flops(0, 81, steps=60)  # cheaper than training's


def test_the_kept_keys_decoding_reads_what_the_teacher_forced_forward_does():
    torch.manual_seed(0)
    task = SudokuTask()
    model = ARSolver(ARSolverConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    p, s = task.make_pool(3, seed=0, workers=1, mix=("hard",))
    cells, values = (torch.as_tensor(a[:, :8]) for a in task.solver_steps(p.astype(np.int64), s.astype(np.int64)))
    positions = torch.as_tensor(task.structure().positions)
    puzzle = torch.as_tensor(p, dtype=torch.long)
    with torch.no_grad():
        cell_logits, value_logits = model(puzzle, cells, values, positions)
        run = model.decoding(puzzle, positions, 8)
        every, some = torch.arange(3), torch.tensor([0, 2])
        for j in range(8):
            rows = every if j < 4 else some  # row 1 stops after four steps: the others go on alone
            assert torch.allclose(run.next_cell(rows), cell_logits[rows, j], atol=1e-4)
            assert torch.allclose(run.next_value(rows, cells[rows, j]), value_logits[rows, j], atol=1e-4)
            run.write(rows, cells[rows, j], values[rows, j])
        assert torch.allclose(run.next_cell(some), cell_logits[some, 8], atol=1e-4)


def test_ar_solver_decodes_a_maze_walk_and_stops_with_the_rest_off_the_path():
    """A maze's steps end with "stop": a row that stops reads no value and is charged the pointer alone."""
    torch.manual_seed(0)
    task = MazeTask()
    m = maze.perfect(9, 9, np.random.default_rng(1))
    puzzle, shape = task.encode(m)
    st = task.structure(shape)
    model = ARSolver(ARSolverConfig(**TINY, n_values=task.n_values, tokens=task.tokens,
                                    position_sizes=(shape[0], shape[1]))).eval()
    with torch.no_grad():
        model.stop.bias.fill_(50.0)  # stop at once
    out = ARSolverDecoder(model, task, SamplerConfig(rules=True), torch.device("cpu")).solve(puzzle[None], shape=shape)[0]
    free = puzzle == 0
    assert out.steps == 0 and (out.values[free] == task.unwritten).all()
    assert out.extra["flops"] == model.prefix_flops(st.positions.shape[0]) + model.pointer_flops(st.positions.shape[0])
    with torch.no_grad():
        model.stop.bias.fill_(-50.0)  # never stop: every free cell written once
    out = ARSolverDecoder(model, task, SamplerConfig(rules=True), torch.device("cpu")).solve(puzzle[None], shape=shape)[0]
    assert out.steps == free.sum() and set(np.unique(out.values[free])) <= {task.ON, task.OFF}
