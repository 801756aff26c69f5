"""`csp solve sudoku --solver loopmdm` and `csp train loopmdm` through CliRunner, with a tiny trained checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_checks import one_line_error
from helpers import TINY_LOOPMDM, as_options
from typer.testing import CliRunner

from cli.app import app

P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
NO_SOLUTION = "12345678." + "." * 36 + "........9" + "." * 27
TWO = "4.7.698256.2.58947958724316825437169791586432346912758289643571573291684164875293"  # a swappable rectangle
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])




@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    import os

    os.environ["CSP_CACHE"] = str(out / "cache")
    r = run("train", "loopmdm", "--steps", 3, "--batch-size", 8, "--pool-size", 32, "--out", out, *as_options(TINY_LOOPMDM))
    assert r.exit_code == 0, r.output
    assert "trained 3 steps" in r.stdout
    return out / "model.safetensors"


def test_train_writes_a_run_folder(checkpoint):
    run_dir = checkpoint.parent
    assert (run_dir / "state.pt").is_file()
    events = [json.loads(line)["event"] for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert events[0] == "start" and events[-1] == "end" and "checkpoint" in events


def test_train_resume_extends_the_run(checkpoint, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(checkpoint.parent, run_dir)
    r = run("train", "loopmdm", "--steps", 5, "--resume", run_dir)
    assert r.exit_code == 0, r.output
    assert "trained 5 steps" in r.stdout


def test_neural_json_reports_sampler_counters(checkpoint):
    r = run("solve", "sudoku", P1, "--checkpoint", checkpoint, "--steps", 3, "--loops", 2, "--json")
    assert r.exit_code in (0, 1)
    rec = json.loads(r.stdout)
    for key in ("task", "solver", "puzzle", "solution", "solved", "verified", "seconds",
                "steps", "commits", "retractions", "loops", "chains"):
        assert key in rec
    assert rec["solver"] == "loopmdm" and rec["loops"] == 2 and rec["steps"] <= 3
    assert rec["chains"] == 64  # LoopMDM's default on Sudoku (the task's); ar and hrm decode one chain
    if not rec["verified"]:  # an unverified grid is never reported as a solution
        assert rec["solution"] is None and r.exit_code == 1 and len(rec["final"]) == 81


def test_warm_loops_and_time_limit_reach_the_sampler(checkpoint):
    r = run("solve", "sudoku", P1, "--checkpoint", checkpoint, "--chains", 1, "--steps", 50, "--loops", 3,
            "--warm-loops", 1, "--time-limit", 0.001, "--json")
    rec = json.loads(r.stdout)
    assert rec["warm_loops"] == 1 and rec["loops"] == 3
    assert r.exit_code == 1 and not rec["solved"] and rec["timed_out"] and rec["steps"] == 1
    assert rec["error"] == "gave up at the time limit"


def test_no_retract_never_retracts(checkpoint):
    r = run("solve", "sudoku", P1, "--checkpoint", checkpoint, "--steps", 6, "--no-retract", "--json")
    assert json.loads(r.stdout)["retractions"] == 0


def test_file_with_limit_and_chains(checkpoint, tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("\n".join([P1] * 5) + "\n")
    r = run("solve", "sudoku", "--file", f, "--limit", 2, "--chains", 3, "--checkpoint", checkpoint,
            "--steps", 2, "--json")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 2 and all(x["chains"] == 3 for x in lines)
    assert [x["source"] for x in lines] == [f"{f}:1", f"{f}:2"]
    r = run("solve", "sudoku", "--file", f, "--checkpoint", checkpoint, "--steps", 2)
    assert r.exit_code == 1 and "puzzles" in r.stdout


def test_unsolvable_puzzle_is_reported_as_such(checkpoint, tmp_path):
    """Told apart before the model runs (--check-unique, the default) or once it fails the puzzle
    (--no-check-unique), alone or among others in a file."""
    for extra in ([], ["--no-check-unique"]):
        r = run("solve", "sudoku", NO_SOLUTION, "--checkpoint", checkpoint, "--steps", 2, "--json", *extra)
        assert r.exit_code == 1
        assert json.loads(r.stdout)["error"] == "no solution"
    f = tmp_path / "p.txt"
    f.write_text(f"{P1}\n{NO_SOLUTION}\n")
    r = run("solve", "sudoku", "--file", f, "--checkpoint", checkpoint, "--steps", 2, "--spare-after", 0, "--json")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["source"] for x in lines] == [f"{f}:1", f"{f}:2"] and lines[1]["error"] == "no solution"
    assert lines[0]["error"] != "no solution"


def test_no_check_unique_lets_the_model_solve_a_puzzle_with_two_solutions():
    """The shipped model: a puzzle with two solutions is refused by default, before the model runs; with
    --no-check-unique it is solved, any verified answer being a solution."""
    from puzzles import sudoku as sd

    assert sd.count_solutions(sd.parse(TWO), 3) == 2
    r = run("solve", "sudoku", TWO, "--json")
    rec = json.loads(r.stdout)
    assert r.exit_code == 1 and rec["error"] == "more than one solution" and "steps" not in rec
    r = run("solve", "sudoku", TWO, "--no-check-unique", "--json")
    rec = json.loads(r.stdout)
    assert r.exit_code == 0 and rec["solved"] and rec["verified"], rec
    assert sd.verify(sd.parse(TWO), sd.parse(rec["solution"])) is None


def test_spare_after_below_zero_is_one_line(checkpoint):
    r = run("solve", "sudoku", P1, "--checkpoint", checkpoint, "--spare-after", -1)
    assert r.exit_code == 2 and "--spare-after must be at least 0" in r.output


def test_show_draws_steps(checkpoint):
    r = run("solve", "sudoku", P1, "--checkpoint", checkpoint, "--steps", 2, "--show")
    assert r.exit_code in (0, 1)
    assert "step 2" in r.stdout and "retracted" in r.stdout


@pytest.mark.parametrize("content", [b"", b"garbage"])
def test_corrupt_checkpoint_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    line = one_line_error(run("solve", "sudoku", P1, "--checkpoint", bad))
    assert "not a valid model checkpoint" in line


@pytest.mark.parametrize(
    "args, message",
    [
        (["solve", "sudoku", P1, "--checkpoint", "/nonexistent.safetensors"], "no such checkpoint"),
        (["solve", "sudoku", "--file", "x.txt", "--show"], "--show draws one puzzle"),
        (["solve", "sudoku", P1, "--loops", "0"], "--loops must be at least 1"),
        (["solve", "sudoku", P1, "--chains", "0"], "--chains must be at least 1"),
        (["solve", "sudoku", P1, "--warm-loops", "-1"], "--warm-loops must be at least 0"),
        (["train", "loopmdm", "--task", "chess"], "unknown task"),
        (["train", "loopmdm", "--resume", "/nonexistent-run"], "no such training state"),
        (["train", "loopmdm", "--set", "dim"], "--set expects KEY=VALUE"),
        (["train", "loopmdm", "--set", "depth=3", "--steps", "1"], "unknown loopmdm setting(s): depth"),
        (["train", "loopmdm", "--minutes", "-1"], "minutes must be positive"),
        (["train", "loopmdm", "--set", "heads=3", "--steps", "1"], "dim=128 must be a multiple of heads=3"),
        (["train", "loopmdm", "--set", "dim=-4", "--steps", "1"], "dim=-4 must be at least 1"),
        (["solve", "sudoku", P1, "--show", "--json"], "give one of them"),
        (["train", "loopmdm", "--device", "tpu"], "device"),
        (["solve", "sudoku", P1, "--device", "cuda:0"] if not __import__("torch").cuda.is_available()
         else ["solve", "sudoku", P1, "--device", "nonsense"], "device"),
    ],
)
def test_bad_neural_usage_exits_2(args, message):
    assert message in one_line_error(run(*args))
