"""The strong baselines of the study: AR-solver (solver-order steps, Shah et al. 2024) and TRM
(recursion with a whole-recursion gradient), and the training-FLOP budget they share."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import TINY

from csp_diffusion import models
from csp_diffusion.ar_solver import ARSolver, ARSolverConfig
from csp_diffusion.decoders import ARSolverDecoder, RecurrentDecoder
from csp_diffusion.network import train_flops
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.train import TrainConfig, train
from csp_diffusion.trm import TRM, TRMConfig
from puzzles import maze, sudoku
from puzzles.domains import MazeTask, SudokuTask
from puzzles.sudoku_search import solver_order


def _candidates(grid: np.ndarray, i: int) -> set[int]:
    r, c = divmod(i, 9)
    peers = {j for j in range(81) if j != i and (j // 9 == r or j % 9 == c or (j // 27, j % 9 // 3) == (i // 27, c // 3))}
    return set(range(1, 10)) - {int(grid[j]) for j in peers}


def test_solver_order_fills_every_blank_once_and_singles_first():
    s = next(iter(sudoku.generate(1, "hard", seed=3, workers=1)))
    order = solver_order(s.givens, s.solution)
    assert sorted(order.tolist()) == np.flatnonzero(s.givens == 0).tolist()
    grid = s.givens.astype(int).copy()
    guesses = 0
    for i in order:
        cands = _candidates(grid, int(i))
        assert s.solution[i] in cands  # every move is consistent with the grid so far
        if len(cands) > 1:
            # not a naked single: then no blank may have had one, and it is a hidden single or a guess
            assert not any(len(_candidates(grid, j)) == 1 for j in np.flatnonzero(grid == 0))
            guesses += 1
        grid[i] = s.solution[i]
    assert (grid == s.solution).all()
    assert guesses < len(order) / 2  # a propagation order, not row-major


def test_solver_order_needs_no_guess_on_a_singles_puzzle():
    easy = next(iter(sudoku.generate(1, "easy", seed=1, workers=1)))
    grid = easy.givens.astype(int).copy()
    for i in solver_order(easy.givens, easy.solution):
        cands = _candidates(grid, int(i))
        hidden = any(sum(1 for j in unit if grid[j] == 0 and easy.solution[i] in _candidates(grid, j)) == 1
                     for unit in _units(int(i)))
        assert len(cands) == 1 or hidden
        grid[i] = easy.solution[i]


def _units(i: int):
    r, c = divmod(i, 9)
    box = [j for j in range(81) if (j // 27, j % 9 // 3) == (i // 27, c // 3)]
    return [range(r * 9, r * 9 + 9), range(c, 81, 9), box]


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


def test_trm_differentiates_the_whole_last_recursion_only():
    """The gradient reaches the state passed in only through the last recursion's first latent update,
    so a state that the no-grad recursions overwrite gets none: with one recursion it gets a gradient,
    with two none (the first runs without a graph)."""
    torch.manual_seed(0)
    task = SudokuTask()
    puzzle = torch.as_tensor(task.make_pool(1, seed=0, workers=1, mix=("hard",))[0], dtype=torch.long)
    positions, graph = torch.as_tensor(task.structure().positions), torch.as_tensor(task.structure().graph)
    for recursions, reaches in ((1, True), (2, False)):
        model = TRM(TRMConfig(**TINY, n=2, recursions=recursions))
        y, z = (t.detach().requires_grad_() for t in model.initial(1, 81))
        _, logits, q = model(puzzle, (y, z), positions, graph)
        logits[torch.isfinite(logits)].sum().backward()
        assert (z.grad is not None and z.grad.abs().sum() > 0) == reaches
        assert q.shape == (1, 2) and (q[:, 1] == 0).all()  # "halt" against a fixed 0: halt when above 0
        forward, differentiated = model.segment_flops(81, 21)
        assert forward == pytest.approx(recursions * (differentiated - 2 * 81 * 32 * 9) + 2 * 81 * 32 * 9)


def test_trm_native_decoder_runs_every_segment_whatever_its_halting_head_says():
    """HRM's and TRM's code evaluates halt_max_steps segments; the halting head acts only in training."""
    model = TRM(TRMConfig(**TINY, n=1, recursions=1)).eval()
    with torch.no_grad():
        model.q_head.bias.fill_(5.0)  # always halt
    task = SudokuTask()
    puzzles = task.make_pool(2, seed=0, workers=1, mix=("hard",))[0]
    out = RecurrentDecoder(model, task, SamplerConfig(max_steps=6), torch.device("cpu")).solve(puzzles)
    assert [o.steps for o in out] == [6, 6]


@pytest.mark.parametrize("kind", ["loopmdm", "ar", "ar-solver", "hrm", "trm"])
def test_a_flop_budget_ends_within_two_percent_and_resumes_to_it(tmp_path, kind):
    """Any kind trains to a FLOP budget (here about 40 steps); a run stopped halfway and resumed ends at the
    same count; the checkpoint's train_flops is what the objectives counted."""
    cfg = dict(task="sudoku", model=kind, model_config=dict(TINY), batch_size=2, pool_size=16, eval_puzzles=0,
               warmup=2, checkpoint_every_steps=5)
    probe = train(TrainConfig(**cfg, steps=3), tmp_path / "probe")
    per_step = models.load(tmp_path / "probe" / "model.safetensors")[1]["info"]["train_flops"] / probe["step"]
    budget = 40 * per_step
    train(TrainConfig(**cfg, flops=budget / 2), tmp_path / "run")
    train(TrainConfig(**cfg, flops=budget), tmp_path / "run", resume=True)
    flops = models.load(tmp_path / "run" / "model.safetensors")[1]["info"]["train_flops"]
    assert abs(flops / budget - 1) < 0.02


