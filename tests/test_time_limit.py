"""--time-limit is per puzzle and holds: each puzzle has its own seconds of work, from when its own work
starts, whatever else shares its batch; exact solvers hold it too."""

from __future__ import annotations

import time

import numpy as np
import torch

from csp_diffusion.network import Network
from csp_diffusion.sampler import Budget, Sampler, SamplerConfig
from puzzles.domains import SudokuTask

PER_ROW = 0.004  # seconds a fake model call costs per grid: a batch's step costs what its grids do


def _inputs(n: int):
    pool = SudokuTask().make_pool(n, seed=0, workers=1, mix=("hard",))
    return np.asarray(pool[0], dtype=np.int64), np.asarray(pool[1], dtype=np.int64)


class _Batch(Network):
    """A fake network that costs PER_ROW seconds per grid, knows the answers of the puzzles in `known` (it
    tells a grid's puzzle by its givens) and is sure of a wrong grid (all 1s) for the others."""

    def __init__(self, puzzles: np.ndarray, solutions: np.ndarray, known: set[int], carries: bool = False):
        super().__init__()
        self.puzzles, self.solutions, self.known = torch.as_tensor(puzzles), torch.as_tensor(solutions), known
        self.carries_state = carries

    def forward(self, values, given, positions, graph, loops, state=None, return_state=False, quiet=None):
        time.sleep(PER_ROW * len(values))
        logits = torch.full((*values.shape, 9), -4.0)
        logits[..., 0] = 4.0
        for r in range(len(values)):
            which = ((self.puzzles * given[r]) == (values[r] * given[r])).all(-1) & (self.puzzles[:, given[r]] > 0).all(-1)
            p = int(which.nonzero()[0]) if which.any() else -1
            if p in self.known:
                logits[r] = -4.0
                logits[r].scatter_(-1, (self.solutions[p] - 1)[:, None], 4.0)
        return (logits, torch.zeros(*values.shape, 1)) if return_state else logits


def test_the_budget_shares_a_step_among_its_grids_by_their_loops():
    b = Budget(1.0, puzzles=2, chains=2)
    b.mark -= 0.4  # 0.4 s of work by rows 0, 1 (puzzle 0) and 2 (puzzle 1), row 2 running twice the loops
    assert not b.charge(np.array([0, 1, 2]), weights=[1, 1, 2]).any()
    assert np.allclose(b.spent, [0.2, 0.2], atol=0.01)
    b.mark -= 2.0
    assert b.charge(np.array([2])).tolist() == [True] and b.out.tolist() == [False, True]
    assert not Budget(0.0, 1).charge(np.array([0])).any()  # no limit: the seconds are counted, nobody stops


def test_a_puzzle_gets_its_own_limit_not_what_the_batch_left_over():
    """Seven of eight puzzles are answered at the first step; the eighth never is. It must stop at its own
    limit (it ran over 7x its limit when the call had a pool of 8 x the limit), and each puzzle's seconds are
    its own share of the steps it ran in."""
    puzzles, solutions = _inputs(8)
    limit = 0.1
    model = _Batch(puzzles, solutions, known=set(range(7)))
    cfg = SamplerConfig(loops=1, max_steps=10_000, time_limit=limit, patience=0)
    start = time.perf_counter()
    out = Sampler(model, SudokuTask(), cfg, torch.device("cpu")).solve(puzzles)
    wall = time.perf_counter() - start
    assert all(o.verified for o in out[:7]) and not out[7].verified and out[7].extra["timed_out"]
    assert limit <= out[7].seconds < limit + 0.1 and wall < 3 * limit + 0.2
    assert out[7].steps < limit / PER_ROW + 5
    assert all(o.seconds < 4 * PER_ROW + 0.05 for o in out[:7])  # an eighth of the first step, not the step


