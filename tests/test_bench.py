"""`csp bench`: puzzle sets from files and generator specs, per-solver rows, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.app import app
from csp_diffusion import bench as b
from puzzles.domains import get_task
from puzzles.errors import UserError

runner = CliRunner()


def test_wilson_interval_brackets_the_rate():
    lo, hi = b.wilson(8, 10)
    assert lo < 0.8 < hi and 0 <= lo and hi <= 1
    assert b.wilson(0, 10)[0] == 0.0 and b.wilson(10, 10)[1] == 1.0
    assert b.wilson(500, 1000)[1] - b.wilson(500, 1000)[0] < b.wilson(5, 10)[1] - b.wilson(5, 10)[0]


@pytest.mark.parametrize("spec", ["gen:hard", "gen:hard:x", "gen:hard:0", "gen:hard:3:seed=a", "hard:3"])
def test_bad_generator_specs_are_clear_errors(spec, tmp_path):
    with pytest.raises((UserError, FileNotFoundError)):
        b.load(get_task("sudoku"), spec if spec.startswith("gen") else str(tmp_path / spec))


def test_generated_sets_are_reproducible_and_carry_references():
    a = b.load(get_task("maze"), "gen:open:3:size=13:seed=4")
    again = b.load(get_task("maze"), "gen:open:3:size=13:seed=4")
    assert [m == n for m, n in zip(a.puzzles, again.puzzles)] == [True] * 3
    assert all(r is not None and r.any() for r in a.references)


def test_bench_oracles_on_a_generated_sudoku_set_as_json_and_csv(tmp_path):
    out = tmp_path / "rows.csv"
    r = runner.invoke(app, ["bench", "--task", "sudoku", "--puzzles", "gen:easy:4:seed=2", "--solvers", "cpsat,constraint",
                            "--json", "--csv", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["solver"] for row in rows] == ["cpsat", "constraint"]
    for row in rows:
        assert row["puzzles"] == 4 and row["solved"] == 4 and row["cell_accuracy"] == 1.0
        assert row["ci95_low"] < 1.0 == row["ci95_high"]
    assert out.read_text().splitlines()[0].startswith("task,")


def test_bench_counts_sudoku_puzzles_without_one_solution_apart_from_misses(tmp_path):
    f = tmp_path / "p.txt"
    one = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
    none = "12345678." + "." * 36 + "........9" + "." * 27
    f.write_text(one + "\n" + "." * 81 + "\n" + none + "\n")  # the second has many solutions, the third none
    r = runner.invoke(app, ["bench", "--task", "sudoku", "--puzzles", str(f), "--solvers", "cpsat,hybrid", "--json"])
    assert r.exit_code == 0, r.output
    for row in json.loads(r.stdout):  # an oracle that solves the open grid, a guided search told apart before it runs
        assert (row["puzzles"], row["no_solution"], row["solved"], row["solve_rate"]) == (3, 2, 1, 1.0), row
        assert row["cell_accuracy"] == 1.0
    r = runner.invoke(app, ["bench", "--task", "sudoku", "--puzzles", str(f), "--solvers", "cpsat"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "no sol." in r.stdout and "start-up s" in r.stdout
    r = runner.invoke(app, ["bench", "--task", "sudoku", "--puzzles", str(f), "--solvers", "cpsat", "--csv", str(tmp_path)])
    assert r.exit_code == 2 and "is a folder" in r.stderr  # refused before any work


def test_bench_counts_a_maze_without_a_path_apart_from_misses(tmp_path):
    from puzzles import maze as mz

    walled = "#######\n#S#   #\n### # #\n#   #G#\n#######"  # S is walled in
    f = tmp_path / "m.txt"
    f.write_text(mz.to_text(mz.generate(1, 9, seed=3)[0]) + "\n\n" + walled + "\n")
    r = runner.invoke(app, ["bench", "--task", "maze", "--puzzles", str(f), "--solvers", "cpsat", "--json"])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert (row["puzzles"], row["no_solution"], row["solved"], row["solve_rate"]) == (2, 1, 1, 1.0)


def test_a_verified_answer_counts_every_cell_right():
    """An open room has many shortest paths: a verified one that is not the reference's is all right, not 'cells 90%'."""
    from puzzles import maze as mz
    from puzzles.result import Result

    room = mz.parse("#######\n#S    #\n#     #\n#     #\n#    G#\n#######")
    reference = mz.path_mask(room.with_path(mz.shortest_path(room)))
    down_then_along = np.zeros(room.shape, bool)
    for cell in [(2, 1), (3, 1), (4, 1), (4, 2), (4, 3), (4, 4)]:
        down_then_along[cell] = True
    other = room.with_path(down_then_along)
    assert mz.verify(other) is None and not (mz.path_mask(other) == reference).all()
    pset = b.PuzzleSet(get_task("maze"), [room], [reference], "room")
    got = Result("maze", "x", mz.to_text(room), mz.to_text(other), True, 0.1)
    assert b.cell_accuracy(pset, [got]) == 1.0
    missed = Result("maze", "x", mz.to_text(room), mz.to_text(other), False, 0.1)  # the same cells, not verified
    assert b.cell_accuracy(pset, [missed]) < 1.0


