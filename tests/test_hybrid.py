"""The never-wrong hybrid: a complete search ordered by the model's probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY_LOOPMDM, searched
from typer.testing import CliRunner

from cli.app import app
from puzzles import sudoku
from puzzles.kakuro.task import KakuroTask
from puzzles.sudoku.task import SudokuTask

runner = CliRunner()
KAKURO_SAMPLE = Path(__file__).resolve().parents[1] / "puzzles" / "data" / "sample.kakuro"
P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"


def test_guided_search_is_complete_and_a_perfect_order_never_backtracks():
    task = SudokuTask()
    for s in sudoku.generate(4, "extreme", seed=5, workers=1):
        free_solution, why, free_nodes, _ = searched(task, s.givens, None, unique=True, queries=0)
        assert why is None and (free_solution == s.solution).all()
        assert free_nodes == task.free_search_nodes(s.givens)  # the compiled model-free search counts alike
        perfect = np.eye(9)[s.solution - 1] * 0.9 + 0.01
        solution, why, nodes, wrong = searched(task, s.givens, perfect, unique=True)
        assert why is None and (solution == s.solution).all() and wrong == 0 and nodes <= free_nodes
        worst = 1 - perfect  # the right digit last: still complete, never wrong
        solution, why, _, wrong = searched(task, s.givens, worst, unique=True, queries=1000)
        assert (solution == s.solution).all() and wrong > 0


def test_guided_search_asks_at_branch_nodes_with_the_grid_it_stands_on():
    task = SudokuTask()
    s = next(iter(sudoku.generate(1, "extreme", seed=6, workers=1)))
    asked = []

    def answer(grid):
        asked.append(grid.copy())
        return 1 - (np.eye(9)[s.solution - 1] * 0.9 + 0.01)  # wrong first: the search must go deeper

    searched(task, s.givens, answer, unique=False, queries=5)
    assert len(asked) == 5 and (asked[0][s.givens > 0] == s.givens[s.givens > 0]).all()
    assert all((a > 0).sum() > (asked[0] > 0).sum() for a in asked[1:])  # later nodes hold the search's guesses


def test_guided_search_says_no_and_several_solutions_as_the_oracles_do():
    task = SudokuTask()
    several = np.zeros(81, np.int64)
    assert searched(task, several, None, unique=True, queries=0)[1] == sudoku.SEVERAL_SOLUTIONS
    assert searched(task, several, None, unique=False, queries=0)[1] is None  # one of them is an answer
    impossible = np.zeros(81, np.int64)
    impossible[:8] = np.arange(1, 9)
    impossible[9 + 8] = 9  # the top-right cell's column holds its only candidate
    assert searched(task, impossible, None, unique=False, queries=0)[1] == sudoku.NO_SOLUTION


def test_csp_solve_with_the_hybrid_verifies_and_reports_its_search():
    r = runner.invoke(app, ["solve", "sudoku", P1, "--solver", "hybrid", "--json"])
    assert r.exit_code == 0, r.output
    assert '"verified": true' in r.stdout and '"nodes":' in r.stdout and '"backtracks":' in r.stdout
    assert '"queries":' in r.stdout and '"free_nodes":' not in r.stdout  # measured by bench, not on every solve
    r = runner.invoke(app, ["solve", "sudoku", "." * 81, "--solver", "hybrid"])
    assert r.exit_code == 1 and "more than one solution" in r.stdout
    r = runner.invoke(app, ["solve", "sudoku", P1, "--solver", "hybrid", "--loops", "4", "--steps", "3"])
    assert r.exit_code == 0 and "--loops has no effect" not in r.stderr and "--steps has no effect" in r.stderr
    r = runner.invoke(app, ["solve", "sudoku", P1, "--solver", "hybrid", "--time-limit", "5"])
    assert r.exit_code == 0 and "--time-limit has no effect with hybrid" in r.stderr  # a complete search, unlimited


def test_bench_sets_the_hybrids_search_against_the_same_search_without_the_model():
    r = runner.invoke(app, ["bench", "--puzzles", "gen:hard:3:seed=1", "--solvers", "hybrid", "--json"])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert row["solved"] == 3 and 0 <= row["fewer_nodes_share"] <= 1 and 0 <= row["no_backtrack_share"] <= 1
    assert row["median_free_nodes"] >= 0 and row["median_nodes"] >= 0 and row["flops_per_puzzle"] >= 0  # its passes
    r = runner.invoke(app, ["bench", "--puzzles", "gen:hard:3:seed=1", "--solvers", "hybrid,cpsat"])
    assert r.exit_code == 0, r.output
    assert "search nodes against" in r.stdout and "for the same search without the model" in r.stdout


def test_one_query_compiled_and_many_in_python_search_alike_given_the_same_answer():
    """queries=1 runs compiled; queries>1 runs in Python. Asked again and again with the same answer, the
    Python search must take the very path the compiled one takes (tie-breaks included), or comparing
    query counts would compare two searches."""
    task = SudokuTask()
    rng = np.random.default_rng(3)
    for s in sudoku.generate(6, "extreme", seed=11):
        p = rng.random((81, 9)).astype(np.float32)
        compiled, python = (searched(task, s.givens, p, unique=True, queries=q) for q in (1, 500))
        assert compiled[1:] == python[1:] and (compiled[0] == python[0]).all()  # why, nodes, backtracks; answer


def test_the_hybrids_peek_goes_on_from_its_state_only_where_the_model_is_sure():
    from csp_diffusion import hybrid

    # 8 loops in all: 4 loops from scratch are far from 8 (at 16, 12 fresh loops come close to 16)
    peeking = hybrid.HybridSolver("sudoku", loops=8)
    straight = hybrid.HybridSolver("sudoku", loops=8, peek=0)
    short = hybrid.HybridSolver("sudoku", loops=hybrid.PEEK_LOOPS)
    assert peeking.peek == hybrid.PEEK_LOOPS and straight.peek == short.peek == 0
    easy = [peeking.task.encode(s.givens)[0] for s in sudoku.generate(3, "hard", seed=2, workers=1)]
    grids = np.stack([*easy, np.zeros(81, np.int64)]).astype(np.int64)  # a blank grid: the model is unsure
    probs, loops, passes = peeking.probabilities(grids, peek=True)
    went = loops == 8
    assert went[:3].all() and not went[3] and loops[3] == hybrid.PEEK_LOOPS and (passes == 1 + went).all()
    # the grids that went on got what one straight pass gives, not a fresh pass of the loops left (on a CPU with
    # native bf16 the model runs in bf16, whose rounding alone moves a probability by a few hundredths)
    close = 5e-2 if peeking.net.autocast else 1e-3
    assert np.abs(probs[went] - straight.probabilities(grids[went])).max() < close
    assert np.abs(probs[went] - short.probabilities(grids[went])).max() > 0.1
    assert np.abs(probs[~went] - short.probabilities(grids[~went])).max() < close
    # each result counts the FLOPs of the passes it ran
    for r in peeking.solve_screened([*easy, np.zeros(81, np.int64)]):
        e = r.extra
        two = e["queries"] > 0 and e["loops_run"] == 8
        assert e["flops"] == peeking.net.flops((9, 9), e["queries"] + two, e["loops_run"])
    assert e["loops_run"] == hybrid.PEEK_LOOPS  # the blank grid's question stopped at the peek


def test_the_numpy_network_is_the_torch_network():
    """The hybrid runs the shipped LoopMDM in NumPy (no torch to import on `csp solve`); it must be the torch
    network: the same probabilities from a bare start and from a carried state, the same FLOPs and parameters."""
    import torch

    from csp_diffusion import models, numpy_loopmdm
    from csp_diffusion.solver import shipped_checkpoint

    net, meta = numpy_loopmdm.load(None, "loopmdm", "sudoku")
    model, _ = models.load(shipped_checkpoint("loopmdm", "sudoku"), "loopmdm", "sudoku")
    task = SudokuTask()
    st = task.structure()
    grids = np.stack([s.givens for s in sudoku.generate(40, "extreme", seed=3, workers=1)]).astype(np.int64)
    grids[-1] = 0  # a blank grid
    v, pos, graph = torch.as_tensor(grids), torch.as_tensor(st.positions), torch.as_tensor(st.graph)
    with torch.no_grad():
        ref, ref_state = model(v, v > 0, pos, graph, 4, return_state=True)
        ref_more = model(v, v > 0, pos, graph, 3, state=ref_state)
    logits, state = net(grids, grids > 0, 4)  # 40 grids: two pieces, over the cores
    more, _ = net(grids, grids > 0, 3, state)
    probs = lambda x: torch.as_tensor(np.asarray(x, np.float32)).softmax(-1).numpy()  # noqa: E731
    assert np.abs(probs(logits) - ref.softmax(-1).numpy()).max() < 1e-4
    assert np.abs(probs(more) - ref_more.softmax(-1).numpy()).max() < 1e-4
    assert np.abs(state - ref_state.numpy()).max() < 1e-3
    given = grids > 0
    assert np.isneginf(logits[given]).sum() == 8 * given.sum()  # a given: -inf but for its own value
    assert net.num_params() == model.num_params()
    assert all(net.flops(k, 81, 21) == model.flops(k, 81, 21) for k in (0, 1, 16))


def test_the_hybrid_solves_without_importing_torch_unless_a_device_is_named():
    import subprocess
    import sys

    check = ("import sys; from cli.app import app; from typer.testing import CliRunner; "
             "r = CliRunner().invoke(app, sys.argv[1:]); print(r.exit_code, 'torch' in sys.modules)")
    for extra, torch_loaded in (([], "False"), (["--device", "cpu"], "True")):
        out = subprocess.run([sys.executable, "-c", check, "solve", "sudoku", P1, "--solver", "hybrid", *extra],
                             capture_output=True, text=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
        assert out.stdout.split() == ["0", torch_loaded], out.stderr


def test_the_hybrid_on_torch_and_on_numpy_agree():
    from csp_diffusion import hybrid

    on_numpy, on_torch = hybrid.HybridSolver("sudoku"), hybrid.HybridSolver("sudoku", device="cpu")
    assert type(on_numpy.net).__name__ == "_NumpyNet" and type(on_torch.net).__name__ == "_TorchNet"
    grids = np.stack([s.givens for s in sudoku.generate(4, "extreme", seed=9, workers=1)]).astype(np.int64)
    close = 5e-2 if on_torch.net.autocast else 1e-3  # bf16 rounding on a CPU that has it natively
    a, b = on_numpy.probabilities(grids, peek=True), on_torch.probabilities(grids, peek=True)
    assert np.abs(a[0] - b[0]).max() < close and (a[2] == b[2]).all()
    results = [list(h.solve_screened(list(grids))) for h in (on_numpy, on_torch)]
    assert all(r.verified for r in results[0]) and [r.solution for r in results[0]] == [r.solution for r in results[1]]


# ---------------------------------------------------------------- Kakuro: a structure per puzzle


@pytest.fixture(scope="module")
def kakuro_model(tmp_path_factory) -> Path:
    """A tiny randomly-initialised Kakuro LoopMDM, saved as `csp train` saves one (the hybrid is never wrong,
    whatever the model: its order only)."""
    import torch

    from csp_diffusion.checkpoint import save_model
    from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
    from puzzles.kakuro import encoding as enc

    torch.manual_seed(0)
    task = KakuroTask(8)
    config = {**TINY_LOOPMDM, "n_values": 9, "tokens": task.tokens, "position_sizes": task.position_sizes,
              "slots": enc.SLOTS}
    path = tmp_path_factory.mktemp("kakuro-model") / "kakuro-loopmdm.safetensors"
    c = LoopMDMConfig(**config)
    save_model(path, LoopMDM(c), "loopmdm", "kakuro", c.to_dict(), {"train_config": {"grid": 8}})
    return path


def _kakuro_file(tmp_path) -> tuple[Path, list]:
    """The sample's three puzzles (6x6, 8x8, 10x12: they need no search) and two generated ones that need one."""
    from puzzles.kakuro import generator as gen
    from puzzles.kakuro import grid

    puzzles = [*grid.read_file(KAKURO_SAMPLE), *(k for k, _ in gen.generate(9, 9, 1, seed=3)),
               *(k for k, _ in gen.generate(10, 12, 1, seed=2))]
    path = tmp_path / "p.kakuro"
    path.write_text(grid.write_text(puzzles))
    return path, puzzles


