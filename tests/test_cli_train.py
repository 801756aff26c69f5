"""`csp train` keeps runs safe: it never overwrites one by accident and checkpoints as often as asked."""

from __future__ import annotations

import json

import numpy as np
from helpers import TINY_LOOPMDM, as_options
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()
TINY_RUN = ["--task", "sudoku", "--batch-size", "4", "--pool-size", "16", *as_options(TINY_LOOPMDM)]


def test_a_folder_holding_a_run_is_refused_without_resume_or_force(tmp_path):
    out = str(tmp_path / "run")
    assert runner.invoke(app, ["train", "loopmdm", *TINY_RUN, "--steps", "2", "--out", out]).exit_code == 0
    r = runner.invoke(app, ["train", "loopmdm", *TINY_RUN, "--steps", "2", "--out", out])
    assert r.exit_code == 2
    assert "holds a run at step 2: --resume to continue, --force to start over" in r.stderr
    assert runner.invoke(app, ["train", "loopmdm", *TINY_RUN, "--steps", "1", "--out", out, "--force"]).exit_code == 0


def test_checkpoint_every_takes_steps_or_minutes(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["train", "loopmdm", *TINY_RUN, "--steps", "5", "--out", str(out), "--checkpoint-every", "2steps"])
    assert r.exit_code == 0, r.output
    events = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "checkpoint"][:3] == [1, 3, 5]
    bad = runner.invoke(app, ["train", "loopmdm", *TINY_RUN, "--out", str(tmp_path / "x"), "--checkpoint-every", "often"])
    assert bad.exit_code == 2 and "--checkpoint-every takes minutes (3) or steps (200steps), got 'often'" in bad.stderr


def test_pool_mix_makes_a_pool_of_those_generators_and_refuses_unknown_ones(tmp_path, tmp_path_factory):
    from puzzles import sudoku
    from puzzles.sudoku.search import singles_guesses

    out = tmp_path / "run"
    r = runner.invoke(app, ["train", "loopmdm", *TINY_RUN, "--steps", "1", "--out", str(out), "--set", "own_commits=0.5",
                            "--pool-mix", "fiendish"])
    assert r.exit_code == 0, r.output
    (pool,) = (tmp_path_factory.getbasetemp() / "cache").glob("sudoku-pool-16-seed0-fiendish-v3.npz")
    with np.load(pool) as z:
        assert all(singles_guesses(p, s) >= sudoku.FIENDISH for p, s in zip(z["puzzles"], z["solutions"]))
    bad = runner.invoke(app, ["train", "loopmdm", *TINY_RUN, "--out", str(tmp_path / "x"), "--pool-mix", "brutal"])
    assert bad.exit_code == 2 and "unknown pool generator brutal; choose from easy" in bad.stderr
    bad = runner.invoke(app, ["train", "loopmdm", "--task", "maze", "--out", str(tmp_path / "y"), "--pool-mix", "hard"])
    assert bad.exit_code == 2 and "unknown pool generator hard; choose from perfect, open, walls" in bad.stderr


def test_own_commits_is_refused_where_a_trace_objective_would_ignore_it(tmp_path):
    r = runner.invoke(app, ["train", "loopmdm", "--task", "maze", "--out", str(tmp_path / "m"), "--set", "own_commits=0.5"])
    assert r.exit_code == 2 and "own_commits trains the plain objective" in r.stderr