def test_throughput_leaves_out_start_up():
    pset = b.load(get_task("sudoku"), "gen:easy:4:seed=2")
    run = b.run("cpsat", pset, {}, 10.0)
    assert run.startup is not None and 0 <= run.startup < run.wall
    row = b.summarize(pset, run)
    assert row["startup_seconds"] == run.startup and row["wall_seconds"] == run.wall
    assert row["puzzles_per_second"] == pytest.approx(4 / (run.wall - run.startup))
    row = b.summarize(pset, b.Run("cpsat", run.results, wall=3.0, startup=2.0))
    assert row["puzzles_per_second"] == pytest.approx(4.0)


def test_bench_unknown_solver_is_one_line():
    r = runner.invoke(app, ["bench", "--task", "maze", "--puzzles", "gen:perfect:2", "--solvers", "constraint"])
    assert r.exit_code == 2 and "unknown solver" in r.stderr and "Traceback" not in r.output


def test_bench_a_neural_solver_with_a_checkpoint_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CSP_CACHE", str(tmp_path / "cache"))
    r = runner.invoke(app, ["train", "hrm", "--task", "maze", "--steps", "1", "--batch-size", "2", "--pool-size", "8",
                            "--out", str(tmp_path / "run"), "--set", "dim=16", "--set", "heads=2"])
    assert r.exit_code == 0, r.output
    (tmp_path / "ck").mkdir()
    (tmp_path / "run" / "model.safetensors").rename(tmp_path / "ck" / "maze-hrm.safetensors")
    r = runner.invoke(app, ["bench", "--task", "maze", "--puzzles", "gen:perfect:3:size=9", "--solvers", "hrm,cpsat",
                            "--checkpoints", str(tmp_path / "ck"), "--steps", "2", "--json"])
    assert r.exit_code == 0, r.output
    hrm, cpsat = json.loads(r.stdout)
    assert hrm["params"] > 0 and hrm["flops_per_puzzle"] > 0 and hrm["mean_steps"] <= 2
    assert cpsat["solved"] == 3 and 0 <= hrm["cell_accuracy"] <= 1


def test_bench_prints_training_flops_and_marks_the_rows_that_are_not_matched():
    from csp_diffusion.bench import mark_matched

    rows = mark_matched([{"train_flops": 7.5e15}, {"train_flops": 7.0e15}, {"train_flops": 1.5e14}, {"train_flops": None}])
    assert [r.get("matched") for r in rows] == [True, True, False, None]
    r = runner.invoke(app, ["bench", "--task", "sudoku", "--puzzles", "gen:easy:2:seed=1", "--solvers", "loopmdm,ar",
                            "--chains", "1", "--steps", "4"])
    assert r.exit_code == 0, r.output
    assert "train FLOPs" in r.stdout and "(not matched)" in r.stdout and "compare architectures only" in r.stdout


