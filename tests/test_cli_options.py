"""The CLI's shared options: help made from the library's facts, startup without torch, bench's checks."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from cli_checks import one_line_error
from typer.testing import CliRunner

from cli.app import app
from puzzles.domains import TASKS, get_task

ROOT = Path(__file__).resolve().parents[1]
P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
runner = CliRunner()
NEURAL_HELP = [["solve", "sudoku"], ["solve", "maze"], ["bench"], ["compare"], ["train", "loopmdm"]]




@pytest.mark.parametrize("command", NEURAL_HELP, ids=" ".join)
def test_help_is_filled_from_the_library_and_quotes_no_measurement(command):
    r = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    text = "\n".join(line for line in r.stdout.splitlines() if "Usage:" not in line)  # click writes {file} there
    assert "{" not in text and "}" not in text  # every field filled in
    measured = re.search(r"\d+(\.\d+)?\s*%|puzzles/s|\d\+", text.replace("95% CI", "CI"))  # a level, not a result
    assert measured is None, text


@pytest.mark.parametrize("command, task", [(["solve", "sudoku"], "sudoku"), (["solve", "maze"], "maze")])
def test_solver_help_lists_the_registry(command, task):
    from csp_diffusion import bench, models

    out = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"}).stdout
    assert f"Solver: {', '.join(bench.solvers(get_task(task)))} (default {models.DEFAULT})" in out


def test_train_has_one_command_per_model_kind_with_train_configs_defaults():
    import typer

    from csp_diffusion import models
    from csp_diffusion.train import TrainConfig

    group = typer.main.get_command(app)
    ctx = group.make_context("csp", ["train"], resilient_parsing=True)
    train = group.get_command(ctx, "train")
    assert train.list_commands(ctx) == list(models.MODELS)
    defaults = {p.name: p.default for p in train.get_command(ctx, "hrm").params}
    config = {f.name: f.default for f in fields(TrainConfig)}
    assert (defaults["batch_size"], defaults["lr"], defaults["pool_size"], defaults["eval_every"]) == (
        config["batch_size"], config["lr"], config["pool_size"], config["eval_every_minutes"])


@pytest.mark.parametrize("argv", [["--help"], ["solve", "--help"], ["solve", "sudoku", P1, "--solver", "cpsat"],
                                  ["generate", "maze", "-n", "1"]], ids=" ".join)
def test_commands_without_a_model_never_import_torch(argv):
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom cli.app import app\n"
            f"r = CliRunner().invoke(app, {argv!r})\nassert r.exit_code == 0, r.output\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_bench_names_an_unknown_task():
    line = one_line_error(runner.invoke(app, ["bench", "--task", "chess", "--puzzles", "gen:hard:2"]))
    assert line == f"error: unknown task 'chess'; choose from {', '.join(TASKS)}"


@pytest.mark.parametrize("solvers", [",", " , ", ""])
def test_bench_needs_a_solver_name(solvers):
    line = one_line_error(runner.invoke(app, ["bench", "--puzzles", "gen:hard:2", "--solvers", solvers]))
    from csp_diffusion.bench import solvers as names

    choices = ", ".join(names(get_task("sudoku")))
    assert choices.startswith("loopmdm, ar, ar-solver, hrm, trm, ") and choices.endswith("hybrid, cpsat, constraint")
    assert line == f"error: --solvers names no solver; choose from {choices}"


@pytest.mark.parametrize("args, message", [
    (["solve", "maze", "-", "--solver", "cpsat", "--time-limit", "0"], "error: --time-limit must be positive, got 0"),
    (["bench", "--puzzles", "gen:hard:2", "--solvers", "cpsat", "--limit", "0"], "error: --limit must be at least 1, got 0"),
    (["bench", "--puzzles", "gen:hard:2", "--loops", "0"], "error: --loops must be at least 1, got 0"),
    (["generate", "maze", "-n", "0"], "error: -n must be at least 1, got 0"),
    (["compare", "--task", "chess"], "error: unknown task 'chess'; choose from sudoku, maze, kakuro"),
])
def test_shared_checks_are_one_line_everywhere(args, message):
    assert one_line_error(runner.invoke(app, args, input="S G\n")) == message


@pytest.mark.parametrize("verb", ["solve", "generate"])
@pytest.mark.parametrize("kind", list(TASKS))
def test_every_registered_kind_has_its_commands_with_its_own_examples(verb, kind):
    """`csp solve KIND` and `csp generate KIND` are made from the registry (cli/solve.py, cli/generate.py): every
    kind has both, and its help shows its own examples."""
    r = runner.invoke(app, [verb, kind, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert f"csp {verb} {kind} " in r.stdout
