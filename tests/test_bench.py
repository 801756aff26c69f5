"""`csp bench`: puzzle sets from files and generator specs, per-solver rows, errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.app import app
from csp_diffusion import bench as b
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
        b.load("sudoku", spec if spec.startswith("gen") else str(tmp_path / spec))


def test_generated_sets_are_reproducible_and_carry_references():
    a = b.load("maze", "gen:open:3:size=13:seed=4")
    again = b.load("maze", "gen:open:3:size=13:seed=4")
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


def test_bench_refuses_sudoku_files_with_a_puzzle_that_has_not_one_solution(tmp_path):
    f = tmp_path / "p.txt"
    one = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
    f.write_text(one + "\n" + "." * 81 + "\n")  # the second has many solutions
    r = runner.invoke(app, ["bench", "--task", "sudoku", "--puzzles", str(f), "--solvers", "cpsat"])
    assert r.exit_code == 2 and "puzzle 2 has several solutions" in r.stderr and "Traceback" not in r.output
    r = runner.invoke(app, ["bench", "--task", "sudoku", "--puzzles", str(f), "--solvers", "cpsat", "--csv", str(tmp_path)])
    assert r.exit_code == 2 and "is a folder" in r.stderr  # refused before any work


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

    pset = load("maze", "gen:walls:3:size=20:min_path=30:density=35:seed=1")
    assert len(pset.puzzles) == 3 and all(ref is not None for ref in pset.references)
    assert len(load("maze", "gen:rooms:2:size=15:open=100").puzzles) == 2
    with pytest.raises(UserError, match="density= is for walls"):
        load("maze", "gen:open:2:density=30")


@pytest.mark.parametrize("task, spec, loopmdm", [("sudoku", "gen:easy:2:seed=1", {"chains": 64, "max_steps": 12}),
                                                 ("maze", "gen:open:2:size=9:seed=1", {"chains": 8, "max_steps": 64})])
def test_each_kind_gets_its_own_decoding_unless_told(task, spec, loopmdm, monkeypatch):
    """LoopMDM's chains and step limit are the task's (SudokuTask.chains, .steps), HRM's its native decoder's
    16 segments in one chain; what the user gives wins. What `csp bench` hands each solver is what
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
    assert (seen["hrm"]["chains"], seen["hrm"]["max_steps"], seen["hrm"]["decoder"]) == (1, 16, "native")
    assert seen["loopmdm"]["decoder"] == "sampler" and seen["loopmdm"]["rules"] is True
    assert runner.invoke(app, [*base, "--chains", "3", "--steps", "5"]).exit_code == 0
    for solver in ("loopmdm", "hrm"):
        assert (seen[solver]["chains"], seen[solver]["max_steps"]) == (3, 5), solver
    assert runner.invoke(app, [*base, "--chains", "3"]).exit_code == 0  # one given, the other still the task's
    assert (seen["loopmdm"]["chains"], seen["loopmdm"]["max_steps"]) == (3, loopmdm["max_steps"])