def test_maze_generator_specs_take_the_new_kinds_and_their_shares():
    from csp_diffusion.bench import load
    from puzzles.errors import UserError

    pset = load(get_task("maze"), "gen:walls:3:size=20:min_path=30:density=35:seed=1")
    assert len(pset.puzzles) == 3 and all(ref is not None for ref in pset.references)
    assert len(load(get_task("maze"), "gen:rooms:2:size=15:open=100").puzzles) == 2
    with pytest.raises(UserError, match="density= is for walls"):
        load(get_task("maze"), "gen:open:2:density=30")


@pytest.mark.parametrize("task, spec, loopmdm", [("sudoku", "gen:easy:2:seed=1", {"chains": 64, "max_steps": 12}),
                                                 ("maze", "gen:open:2:size=9:seed=1", {"chains": 8, "max_steps": 64})])
def test_each_kind_gets_its_own_decoding_unless_told(task, spec, loopmdm, monkeypatch):
    """LoopMDM's chains and step limit are the task's (SudokuTask.chains, .steps), HRM's its native decoder
    with up to 64 segments in one chain; what the user gives wins. What `csp bench` hands each solver is what
    `csp solve` builds (both through models.sampling_defaults)."""
    seen = {}

    def fake_run(solver, pset, sampler, *args, **kwargs):
        seen[solver] = sampler
        return b.Run(solver, [], 0.0)

    monkeypatch.setattr(b, "run", fake_run)
    monkeypatch.setattr(b, "summarize", lambda pset, run_: {"solver": "x", "train_flops": None})
    base = ["bench", "--task", task, "--puzzles", spec, "--solvers", "loopmdm,hrm", "--json"]
    assert runner.invoke(app, base).exit_code == 0
    assert {k: seen["loopmdm"][k] for k in loopmdm} == loopmdm
    assert (seen["hrm"]["chains"], seen["hrm"]["max_steps"], seen["hrm"]["decoder"]) == (1, 64, "native")
    assert seen["loopmdm"]["decoder"] == "sampler" and seen["loopmdm"]["rules"] is True
    assert runner.invoke(app, [*base, "--chains", "3", "--steps", "5"]).exit_code == 0
    for solver in ("loopmdm", "hrm"):
        assert (seen[solver]["chains"], seen[solver]["max_steps"]) == (3, 5), solver
    assert runner.invoke(app, [*base, "--chains", "3"]).exit_code == 0  # one given, the other still the task's
    assert (seen["loopmdm"]["chains"], seen["loopmdm"]["max_steps"]) == (3, loopmdm["max_steps"])


def test_bench_flops_count_each_puzzles_own_size_and_the_loops_it_ran():
    from csp_diffusion.bench import PuzzleSet, run, summarize
    from puzzles import maze as mz

    mazes = mz.generate(1, 7, seed=1) + mz.generate(1, 13, seed=2)
    refs = [mz.path_mask(mz.solve(m)) for m in mazes]
    pset = PuzzleSet(get_task("maze"), mazes, refs, "two sizes")
    r = run("loopmdm", pset, {"max_steps": 8}, 10.0)
    small, large = (x.extra for x in r.results)
    assert all(x.verified for x in r.results)
    # a trace model stops looping once its answer verifies: far fewer loops than the cap it was planned with
    assert small["loops_run"] < small["loops"] and large["loops_run"] < large["loops"]
    assert large["flops"] > small["flops"] > 0  # each at its own size (was: the first puzzle's, at the cap)
    row = summarize(pset, r)
    assert row["flops_per_puzzle"] == pytest.approx((small["flops"] + large["flops"]) / 2)
