"""Published, human-made Kakuros (experiments/kakuro_human/puzzles.kakuro, provenance in SOURCES.md beside it)
through the CLI: each answer verified, the largest one included."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from puzzles.kakuro import grid

ROOT = Path(__file__).resolve().parents[1]
HUMAN = ROOT / "experiments" / "kakuro_human" / "puzzles.kakuro"


@pytest.fixture(scope="module")
def human():
    return grid.read_file(HUMAN)


def test_the_file_holds_every_size_from_7x7_to_30x30(human):
    assert len(human) == 24
    sizes = {k.shape for k in human}
    assert (7, 7) in sizes and (30, 30) in sizes and (14, 22) in sizes
    assert max(k.white.sum() for k in human) == 456  # the 30x30 one


def test_cli_json_solves_and_verifies_three_human_puzzles(human, tmp_path):
    """The Daily Telegraph 10x10, a Nikoli 14x22 and the largest (30x30), one JSON object each."""
    from typer.testing import CliRunner

    from cli.app import app

    picked = [human[4], human[18], max(human, key=lambda k: k.white.sum())]
    assert [k.shape for k in picked] == [(10, 10), (14, 22), (30, 30)]
    path = tmp_path / "three.kakuro"
    path.write_text(grid.write_text(picked))
    r = CliRunner().invoke(app, ["solve", "kakuro", str(path), "--solver", "cpsat", "--json"])
    assert r.exit_code == 0, r.output
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(records) == 3
    for k, rec in zip(picked, records):
        assert rec["solved"] and rec["verified"], rec.get("error")
        assert grid.parse(rec["puzzle"]) == k
        assert grid.verify(k, grid.parse(rec["solution"]).digits) is None


def test_run_script_checks_the_cli_and_reports_an_unsolvable_puzzle(human, tmp_path):
    spec = importlib.util.spec_from_file_location("kakuro_human_run", HUMAN.with_name("run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    path = tmp_path / "two.kakuro"
    path.write_text(grid.write_text(human[:1]) + "\n#  3\\ 3\\\n\\3 . .\n\\17 . .\n")  # the second: no solution
    out = tmp_path / "human.json"
    assert run.main([str(path), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["checks"] == {"one_json_object_per_puzzle": True, "every_solved_answer_verified": True,
                                "problems": []}
    assert [(p["size"], p["status"], p["verified"]) for p in result["puzzles"]] == [
        ("7x7", "solved", True), ("3x3", "no solution", False)]
