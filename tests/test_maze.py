"""Mazes: text form, errors, generators, BFS vs CP-SAT, verification, symmetries, CLI."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from puzzles import maze as mz
from puzzles.errors import PuzzleError, UserError

SAMPLE = Path(__file__).resolve().parents[1] / "puzzles" / "data" / "sample.maze"
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def grid_of(*rows: str) -> str:
    return "\n".join(rows)


@pytest.fixture(scope="module")
def batch() -> list[mz.Maze]:
    """A mix of kinds and sizes (odd, even, Maze-Hard-like 30 x 30)."""
    out = mz.generate(4, 9, "perfect", seed=1) + mz.generate(3, 12, "perfect", seed=2, algorithm="wilson")
    out += mz.generate(4, 15, "open", seed=3) + mz.generate(4, 30, "open", min_path=110, seed=4)
    return out


# ---------------------------------------------------------------- text form


@FAST
@given(size=st.integers(5, 16), kind=st.sampled_from(mz.KINDS), seed=st.integers(0, 10**6), solved=st.booleans())
def test_generated_mazes_round_trip(size, kind, seed, solved):
    m = mz.generate(1, size, kind, seed=seed)[0]
    if solved:
        m = mz.solve(m)
    text = mz.to_text(m)
    back = mz.parse(text)
    assert back == m and mz.to_text(back) == text
    assert mz.to_text(back, with_path=False) == mz.to_text(m.with_path(None))


@FAST
@given(
    rows=st.integers(1, 6).flatmap(
        lambda w: st.lists(st.text(alphabet="# o", min_size=w, max_size=w), min_size=2, max_size=6)
    ),
    data=st.data(),
)
def test_any_grid_with_one_s_and_g_round_trips(rows, data):
    h, w = len(rows), len(rows[0])
    cells = data.draw(st.lists(st.integers(0, h * w - 1), min_size=2, max_size=2, unique=True))
    grid = [list(r) for r in rows]
    for cell, ch in zip(cells, "SG"):
        grid[cell // w][cell % w] = ch
    text = "\n".join("".join(r) for r in grid)
    m = mz.parse(text)
    assert mz.to_text(m) == text
    assert mz.read_text(text + "\r\n\n\n" + text + "\n")[1] == m


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("# SGo\n\r\tx") | st.characters(), max_size=60))
def test_junk_raises_only_puzzle_errors(text):
    for fn in (mz.parse, mz.read_text):
        try:
            fn(text)
        except PuzzleError as e:
            assert str(e) and "\n" not in str(e)


def test_several_mazes_blank_lines_rows_of_spaces_and_crlf():
    a = grid_of("#####", "#S  #", "     ", "#  G#", "#####")  # a row of spaces is a row
    b = grid_of("SoG")
    text = "\n\n" + a + "\n\n\n" + b.replace("\n", "\r\n") + "\r\n\r\n"
    mazes = mz.read_text(text, "x.maze")
    assert [mz.to_text(m) for m in mazes] == [a, b]
    assert mazes[1].source == "x.maze: maze 2 (line 10)"
    assert mazes[0].shape == (5, 5) and not mazes[0].walls[2].any()
    assert mz.read_text(mz.write_text(mazes)) == mazes


@pytest.mark.parametrize(
    "text, message",
    [
        (grid_of("#  ", " G "), "missing S (the start)"),
        (grid_of("S  ", "   "), "missing G (the goal)"),
        (grid_of("S  G ", "   ", "  S "), "row 2 has 3 cells, expected 5"),
        (grid_of("S  G", "    ", " S  "), "repeated S at row 3, col 2 (first at row 1, col 1)"),
        (grid_of("SG  ", "#  G"), "repeated G at row 2, col 4 (first at row 1, col 2)"),
        (grid_of("S  G", "# x#"), "bad character 'x' at row 2, col 3"),
        (grid_of("S\tG"), "bad character '\\t' at row 1, col 2"),
        ("", "empty maze"),
        ("\n\n", "empty maze"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(PuzzleError) as e:
        mz.parse(text)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_read_text_errors_name_file_maze_and_line():
    good = mz.to_text(mz.generate(1, 7, seed=0)[0])
    with pytest.raises(PuzzleError, match=r"^f\.maze: maze 2 \(line 9\): row 2 has 6 cells, expected 7$"):
        mz.read_text(good + "\n\nS  G  #\n  #  #\n", "f.maze")
    with pytest.raises(PuzzleError, match="no mazes found"):
        mz.read_text("\n\r\n", "f.maze")


def test_read_file(tmp_path, monkeypatch):
    assert len(mz.read_file(SAMPLE)) == 1
    with pytest.raises(PuzzleError, match="no such file"):
        mz.read_file(tmp_path / "nope.maze")
    (tmp_path / "bin.maze").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PuzzleError, match="not UTF-8"):
        mz.read_file(tmp_path / "bin.maze")
    monkeypatch.setattr("sys.stdin", io.StringIO("S G\n"))
    assert mz.to_text(mz.read_file("-")[0]) == "S G"


def test_path_mask():
    m = mz.parse(grid_of("#S o", "G# o"))
    assert mz.path_mask(m).tolist() == [[False, False, False, True], [False, False, False, True]]
    assert not mz.path_mask(m.with_path(None)).any()


# ---------------------------------------------------------------- generators


@pytest.mark.parametrize(
    "kind, algorithm", [("perfect", "backtracker"), ("perfect", "wilson"), ("open", "backtracker")]
)
def test_generators_reproducible_and_solvable(kind, algorithm):
    a = mz.generate(6, 13, kind, seed=7, algorithm=algorithm)
    assert a == mz.generate(6, 13, kind, seed=7, algorithm=algorithm)
    assert a != mz.generate(6, 13, kind, seed=8, algorithm=algorithm)
    for size in (5, 6, 9, 10, 17):
        for m in mz.generate(5, size, kind, seed=size, algorithm=algorithm):
            assert m.shape == (size, size) and m.path is None
            assert m.start != m.goal and not m.walls[m.start] and not m.walls[m.goal]
            assert mz.shortest_length(m) is not None
            assert m.walls[0].all() and m.walls[-1].all() and m.walls[:, 0].all() and m.walls[:, -1].all()
            if size % 2 == 0:
                assert m.walls[-2].all() or kind == "open"


def test_perfect_mazes_are_trees_with_goal_farthest():
    for algorithm in mz.ALGORITHMS:
        for m in mz.generate(5, 15, "perfect", seed=3, algorithm=algorithm):
            free = ~m.walls
            edges = (free[1:] & free[:-1]).sum() + (free[:, 1:] & free[:, :-1]).sum()
            dist = mz.distances(m)
            assert (dist[free] >= 0).all()  # connected
            assert edges == free.sum() - 1  # and acyclic
            assert dist[m.goal] == dist.max()
    with pytest.raises(PuzzleError, match="unknown maze algorithm"):
        mz.generate(1, 9, algorithm="prim")
    with pytest.raises(PuzzleError, match="unknown maze kind"):
        mz.generate(1, 9, kind="spiral")
    with pytest.raises(PuzzleError, match="at least 3 x 3"):
        mz.perfect(2, 9, np.random.default_rng(0))


def test_min_path_respected_and_fast():
    t = time.perf_counter()
    mazes = mz.generate(30, 30, "open", min_path=110, seed=11)
    assert (time.perf_counter() - t) / 30 < 0.05
    assert all(mz.shortest_length(m) >= 110 for m in mazes)
    assert len({mz.to_text(m) for m in mazes}) == 30
    assert all(mz.shortest_length(m) >= 40 for m in mz.generate(5, 15, "perfect", min_path=40, seed=1))
    with pytest.raises(PuzzleError, match="more than the"):
        mz.generate(1, 5, min_path=26)
    with pytest.raises(PuzzleError, match="in 5 tries"):
        mz.open_maze(7, np.random.default_rng(0), min_path=25, max_tries=5)


# ---------------------------------------------------------------- shortest paths and the oracle


def test_shortest_path_small_cases():
    m = mz.parse("SG")
    assert mz.shortest_length(m) == 2 and not mz.shortest_path(m).any()
    m = mz.parse(grid_of("S   ", "##  ", "G   "))
    assert mz.shortest_length(m) == 7
    assert mz.verify(mz.solve(m)) is None


def test_unreachable_goal():
    m = mz.parse(grid_of("S#G", " ##"))
    assert mz.shortest_path(m) is None and mz.shortest_length(m) is None
    with pytest.raises(PuzzleError, match="^the goal cannot be reached from the start$"):
        mz.solve(m)
    assert mz.verify(m, np.zeros(m.shape, bool)) == "the goal cannot be reached from the start"


def test_bfs_and_cpsat_agree(batch):
    pytest.importorskip("ortools")
    from puzzles.maze.oracle import solve_cpsat

    for m in batch + [mz.parse("SG"), mz.parse(grid_of("S   ", "  # ", "  #G"))]:
        r = solve_cpsat(m, time_limit=10)
        assert r.solved and r.verified and r.error is None, r.error
        assert (r.task, r.solver) == ("maze", "cpsat")
        assert r.puzzle == mz.to_text(m, with_path=False)
        solved = mz.parse(r.solution)
        assert mz.verify(solved) is None
        assert r.extra["path_length"] == mz.shortest_length(m) == int(mz.path_mask(solved).sum()) + 2


def test_cpsat_unreachable_and_time_limit(batch):
    pytest.importorskip("ortools")
    from puzzles.maze.oracle import solve_cpsat

    r = solve_cpsat(mz.parse(grid_of("S#G", " ##")))
    assert not r.solved and r.solution is None and r.error == "the goal cannot be reached from the start"
    r = solve_cpsat(batch[-1], time_limit=1e-9)
    assert r.solved or (r.error == "time limit" and r.solution is None)


def test_solve_many_keeps_order(batch):
    pytest.importorskip("ortools")
    from puzzles.maze.oracle import solve_many

    mazes = batch[-6:]
    results = list(solve_many(mazes, time_limit=10, workers=2))
    assert [r.puzzle for r in results] == [mz.to_text(m, with_path=False) for m in mazes]
    assert all(r.solved for r in results)
    assert [r.extra["path_length"] for r in results] == [mz.shortest_length(m) for m in mazes]


# ---------------------------------------------------------------- verification


@pytest.mark.parametrize(
    "rows, reason",
    [
        (["SoooG"], None),
        (["SoG", "   "], None),
        (["Soo G"], "the path breaks off at row 1, col 3"),
        (["S   G"], "the start has 0 path neighbours, expected 1"),
        (["SoooG", "  o  "], "the path branches at row 1, col 3"),
        (["S   G", "ooooo"], "the path has 7 cells, the shortest has 5"),
        (["SoooG", "     ", "oo   ", "oo   "], "the path is not connected (stray cell at row 3, col 1)"),
        (["S o G"], "the path breaks off at row 1, col 3"),
        (["SG"], None),
    ],
)
def test_verify_cases(rows, reason):
    m = mz.parse(grid_of(*rows))
    got = mz.verify(m)
    assert (got is None) if reason is None else (got is not None and got.startswith(reason)), got


def test_verify_rejects_walls_and_bad_shapes():
    m = mz.parse(grid_of("S#G", "   "))
    through = np.zeros(m.shape, bool)
    through[0, 1] = True
    assert mz.verify(m, through) == "the path goes through a wall at row 1, col 2"
    assert "shape" in mz.verify(m, np.zeros((3, 3), bool))
    assert mz.verify(m) == "the start has 0 path neighbours, expected 1"
    ok = np.zeros(m.shape, bool)
    ok[1] = True
    assert mz.verify(m, ok) is None
    ok[m.start] = True  # S and G may be marked too
    assert mz.verify(m, ok) is None


def test_verify_on_generated_mazes(batch):
    rng = np.random.default_rng(0)
    for m in batch:
        s = mz.solve(m)
        assert mz.verify(s) is None
        path = s.path.copy()
        on = np.argwhere(path)
        path[tuple(on[rng.integers(len(on))])] = False  # a gap
        assert mz.verify(m, path) is not None
        off = np.argwhere(~m.walls & ~s.path)
        off = [tuple(c) for c in off if c.tolist() not in (list(m.start), list(m.goal))]
        extra = s.path.copy()
        extra[off[rng.integers(len(off))]] = True  # a stray cell, a branch or a detour
        assert mz.verify(m, extra) is not None


# ---------------------------------------------------------------- symmetries


def test_dihedral_group(batch):
    for m in batch[:6] + [mz.solve(mz.parse(grid_of("S  #  ", "## # G", "      ")))]:
        length = mz.shortest_length(m)
        images = []
        for k in range(8):
            t = mz.dihedral(m, k)
            assert mz.shortest_length(t) == length
            assert mz.dihedral(t, mz.inverse(k)) == m
            assert mz.dihedral(mz.solve(m), k).path.sum() == mz.solve(m).path.sum()
            assert mz.verify(mz.dihedral(mz.solve(m), k)) is None
            images.append(mz.to_text(t))
        assert mz.dihedral(m, 0) == m
    assert len(set(images)) == 8  # the last maze has no symmetry of its own
    assert mz.dihedral(m, 1).shape == (6, 3)
    t, k = mz.random_dihedral(m, np.random.default_rng(5))
    assert t == mz.dihedral(m, k) and (t, k) == mz.random_dihedral(m, np.random.default_rng(5))
    with pytest.raises(PuzzleError):
        mz.dihedral(m, 8)


# ---------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def cli():
    from typer.testing import CliRunner

    from cli.app import app

    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(app, list(args), input=input)


def _one_error_line(result) -> str:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


def test_cli_solve_file_and_stdin(cli):
    r = cli("solve", "maze", str(SAMPLE), "--solver", "cpsat")
    assert r.exit_code == 0, r.output
    assert "solved (verified)" in r.stdout and "path 35 cells" in r.stdout
    r = cli("solve", "maze", "-", "--solver", "cpsat", input=SAMPLE.read_text())
    assert r.exit_code == 0, r.output
    assert "solved" in r.stdout


def test_cli_json(cli, tmp_path):
    mazes = mz.generate(4, 11, seed=5)
    path = tmp_path / "four.maze"
    path.write_text(mz.write_text(mazes))
    r = cli("solve", "maze", str(path), "--json", "--time-limit", "5", "--solver", "cpsat")
    assert r.exit_code == 0, r.output
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(records) == 4
    for rec, m in zip(records, mazes):
        assert {"task", "solver", "puzzle", "solution", "solved", "verified", "seconds"} <= rec.keys()
        assert rec["task"] == "maze" and rec["solver"] == "cpsat" and rec["solved"] and rec["verified"]
        assert rec["puzzle"] == mz.to_text(m)
        assert mz.verify(mz.parse(rec["solution"])) is None


def test_cli_unreachable_exits_1(cli, tmp_path):
    r = cli("solve", "maze", "-", "--solver", "cpsat", input="S#G\n ##\n")
    assert r.exit_code == 1, r.output
    assert "unsolved" in r.stdout and "cannot be reached" in r.stdout
    path = tmp_path / "mixed.maze"
    path.write_text(mz.write_text(mz.generate(6, 9, seed=1)) + "\nS#G\n ##\n")
    r = cli("solve", "maze", str(path), "--json", "--solver", "cpsat")
    assert r.exit_code == 1, r.output
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [rec["solved"] for rec in records] == [True] * 6 + [False]
    assert records[-1]["error"] == "the goal cannot be reached from the start"
    r = cli("solve", "maze", str(path), "--solver", "cpsat")  # 7 mazes: a line each on stdout, the summary on stderr
    assert r.exit_code == 1 and "maze results" in r.stderr and "maze 7" in r.stderr


def test_cli_bad_input_exits_2(cli, tmp_path):
    bad = tmp_path / "bad.maze"
    bad.write_text("S  G\n# x#\n")
    r = cli("solve", "maze", str(bad), "--solver", "cpsat")
    assert r.exit_code == 2
    assert "bad character 'x' at row 2, col 3" in _one_error_line(r)
    r = cli("solve", "maze", str(tmp_path / "missing.maze"), "--solver", "cpsat")
    assert r.exit_code == 2 and "no such file" in _one_error_line(r)
    r = cli("solve", "maze", "-", "--solver", "cpsat", input="")
    assert r.exit_code == 2 and "no mazes found" in _one_error_line(r)
    r = cli("solve", "maze", str(SAMPLE), "--solver", "magic")
    line = _one_error_line(r)
    assert r.exit_code == 2 and "unknown solver 'magic'; choose from loopmdm, ar, ar-solver, hrm, trm, " in line
    assert "loopmdm@2e13, trm@2e13, cpsat" in line  # the matched set, then the oracle


def test_cli_generate(cli, tmp_path):
    out = tmp_path / "gen.maze"
    args = ["-n", "3", "--size", "15", "--kind", "open", "--min-path", "30", "--seed", "4", "-o", str(out)]
    r = cli("generate", "maze", *args)
    assert r.exit_code == 0, r.output
    mazes = mz.read_file(out)
    assert mazes == mz.generate(3, 15, "open", min_path=30, seed=4)
    assert all(m.shape == (15, 15) and mz.shortest_length(m) >= 30 for m in mazes)
    assert [p.name for p in tmp_path.iterdir()] == ["gen.maze"]  # no temporary file left
    r = cli("generate", "maze", "-n", "2", "--size", "9", "--seed", "1", "--with-path")
    assert r.exit_code == 0, r.output
    assert all(mz.verify(m) is None for m in mz.read_text(r.stdout))


def test_cli_generate_errors_keep_existing_file(cli, tmp_path):
    out = tmp_path / "keep.maze"
    out.write_text("precious\n")
    r = cli("generate", "maze", "--kind", "spiral", "-o", str(out))
    assert r.exit_code == 2 and "unknown maze kind" in _one_error_line(r)
    r = cli("generate", "maze", "--size", "5", "--min-path", "99", "-o", str(out))
    assert r.exit_code == 2 and "min-path" in _one_error_line(r)
    assert out.read_text() == "precious\n"
    r = cli("generate", "maze", "-o", str(tmp_path / "no" / "dir.maze"))
    assert r.exit_code == 2 and "no such folder" in _one_error_line(r)


def test_errors_are_user_errors():
    assert issubclass(PuzzleError, UserError)


@pytest.mark.parametrize("kind", ["walls", "rooms", "borderless"])
def test_new_kinds_are_seeded_and_always_solvable(kind):
    a = mz.generate(6, 21, kind=kind, min_path=30, seed=4)
    assert a == mz.generate(6, 21, kind=kind, min_path=30, seed=4)
    assert a != mz.generate(6, 21, kind=kind, min_path=30, seed=5)
    for m in a:
        assert m.shape == (21, 21) and mz.shortest_length(m) >= 30
        assert not m.walls[m.start] and not m.walls[m.goal]


def test_walls_mazes_have_no_border_and_the_asked_density():
    ms = mz.generate(20, 30, kind="walls", min_path=110, seed=1)
    assert all(mz.shortest_length(m) >= 110 for m in ms)
    edge = np.concatenate([np.concatenate([m.walls[0], m.walls[-1], m.walls[:, 0], m.walls[:, -1]]) for m in ms])
    assert 0.05 < edge.mean() < 0.6  # no border: the edge is mostly open
    dense = mz.generate(10, 30, kind="walls", share=0.3, seed=2)
    assert abs(np.mean([m.walls.mean() for m in dense]) - 0.3) < 0.03


def test_rooms_span_corridors_to_one_empty_room():
    empty = mz.generate(1, 15, kind="rooms", share=1.0, seed=0)[0]
    assert not empty.walls[1:-1, 1:-1].any() and empty.walls[0].all() and empty.walls[-1].all()
    sparse, dense = (np.mean([m.walls.mean() for m in mz.generate(10, 25, kind="rooms", share=f, seed=3)])
                     for f in (0.2, 0.8))
    assert dense < sparse


def test_borderless_mazes_open_onto_the_edge():
    ms = mz.generate(10, 21, kind="borderless", seed=6)
    assert all((~m.walls[0]).any() or (~m.walls[:, 0]).any() for m in ms)


def test_a_mixed_set_takes_the_five_kinds_in_turn():
    ms = mz.generate(10, 15, kind=mz.MIXED, min_path=10, seed=3)
    assert ms == mz.generate(10, 15, kind=mz.MIXED, min_path=10, seed=3)
    bordered = [bool(m.walls[0].all() and m.walls[-1].all() and m.walls[:, 0].all() and m.walls[:, -1].all())
                for m in ms]
    assert bordered == [k in ("perfect", "open", "rooms") for k in mz.KINDS * 2]  # walls, borderless: no border
    assert not _has_open_area(ms[0].walls) and _has_open_area(ms[3].walls)  # perfect, then rooms
    assert all(mz.shortest_length(m) >= 10 for m in ms)
    with pytest.raises(PuzzleError, match="--share is for walls"):
        mz.generate(5, 11, kind=mz.MIXED, share=0.3)


def test_share_belongs_to_walls_and_rooms_only():
    with pytest.raises(PuzzleError, match="--share is for walls"):
        mz.generate(1, 11, kind="open", share=0.3)


def _has_open_area(walls: np.ndarray) -> bool:
    """Whether a maze has an open 2x2 block somewhere (a perfect maze never does; a rooms maze always)."""
    return bool((~walls[:-1, :-1] & ~walls[1:, 1:] & ~walls[:-1, 1:] & ~walls[1:, :-1]).any())


def test_a_training_pool_of_the_new_kinds_takes_turns_and_every_maze_is_solved():
    from puzzles.domains import get_task

    task = get_task("maze", 11)
    puzzles, solutions = task.make_pool(12, seed=0, mix=("walls", "rooms", "borderless"))
    assert puzzles.shape == solutions.shape == (12, 121)
    assert all(task.verify(p, s, (11, 11)) for p, s in zip(puzzles, solutions))  # each a shortest path
    walls = [task.decode(p, (11, 11)).walls for p in puzzles]
    open_2x2 = [_has_open_area(w) for w in walls]
    assert all(open_2x2[1::3])  # every rooms maze has an open area (a perfect maze never does)
    edges = [np.concatenate([w[0], w[-1], w[:, 0], w[:, -1]]) for w in walls[0::3] + walls[2::3]]
    assert not all(e.all() for e in edges)  # walls and borderless mazes reach the grid's edge
    default = task.make_pool(4, seed=0)  # the default mix is what it was: perfect and open
    assert (default[0] == task.make_pool(4, seed=0, mix=("perfect", "open"))[0]).all()


def test_a_runs_held_out_set_is_of_its_training_mix_and_apart_from_its_pool():
    from csp_diffusion.data import held_out
    from puzzles.domains import get_task

    task = get_task("maze", 9)
    mixed, _ = held_out(task, 6, seed=0, mix=("rooms",))
    default, _ = held_out(task, 6, seed=0)
    assert not (mixed == default).all()
    walls = [task.decode(p, (9, 9)).walls for p in mixed]
    assert all(_has_open_area(w) for w in walls)  # rooms
    assert not (mixed == task.make_pool(6, seed=0, mix=("rooms",))[0]).all()  # its own stream, not the pool's