def test_csp_solve_kakuro_with_the_hybrid_verifies_and_reports_its_search(kakuro_model, tmp_path):
    task = KakuroTask()
    path, puzzles = _kakuro_file(tmp_path)
    r = runner.invoke(app, ["solve", "kakuro", str(path), "--solver", "hybrid", "--checkpoint", str(kakuro_model),
                            "--json"])
    assert r.exit_code == 0, r.output
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(records) == len(puzzles) and all(rec["solver"] == "hybrid" and rec["verified"] for rec in records)
    for rec, puzzle in zip(records, puzzles):
        assert task.check(puzzle, task.answer(rec["solution"])) is None
        assert rec["nodes"] >= 0 and 0 <= rec["backtracks"] <= rec["nodes"] and rec["queries"] in (0, 1)
    assert any(rec["queries"] == 1 and rec["nodes"] > 0 for rec in records)  # the model ordered a search
    several = tmp_path / "several.kakuro"
    several.write_text("#  10\\ 10\\\n\\10 . .\n\\10 . .\n")
    args = ["solve", "kakuro", str(several), "--solver", "hybrid", "--checkpoint", str(kakuro_model)]
    r = runner.invoke(app, args)
    assert r.exit_code == 1 and "more than one solution" in r.stdout
    r = runner.invoke(app, [*args, "--no-check-unique"])
    assert r.exit_code == 0 and "solved (verified) by hybrid" in r.stdout