def test_train_flops_is_forward_plus_twice_the_differentiated_forward():
    assert train_flops(10.0, 4.0) == 18.0
    assert train_flops(10.0, 10.0) == 30.0  # a model differentiated whole costs three forward passes


def test_solver_names_are_kinds_or_kinds_at_a_budget(tmp_path, monkeypatch):
    from csp_diffusion import solver

    assert models.kind_of("trm") == "trm" and models.kind_of("trm@1e13") == "trm"
    assert models.kind_of("trm@") is None and models.kind_of("magic@1e13") is None and models.kind_of("cpsat") is None
    assert models.kind_of("trm@1e13@x") is None and models.kind_of("trm@big") is None
    monkeypatch.setattr(solver, "SHIPPED", tmp_path)
    for name in ("sudoku-trm@3e12", "sudoku-trm@1e13", "sudoku-loopmdm", "maze-trm@1e13"):
        (tmp_path / f"{name}.safetensors").write_bytes(b"")
    assert solver.shipped_names("sudoku") == ["trm@1e13", "trm@3e12"]
    assert solver.shipped_checkpoint("trm", "sudoku").name == "sudoku-trm@1e13.safetensors"  # the largest budget
    assert solver.shipped_checkpoint("trm@3e12", "sudoku").name == "sudoku-trm@3e12.safetensors"
    assert solver.shipped_checkpoint("loopmdm", "sudoku").name == "sudoku-loopmdm.safetensors"


def test_csp_train_takes_a_flop_budget(tmp_path):
    from typer.testing import CliRunner

    from cli.app import app

    r = CliRunner().invoke(app, ["train", "trm", "--flops", "1e9", "--batch-size", "2", "--pool-size", "8",
                                 "--out", str(tmp_path / "run"), "--set", "dim=16", "--set", "heads=2"],
                           env={"CSP_CACHE": str(tmp_path / "cache")})
    assert r.exit_code == 0, r.output
    flops = models.load(tmp_path / "run" / "model.safetensors")[1]["info"]["train_flops"]
    assert 0.5e9 < flops < 1.5e9
    r = CliRunner().invoke(app, ["train", "trm", "--flops", "0", "--out", str(tmp_path / "other")])
    assert r.exit_code == 2


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


def test_recurrent_models_scale_the_puzzle_and_old_checkpoints_load_unscaled():
    from csp_diffusion.hrm import HRMConfig
    from csp_diffusion.trm import TRMConfig

    assert TRMConfig().scaled_input and HRMConfig().scaled_input
    old = {k: v for k, v in TRMConfig(**TINY).to_dict().items() if k != "scaled_input"}
    assert TRMConfig.from_dict(old).scaled_input is False  # a checkpoint from before the field ran unscaled
    assert HRMConfig.from_dict({**HRMConfig(**TINY).to_dict(), "scaled_input": True}).scaled_input


def test_singles_guesses_counts_the_guesses_a_singles_solver_cannot_avoid():
    from puzzles.sudoku_search import search, singles_guesses

    easy = next(iter(sudoku.generate(1, "easy", seed=1, workers=1)))
    assert singles_guesses(easy.givens, easy.solution) == 0
    # the first forum-hardest puzzle: no single at all from the givens, and guesses all the way down
    hard = np.array([0 if c == "." else int(c) for c in
                     "98.7..6..75..4......3..8.7.8....9.5..3.2..1.....4....6.7...4.3....8..4......1...2"], np.int8)
    solution = search(hard, 1)[2]
    order = solver_order(hard, solution)
    assert singles_guesses(hard, solution) >= 2
    first = int(order[0])
    assert len(_candidates(hard.astype(int), first)) > 1  # no naked single to start from