def test_no_puzzle_gets_zero_steps_when_the_first_step_outlasts_the_limit():
    """A model that carries state runs a long step in pieces; the time runs out inside the first piece. Every
    puzzle still gets that step (what its loops so far gave) and is then given up: it got none before."""
    puzzles, solutions = _inputs(3)
    model = _Batch(puzzles, solutions, known=set(), carries=True)
    cfg = SamplerConfig(loops=200, max_steps=10, time_limit=0.001, patience=0, warm_loops=0)
    out = Sampler(model, SudokuTask(), cfg, torch.device("cpu")).solve(puzzles)
    assert all(o.steps == 1 and o.extra["timed_out"] and not o.verified for o in out)
    assert all(0 < o.extra["loops_run"] < 200 for o in out)  # cut between pieces of its loops


def test_a_later_batch_is_not_charged_for_an_earlier_one():
    """NeuralSolver runs a file in batches: the second batch's puzzles have their own time, however long the
    first took."""

    puzzles, solutions = _inputs(4)
    cfg = SamplerConfig(loops=1, max_steps=10_000, time_limit=0.05, patience=0)
    sampler = Sampler(_Batch(puzzles, solutions, known={3}), SudokuTask(), cfg, torch.device("cpu"))
    first = sampler.solve(puzzles[:2])  # neither is known: both run to the limit
    second = sampler.solve(puzzles[2:])
    assert all(o.extra["timed_out"] for o in first)
    assert second[1].verified and second[1].steps == 1 and second[0].steps >= 2


def _room(n: int) -> str:
    """An empty n x n room walled round, S and G in opposite corners: every cell lies on a shortest path."""
    room = "\n".join(["#" * n] + ["#" + " " * (n - 2) + "#"] * (n - 2) + ["#" * n])
    return room.replace(" ", "S", 1)[::-1].replace(" ", "G", 1)[::-1]


def test_cpsat_holds_the_maze_time_limit_while_it_builds_its_model():
    """Building the flow model of a large open room took seconds past a 0.5 s limit (7 s on a 400 x 400
    room with 1 s): the limit covers the building too."""
    from puzzles import maze as mz
    from puzzles.maze.oracle import solve_cpsat

    room = mz.parse(_room(400))
    solve_cpsat(mz.parse(_room(9)), 5)  # OR-tools imported, the BFS compiled: not this maze's time
    start = time.perf_counter()
    r = solve_cpsat(room, time_limit=0.3)
    assert r.error == "time limit" and not r.solved
    assert time.perf_counter() - start < 1.5 and r.seconds < 1.5