def test_the_kakuro_hybrid_runs_each_puzzle_under_its_own_structure_and_shape(kakuro_model, tmp_path):
    from csp_diffusion import hybrid

    _, puzzles = _kakuro_file(tmp_path)
    h = hybrid.HybridSolver("kakuro", kakuro_model)
    assert type(h.net).__name__ == "_NumpyNet"  # no torch on `csp solve kakuro`'s default path
    results = list(h.solve_screened(puzzles, unique=True))
    assert all(r.verified for r in results)
    task = KakuroTask()
    for puzzle, r in zip(puzzles, results):
        # the same search answered by the model alone, asked about the grid it asks about, searches alike
        def ask(grid, shape=puzzle.shape):
            return h.probabilities(grid[None].astype(np.int64), peek=True, shape=shape)[0][0]

        _, why, nodes, wrong = searched(task, puzzle, ask, unique=True)
        assert why is None and (nodes, wrong) == (r.extra["nodes"], r.extra["backtracks"])
        assert r.extra["flops"] == (h.net.flops(puzzle.shape, 1, r.extra["loops_run"]) if r.extra["queries"] else 0)


def test_bench_sets_the_kakuro_hybrid_against_the_free_search_and_cpsat(kakuro_model):
    folder = kakuro_model.parent
    r = runner.invoke(app, ["bench", "--task", "kakuro", "--puzzles", "gen:kakuro:3:size=9:seed=1", "--solvers",
                            "hybrid,cpsat", "--checkpoints", str(folder), "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["solver"]: row for row in json.loads(r.stdout)}
    assert rows["hybrid"]["solved"] == rows["cpsat"]["solved"] == 3 and rows["hybrid"]["budget"] == "search"
    assert rows["hybrid"]["median_free_nodes"] >= 0 and rows["hybrid"]["median_nodes"] >= 0
    assert rows["cpsat"]["median_nodes"] is None


def test_the_numpy_network_is_the_torch_network_on_kakuro():
    """The shipped Kakuro model in NumPy: each grid's own run features and neighbour table (slot biases, clue cells
    that read as the last token and pin the top value), grids of several sizes, the same as the torch network."""
    import torch

    from csp_diffusion import models, numpy_loopmdm
    from csp_diffusion.solver import shipped_checkpoint
    from puzzles.kakuro import encoding as enc
    from puzzles.kakuro import generator as gen

    net, meta = numpy_loopmdm.load(None, "loopmdm", "kakuro")
    model, _ = models.load(shipped_checkpoint("loopmdm", "kakuro"), "loopmdm", "kakuro")
    task = KakuroTask()
    for side in (7, 12, 17):
        grids = np.stack([enc.encode(k) for k, _ in gen.generate(side, side, 3, seed=side)]).astype(np.int64)
        given = grids > 0
        st = task.structure((side, side), grids)
        with torch.no_grad():
            ref, ref_state = model(torch.as_tensor(grids), torch.as_tensor(given), torch.as_tensor(st.positions),
                                   torch.as_tensor(st.neighbours), 4, return_state=True)
        logits, state = net(grids, given, 4, None, st.positions, st.neighbours)
        probs = lambda x: torch.as_tensor(np.asarray(x, np.float32)).softmax(-1).numpy()  # noqa: E731
        assert np.abs(probs(logits) - ref.softmax(-1).numpy()).max() < 1e-4
        assert np.abs(state - ref_state.numpy()).max() < 1e-3
    assert net.num_params() == model.num_params()


def test_the_kakuro_hybrid_solves_without_importing_torch():
    import subprocess
    import sys

    check = ("import sys; from cli.app import app; from typer.testing import CliRunner; "
             "r = CliRunner().invoke(app, sys.argv[1:]); print(r.exit_code, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", check, "solve", "kakuro", str(KAKURO_SAMPLE)],
                         capture_output=True, text=True, cwd=str(Path(__file__).parents[1]))
    assert out.stdout.split() == ["0", "False"], out.stderr
