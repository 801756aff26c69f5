"""Kakuro: text form and its errors, verification, the CP-SAT oracle, the generator, the task and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_checks import one_line_error

from puzzles.errors import PuzzleError, UserError
from puzzles.kakuro import generator as gen
from puzzles.kakuro import grid, oracle
from puzzles.kakuro.task import KakuroTask

SAMPLE = Path(__file__).resolve().parents[1] / "puzzles" / "data" / "sample.kakuro"

# hand-made, its one answer forced cell by cell: 17 across over 16 down is 9, so 8 beside it, 7 below it, ...
SMALL = """\
#    16\\  23\\  #
\\17  .    .    13\\
\\24  .    .    .
#    \\11  .    .
"""
SMALL_ANSWER = """\
#    16\\  23\\  #
\\17  9    8    13\\
\\24  7    9    8
#    \\11  6    5
"""
SEVERAL = "#  10\\ 10\\\n\\10 . .\n\\10 . .\n"  # a, b / b, a for any a + b = 10
NONE = "#  3\\ 3\\\n\\3 . .\n\\17 . .\n"  # the columns need digits under 3, the second row 8 and 9



# ---------------------------------------------------------------- text form


def test_every_token_kind_parses_and_round_trips():
    k = grid.parse("#   #     16\\ 7\\\n#   10\\12 .   .\n\\23 .     3   .\n\\6  .     .   #\n")
    assert k.shape == (4, 4)
    assert k.white.tolist() == [[False] * 4, [False, False, True, True], [False, True, True, True],
                                [False, True, True, False]]
    assert k.digits[2].tolist() == [0, 0, 3, 0]
    assert (k.down[0].tolist(), k.down[1].tolist(), k.across[1].tolist()) == ([0, 0, 16, 7], [0, 10, 0, 0], [0, 12, 0, 0])
    tokens = grid.tokens(k)
    assert (tokens[0][0], tokens[0][2], tokens[1][1], tokens[2][0], tokens[2][1], tokens[2][2]) == (
        "#", "16\\", "10\\12", "\\23", ".", "3")
    assert [len(run.cells) for run in k.runs] == [2, 3, 2, 2, 3, 2]
    assert grid.parse(grid.to_text(k)) == k


def test_read_text_skips_comments_and_splits_on_blank_lines():
    text = "% two puzzles\n" + SMALL + "\n\n  \n% the second\n" + NONE
    puzzles = grid.read_text(text, "t.kakuro")
    assert len(puzzles) == 2
    assert puzzles[1].source == "t.kakuro: puzzle 2 (line 10)"
    assert grid.read_text(grid.write_text(puzzles)) == puzzles
    with pytest.raises(PuzzleError, match="no puzzles found"):
        grid.read_text("% only a comment\n\n", "e.kakuro")


@pytest.mark.parametrize("text, why", [
    ("#  3\\\n\\3 x\n", "bad cell 'x' at row 2, col 2"),
    ("#  3\\\n\\3 0\n", "bad cell '0'"),
    ("#  3/\n\\3 .\n", "with a backslash"),
    ("#  \\\n\\3 .\n", "has no sum"),
    ("#  46\\\n\\3 .\n", "not 1-45"),
    ("#  3\\ 4\\\n\\3 . .\n\\4 .\n", "row 3 has 2 cells, row 1 has 3"),
    ("#  18\\ 4\\\n\\7 . .\n\\11 . .\n", "down sum 18 at row 1, col 2 cannot be met: 2 different digits add up to 3-17"),
    ("#  3\\ 2\\\n\\3 . .\n\\3 . .\n", "down sum 2 at row 1, col 3 cannot be met"),
    ("#  3\\ 4\\\n\\3 . .\n#  . .\n", "across run row 3, col 2 to row 3, col 3 has no clue"),
    (". .\n", "has no clue"),
    ("#  3\\ 4\\\n\\3 . .\n\\4 . .\n\\5 # #\n", "across sum 5 at row 4, col 1 has no run to its right"),
    ("#  3\\5 4\\\n\\3 . .\n\\4 . .\n", "across sum 5 at row 1, col 2 has no run"),
    ("#  3\\ 4\\\n\\3 . .\n4\\ . .\n", "across run row 3, col 2 to row 3, col 3 has no clue"),
    ("# " + " ".join(["3\\"] * 10) + "\n\\45 " + " ".join(["."] * 10) + "\n", "has 10 cells; a run has at most 9"),
    ("#  3\\ 4\\\n\\3 1 1\n\\4 . .\n", "row 2, col 2 and row 2, col 3 are both 1 in the across run"),
    ("# #\n# #\n", "no white cells"),
])
def test_bad_puzzles_are_one_user_error_naming_the_puzzle(text, why):
    with pytest.raises(UserError) as e:
        grid.read_text(SMALL + "\n" + text, "bad.kakuro")
    message = str(e.value)
    assert message.startswith("bad.kakuro: puzzle 2 (line 6): ") and why in message, message
    assert "\n" not in message


# ---------------------------------------------------------------- verification


def test_verify_accepts_the_answer_and_names_what_is_wrong():
    k = grid.parse(SMALL)
    answer = grid.parse(SMALL_ANSWER).digits
    assert grid.verify(k, answer) is None
    cases = [
        ((1, 1), 7, "adds up to"),  # 7 + 9 = 16, not 17
        ((2, 3), 9, "repeats a digit"),
        ((3, 2), 0, "is not filled"),
    ]
    for cell, digit, why in cases:
        wrong = answer.copy()
        wrong[cell] = digit
        assert why in grid.verify(k, wrong)
    assert "shape" in grid.verify(k, answer[:3])
    digits = k.digits.copy()
    digits[2, 1] = 9  # a given the answer does not keep
    assert "was changed" in grid.verify(k.with_digits(digits), answer)


# ---------------------------------------------------------------- oracle


def test_domains_narrow_by_run_length_and_sum():
    assert oracle.digits_for(2, 3) == {1, 2}
    assert oracle.digits_for(2, 17) == {8, 9}
    assert oracle.digits_for(3, 7, frozenset({1})) == set()  # 1 + 2 + 4 is the only set, and 1 is taken
    assert oracle.domains(grid.parse(NONE))[(2, 1)] == set()


def test_oracle_solves_a_hand_made_puzzle():
    r = oracle.solve(grid.parse(SMALL))
    assert r.solved and r.verified and r.error is None
    assert grid.parse(r.solution) == grid.parse(SMALL_ANSWER)
    assert r.task == "kakuro" and r.solver == "cpsat"


def test_oracle_reports_no_solution_and_several_solutions_as_sudoku_does():
    from puzzles.result import NO_SOLUTION, SEVERAL_SOLUTIONS

    none = oracle.solve(grid.parse(NONE))
    assert not none.solved and none.error == NO_SOLUTION == "no solution" and none.solution is None
    several = oracle.solve(grid.parse(SEVERAL))
    assert not several.solved and several.error == SEVERAL_SOLUTIONS == "more than one solution"
    assert several.solution is None
    first = oracle.solve(grid.parse(SEVERAL), check_unique=False)
    assert first.solved and grid.verify(grid.parse(SEVERAL), grid.parse(first.solution).digits) is None
    assert oracle.count(grid.parse(SEVERAL))[0] == 2 and oracle.count(grid.parse(NONE))[0] == 0
    with pytest.raises(UserError, match="time limit must be positive"):
        oracle.solve(grid.parse(SMALL), time_limit=0)


def test_solve_many_keeps_order_with_workers():
    puzzles = [grid.parse(t) for t in (SMALL, NONE, SEVERAL, SMALL)]
    results = list(oracle.solve_many(puzzles, workers=2))
    assert [r.error for r in results] == [None, "no solution", "more than one solution", None]


# ---------------------------------------------------------------- generator


@pytest.mark.parametrize("rows, cols, seed", [(6, 6, 0), (8, 11, 1), (12, 9, 2)])
def test_generated_puzzles_round_trip_solve_and_are_unique(rows, cols, seed):
    made = list(gen.generate(rows, cols, 2, seed))
    assert len(made) == 2
    for k, solution in made:
        assert k.shape == (rows, cols)
        assert not k.white[0].any() and not k.white[:, 0].any()  # the clue row and column count in the size
        assert all(2 <= len(run.cells) <= 9 for run in k.runs)
        assert grid.verify(k, solution) is None
        back = grid.read_text(grid.write_text([k]))[0]
        assert back == k
        r = oracle.solve(back)  # checks uniqueness
        assert r.solved, r.error
        assert np.array_equal(grid.parse(r.solution).digits, solution)


def test_generator_is_deterministic_and_prefix_stable():
    two = [grid.to_text(k) for k, _ in gen.generate(6, 7, 2, seed=5)]
    assert [grid.to_text(k) for k, _ in gen.generate(6, 7, 1, seed=5)] == two[:1]
    assert [grid.to_text(k) for k, _ in gen.generate(6, 7, 2, seed=5)] == two
    assert two[0] != grid.to_text(next(gen.generate(6, 7, 1, seed=6))[0])


def test_generator_refuses_sizes_out_of_range():
    for rows, cols in ((3, 8), (8, gen.MAX_SIDE + 1)):
        with pytest.raises(UserError, match="the clue row and column included"):
            gen.generate(rows, cols, 1)


# ---------------------------------------------------------------- task


def test_task_generates_references_scores_and_screens():
    task = KakuroTask()
    puzzles, solutions = task.generate("kakuro", 2, {"rows": 6, "cols": 8}, 3)
    assert [task.shape_of(p) for p in puzzles] == [(6, 8), (6, 8)]
    for p, s in zip(puzzles, solutions):
        assert np.array_equal(task.reference(p, "here"), s)
        assert task.check(p, s) is None and task.screen(p, unique=True) is None
        right, of = task.score(p, s, s)
        assert right == of == int((p.white & (p.digits == 0)).sum())
        assert task.score(p, s, None) == (0, of)
        assert np.array_equal(task.answer(grid.to_text(p.with_digits(s))), s)
    several, none = grid.parse(SEVERAL), grid.parse(NONE)
    assert task.screen(several, unique=True) == "more than one solution"
    assert task.screen(none, unique=True) == task.explain(none) == "no solution"
    with pytest.raises(UserError, match="more than one solution"):
        task.reference(several, "x.kakuro: puzzle 1")
    for kind, options, why in (("big", {}, "unknown Kakuro generator kind"), ("kakuro", {"k": 1}, "option"),
                               ("kakuro", {"size": 6, "rows": 6}, "not two of them")):
        with pytest.raises(UserError, match=why):
            task.generate(kind, 1, options, 0)


def test_sample_file_has_three_sizes_each_with_one_solution():
    puzzles, known = KakuroTask().read_file(str(SAMPLE))
    assert len(puzzles) == 3 and known == [None] * 3
    assert len({p.shape for p in puzzles}) == 3
    assert all(r.solved for r in oracle.solve_many(puzzles, workers=1))


# ---------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def cli():
    from typer.testing import CliRunner

    from cli.app import app

    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(app, list(args), input=input)


def test_cli_solves_the_sample_and_prints_the_answers(cli):
    r = cli("solve", "kakuro", str(SAMPLE))
    assert r.exit_code == 0, r.output
    assert r.stdout.count("solved (verified)") == 3
    r = cli("solve", "kakuro", "-", input=SMALL)
    assert r.exit_code == 0, r.output
    assert grid.parse(r.stdout.split("solved")[0]) == grid.parse(SMALL_ANSWER)


def test_cli_json_one_object_per_puzzle(cli, tmp_path):
    path = tmp_path / "three.kakuro"
    path.write_text(SMALL + "\n" + NONE + "\n" + SEVERAL)
    r = cli("solve", "kakuro", str(path), "--json", "--solver", "cpsat", "--time-limit", "5")
    assert r.exit_code == 1, r.output
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [rec["solved"] for rec in records] == [True, False, False]
    assert [rec.get("error") for rec in records] == [None, "no solution", "more than one solution"]
    assert grid.parse(records[0]["solution"]) == grid.parse(SMALL_ANSWER)
    assert records[1]["source"] == f"{path}: puzzle 2 (line 6)"


def test_cli_generate_then_solve_round_trip(cli, tmp_path):
    path = tmp_path / "made.kakuro"
    r = cli("generate", "kakuro", "--size", "7x9", "-n", "3", "--seed", "4", "-o", str(path))
    assert r.exit_code == 0, r.output
    assert "wrote 3 Kakuro puzzles" in r.stderr
    assert grid.read_file(path) == [k for k, _ in gen.generate(7, 9, 3, 4)]
    answers = tmp_path / "answers.kakuro"
    r = cli("solve", "kakuro", str(path), "-o", str(answers))  # the answers go to the file, the summary to stdout
    assert r.exit_code == 0, r.output
    assert "wrote 3 answers" in r.stderr and "kakuro · hybrid" in r.stdout  # the default: the shipped model orders a search
    solved = grid.read_file(answers)
    assert all(grid.verify(k, a.digits) is None for k, a in zip(grid.read_file(path), solved))
    r = cli("generate", "kakuro", "--size", "6", "--seed", "4")
    assert r.exit_code == 0 and grid.parse(r.stdout).shape == (6, 6)


@pytest.mark.parametrize("args, input, why", [
    (("solve", "kakuro", "-"), "#  3\\\n\\3 x\n", "bad cell 'x' at row 2, col 2"),
    (("solve", "kakuro", "-"), "#  18\\ 4\\\n\\7 . .\n\\11 . .\n", "cannot be met"),
    (("solve", "kakuro", "/no/such.kakuro"), None, "no such file"),
    (("solve", "kakuro", "-", "--solver", "hrm"), SMALL, "no shipped hrm checkpoint for kakuro"),
    (("solve", "kakuro", "-", "--solver", "ar"), SMALL, "ar writes cells in an order of rows and columns"),
    (("solve", "kakuro", "-", "--solver", "magic"), SMALL, "unknown solver 'magic'"),
    (("solve", "kakuro", "-", "--time-limit", "0"), SMALL, "--time-limit must be positive"),
    (("generate", "kakuro", "--size", "ten"), None, "--size must be RxC"),
    (("generate", "kakuro", "--size", "3x8"), None, "must be 4 to"),
])
def test_cli_bad_input_is_one_line_and_exit_2(cli, args, input, why):
    line = one_line_error(cli(*args, input=input))
    assert why in line, line


def test_cli_bench_runs_the_shipped_model_and_the_oracle(cli):
    r = cli("bench", "--task", "kakuro", "--puzzles", "gen:kakuro:3:size=6:seed=1", "--json")
    assert r.exit_code == 0, r.output
    rows = {row["solver"]: row for row in json.loads(r.stdout)}
    assert set(rows) == {"loopmdm", "cpsat"} and rows["cpsat"]["solved"] == 3 and rows["cpsat"]["cell_accuracy"] == 1.0
    assert rows["loopmdm"]["solved"] <= 3  # the model's answers count only once verified
    # a model kind with nothing shipped for Kakuro is asked for before any display, as --checkpoints
    error = one_line_error(cli("bench", "--task", "kakuro", "--puzzles", str(SAMPLE), "--solvers", "hrm"))
    assert "no shipped hrm checkpoint" in error and "--checkpoints DIR" in error


def test_a_generated_set_of_mixed_sizes_draws_each_side_from_its_own_stream():
    task = KakuroTask()
    mixed, solutions = task.generate("kakuro", 6, {"min_size": 6, "max_size": 8}, 3)
    assert {k.shape[0] for k in mixed} <= {6, 7, 8} and all(k.shape[0] == k.shape[1] for k in mixed)
    assert all(task.check(k, s) is None for k, s in zip(mixed, solutions))
    first, _ = task.generate("kakuro", 2, {"min_size": 6, "max_size": 8}, 3)
    assert [task.to_text(k) for k in first] == [task.to_text(k) for k in mixed[:2]]  # a longer set starts the same
    for options in ({"min_size": 6}, {"min_size": 6, "max_size": 8, "size": 7}, {"min_size": 9, "max_size": 8}):
        with pytest.raises(UserError):
            task.generate("kakuro", 1, options, 3)