def test_a_maze_too_large_for_cpsat_is_refused_up_front_with_the_limit_named(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from cli.app import app
    from puzzles.maze import oracle as maze_oracle

    monkeypatch.setattr(maze_oracle, "MAX_EDGES", 1000)
    f = tmp_path / "room.maze"
    f.write_text(_room(40) + "\n")
    r = CliRunner().invoke(app, ["solve", "maze", str(f), "--solver", "cpsat", "--json", "-t", "1"])
    import json

    row = json.loads(r.stdout)
    assert r.exit_code == 1 and not row["solved"]
    assert row["error"].startswith("too large for the cpsat solver: its shortest paths run over 2,812 edges")
    assert "at most 1,000 (an open room of about 22 x 22 cells)" in row["error"] and "\n" not in row["error"]


def test_a_grid_too_large_for_a_neural_solver_is_refused_with_the_limit_named(monkeypatch):
    from csp_diffusion import solver as solver_module
    from csp_diffusion.solver import NeuralSolver
    from puzzles import maze as mz

    monkeypatch.setattr(solver_module, "MAX_CELLS", 100)
    ns = NeuralSolver("loopmdm", "maze", sampler=SamplerConfig(chains=1, max_steps=2))
    (r,) = ns.solve_screened([mz.parse(_room(11))])
    assert not r.solved
    assert r.error == "a 11x11 grid is too large for a neural solver: 121 cells, and it takes at most 100 (1001 x 1001)"


def test_the_default_time_limit_fits_the_puzzles_size():
    from puzzles.limits import default_time_limit, time_limit

    assert default_time_limit(81) == 10.0 and default_time_limit(15 * 15) == 10.0
    assert abs(default_time_limit(99 * 99) - 294.03) < 1e-9 and abs(default_time_limit(201 * 201) - 1212.03) < 1e-9
    assert time_limit(2.5, 201 * 201) == 2.5 and time_limit(None, 81) == 10.0  # a given limit is the user's


def test_a_plain_maze_solve_gets_its_sizes_limit_and_an_explicit_one_is_kept(tmp_path):
    """`csp solve maze FILE` gave every maze 10 s, so the large ones the model solves given time were given up."""
    import json

    from typer.testing import CliRunner

    from cli.app import app

    f = tmp_path / "room.maze"
    f.write_text(_room(40) + "\n")
    runner = CliRunner()
    r = runner.invoke(app, ["solve", "maze", str(f), "--json", "--chains", "1"])
    row = json.loads(r.stdout)
    assert r.exit_code == 0 and row["verified"] and row["time_limit"] == 0.03 * 40 * 40
    r = runner.invoke(app, ["solve", "maze", str(f), "--json", "--chains", "1", "-t", "30"])
    assert json.loads(r.stdout)["time_limit"] == 30.0
    helped = runner.invoke(app, ["solve", "maze", "--help"], env={"COLUMNS": "300"}).stdout
    assert "the larger of 10 s and 0.03 s a cell" in helped


def test_the_exact_solvers_take_each_puzzles_size_default(monkeypatch):
    from puzzles import maze as mz
    from puzzles.domains import get_task
    from puzzles.maze import oracle as maze_oracle

    seen = []
    monkeypatch.setattr(maze_oracle, "solve_cpsat", lambda m, limit: seen.append(limit))
    list(get_task("maze").solve_exact([mz.parse(_room(9)), mz.parse(_room(100))], "cpsat", None, workers=1))
    assert seen == [10.0, 300.0]
    seen.clear()
    list(get_task("maze").solve_exact([mz.parse(_room(100))], "cpsat", 2.0, workers=1))
    assert seen == [2.0]


def test_bench_with_steps_is_a_budget_in_steps_and_every_row_says_its_budget():
    """`csp bench --steps N`: the neural rows run N model calls per chain and no time limit cuts them short, so
    what they solve does not depend on the machine's load; each row records its budget."""
    import json

    from typer.testing import CliRunner

    from cli.app import app

    runner = CliRunner()
    spec = ["bench", "--puzzles", "gen:hard:3:seed=1", "--solvers", "loopmdm,cpsat", "--chains", "2", "--json"]
    r = runner.invoke(app, [*spec, "--steps", "2"])
    assert r.exit_code == 0, r.output
    neural, exact = json.loads(r.stdout)
    assert (neural["budget"], neural["max_steps"], neural["time_limit"], neural["timed_out"]) == ("steps", 2, 0.0, 0)
    assert (exact["budget"], exact["max_steps"], exact["time_limit"]) == ("time", None, None)  # auto: size default
    r = runner.invoke(app, [*spec, "--steps", "2", "--time-limit", "1e-9"])
    neural, exact = json.loads(r.stdout)
    assert neural["budget"] == "steps and time" and neural["time_limit"] == 1e-9
    assert neural["timed_out"] == 3 - neural["solved"] >= 1  # each had its first step: some answered in it
    assert exact["time_limit"] == 1e-9 and exact["timed_out"] == 3
    r = runner.invoke(app, [*spec[:-1], "--steps", "2", "--time-limit", "1e-9"], env={"COLUMNS": "300"})
    assert f"loopmdm: {neural['timed_out']} puzzle(s) given up at the time limit before the step limit" in r.stdout
    assert "2 steps, 1e-09 s" in r.stdout


def test_a_decoder_whose_model_calls_are_fixed_records_no_step_limit():
    """AR writes one cell a call and argmax makes one call, whatever --steps says: their rows say so (max_steps
    None, 'fixed') instead of a step limit they never read."""
    import json

    from typer.testing import CliRunner

    from cli.app import app

    r = CliRunner().invoke(app, ["bench", "--puzzles", "gen:hard:2:seed=1", "--solvers", "ar,hrm", "--steps", "2",
                                 "--json"])
    ar, hrm = json.loads(r.stdout)
    assert (ar["budget"], ar["max_steps"], ar["time_limit"]) == ("steps", None, 0.0)
    assert (hrm["budget"], hrm["max_steps"]) == ("steps", 2)
