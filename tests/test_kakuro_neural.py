"""Kakuro for neural models: the encoding and its per-puzzle structure, the symmetries, the training pool, the sum
rule, models on a structure per grid, the sampler one puzzle at a time, the AR kinds refused, and a tiny model
trained and run end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_checks import one_line_error
from helpers import TINY_LOOPMDM
from typer.testing import CliRunner

from cli.app import app
from csp_diffusion import blocks, models
from csp_diffusion.blocks import GraphAttention
from csp_diffusion.constraints import NoRule, Sum, rule_for
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.network import Network
from csp_diffusion.sampler import Sampler, SamplerConfig
from puzzles.errors import UserError
from puzzles.kakuro import encoding as enc
from puzzles.kakuro import grid, oracle
from puzzles.kakuro.task import KakuroTask

SAMPLE = Path(__file__).resolve().parents[1] / "puzzles" / "data" / "sample.kakuro"
# hand-made (the rule tests need no unique answer): the across run of 15 has several sets of digits
RUNS = """\
#    #    8\\   8\\
#    7\\3  .    .
\\15  .    .    .
\\5   .    .    #
"""
RUNS_ANSWER = [0, 0, 0, 0, 0, 0, 1, 2, 0, 4, 5, 6, 0, 3, 2, 0]  # cells 6, 7 | 9, 10, 11 | 13, 14
CPU = torch.device("cpu")
runner = CliRunner()


def _sample(k: int = 0):
    return grid.read_file(SAMPLE)[k]


def _answer(k) -> np.ndarray:
    status, answer, _ = oracle.find(k, 10.0)
    assert status == oracle.FOUND
    return answer


# ---------------------------------------------------------------- encoding and structure


def test_encoding_round_trips_and_verifies_answers_only():
    task, k = KakuroTask(), _sample()
    v, shape = task.encode(k)
    assert shape == k.shape and v.shape == (k.shape[0] * k.shape[1],)
    assert enc.decode(v, shape) == k
    assert task.text(v, shape) == grid.to_text(k) == task.text(v, shape, k)
    solution = enc.encode(k.with_digits(_answer(k)))
    assert task.verify(v, solution, shape) and not task.conflicts(solution, shape).any()
    assert grid.parse(task.text(solution, shape, k)) == k.with_digits(_answer(k))
    wrong = solution.copy()
    t = int(np.flatnonzero(v == 0)[0])
    wrong[t] = wrong[t] % 9 + 1
    assert not task.verify(v, wrong, shape) and task.conflicts(wrong, shape)[t]
    moved = solution.copy()
    moved[np.flatnonzero(v >= enc.BLOCK)[0]] = enc.BLOCK + 1  # a clue the puzzle does not have
    assert not task.verify(v, moved, shape)
    assert not task.verify(v, v, shape)  # empty cells


def test_structure_lists_each_cells_run_mates_by_offset_and_their_sums():
    task, k = KakuroTask(), _sample(1)
    v, shape = task.encode(k)
    st = task.structure(shape, v)
    H, W = shape
    assert st.positions.shape == (H * W, len(enc.FEATURES)) and st.neighbours.shape == (H * W, enc.SLOTS)
    for run in k.runs:
        cells = [r * W + c for r, c in run.cells]
        d = int(run.direction == "down")
        (lo, hi), total, index = enc.RUN_SLOTS[d], enc.TOTALS[d], 4 + d
        for i, t in enumerate(cells):
            assert st.positions[t, total] == run.total and st.positions[t, index] == i
            assert st.positions[t, d] == len(cells) * enc.SUMS + run.total
            assert st.neighbours[t, 0] == t
            for j, u in enumerate(cells):  # each mate in the slot of its offset
                if j != i:
                    assert st.neighbours[t, lo + enc.OFFSETS.index(j - i)] == u
            assert (st.neighbours[t, lo:hi] >= 0).sum() == len(cells) - 1
    other = np.flatnonzero(v >= enc.BLOCK)
    assert (st.positions[other] == 0).all() and (st.neighbours[other, 1:] == -1).all()
    both = task.structure(shape, np.stack([v, v]))  # a batch: each grid's own
    assert np.array_equal(both.neighbours[1], st.neighbours) and np.array_equal(both.positions[1], st.positions)
    template = task.structure()  # sizes a model: the canvas, every cell alone
    assert template.shape == (12, 12) and template.neighbours.shape == (144, enc.SLOTS)


def test_transposing_and_complementing_keep_answers_and_undo_themselves():
    task = KakuroTask(8)
    puzzles, solutions = task.make_pool(4, 3, workers=1, mix=("6", "7"))
    p, s = puzzles.astype(np.int64), solutions.astype(np.int64)
    for f in (enc.transpose, enc.complement):
        assert np.array_equal(f(f(p, (8, 8)), (8, 8)), p)
        fp, fs = f(p, (8, 8)), f(s, (8, 8))
        assert all(task.verify(a, b) for a, b in zip(fp, fs))
        assert not any(task.verify(a, b) for a, b in zip(fp, s))  # the old answers no longer fit
    pp, ss = task.training_pairs((puzzles, solutions), 32, np.random.default_rng(0))
    assert pp.dtype == np.int64 and all(task.verify(a, b) for a, b in zip(pp, ss))


def test_the_pool_is_seeded_padded_and_from_its_sides():
    task = KakuroTask(8)
    puzzles, solutions = task.make_pool(3, 5, workers=1, mix=("6",))
    again, _ = task.make_pool(3, 5, workers=2, mix=("6",))  # the workers change nothing
    assert np.array_equal(puzzles, again) and puzzles.shape == (3, 64) and puzzles.dtype == np.int16
    for p, s in zip(puzzles, solutions):
        assert task.verify(p, s)
        inner = np.argwhere(p.reshape(8, 8) != enc.BLOCK)
        assert (inner.max(0) - inner.min(0) < 6).all()  # a 6x6 puzzle (its clues and cells) among blocks
    assert task.pool_levels == ("5", "6", "7", "8")
    with pytest.raises(UserError, match="unknown Kakuro pool side 9"):
        task.make_pool(1, 0, mix=("9",))


def test_reachable_is_exact_not_a_bracket():
    used = sum(1 << (d - 1) for d in range(3, 9))  # 3-8 taken: 1, 2, 9 left
    R = enc.reachable()
    assert [t for t in range(enc.SUMS) if R[used, 2, t]] == [3, 10, 11]  # 5 lies between 3 and 11 but cannot be made
    assert R[0, 9, 45] and not R[0, 9, 44] and R[0, 0, 0] and not R[0, 0, 1]


# ---------------------------------------------------------------- the sum rule


def _rule(text: str = RUNS):
    task = KakuroTask()
    k = grid.parse(text)
    v, shape = task.encode(k)
    st = task.structure(shape, v)
    return task, torch.as_tensor(v)[None], Sum(task, torch.as_tensor(st.neighbours), torch.as_tensor(st.positions))


def _with(v: torch.Tensor, cells: dict[int, int]) -> torch.Tensor:
    out = v.clone()
    for t, d in cells.items():
        out[0, t] = d
    return out


def test_sum_rule_retracts_the_weaker_of_a_repeat_and_the_weakest_of_a_run_that_cannot_add_up():
    task, v, rule = _rule()
    conf = torch.full((1, 16), 0.5)
    # across 15 (cells 9, 10, 11): 4 and 4 repeat; the surer stays
    row = _with(v, {9: 4, 10: 4})
    committed = row != v
    conf[0, 9], conf[0, 10] = 0.9, 0.6
    assert rule.clashing(row, conf, committed)[0].nonzero().flatten().tolist() == [10]
    # across 15 holding 6, 4 and 7 (17; each down run can still add up): its weakest committed cell goes, only it
    row = _with(v, {9: 6, 10: 4, 11: 7})
    conf[0, 9], conf[0, 10], conf[0, 11] = 0.9, 0.8, 0.4
    assert row[0, 9:12].sum() == 17 and rule.clashing(row, conf, row != v)[0].nonzero().flatten().tolist() == [11]
    # a given is never retracted: the same grid with cells 9-11 given (not committed)
    assert not rule.clashing(row, torch.where(row != v, 2.0, conf), torch.zeros_like(committed)).any()
    # across 3 (cells 6, 7) holding 1 alone: the other cell can still be 2; holding 3: it cannot
    assert not rule.clashing(_with(v, {6: 1}), conf, _with(v, {6: 1}) != v).any()
    assert rule.clashing(_with(v, {6: 3}), conf, _with(v, {6: 3}) != v)[0, 6]
    answer = torch.as_tensor(np.where(v[0].numpy() >= enc.BLOCK, v[0].numpy(), RUNS_ANSWER))[None]
    assert not rule.clashing(answer, conf, answer != v).any()
    assert task.verify(v[0].numpy(), answer[0].numpy(), (4, 4))


def test_sum_rule_admits_commits_that_keep_runs_possible():
    task, v, rule = _rule()
    score = torch.full((1, 16), 0.1)
    want = torch.zeros(1, 16, dtype=torch.bool)
    choice = torch.ones(1, 16, dtype=torch.long)

    def admitted(grid, wants: dict[int, tuple[int, float]], best: int) -> list[int]:
        w, c, s = want.clone(), choice.clone(), score.clone()
        for t, (d, p) in wants.items():
            w[0, t], c[0, t], s[0, t] = True, d, p
        return rule.admissible(w, c, s, grid, torch.tensor([best]))[0].nonzero().flatten().tolist()

    # a digit a filled mate holds goes, unless it is the row's best cell
    filled = _with(v, {9: 4})
    assert admitted(filled, {10: (4, 0.9), 13: (3, 0.5)}, best=13) == [13]
    assert admitted(filled, {10: (4, 0.9)}, best=10) == [10]
    # two new commits of one digit in a run: the surer stays
    assert admitted(v, {9: (5, 0.9), 10: (5, 0.6)}, best=9) == [9]
    # a commit its run cannot meet the sum with (across 3 holding 3) goes unless best
    assert admitted(v, {6: (3, 0.9), 13: (3, 0.5)}, best=13) == [13]
    # 1 and 2 in across 15: each can be completed alone (1 5 9, 2 4 9), not both (the third would be 12): the surer
    assert admitted(v, {9: (1, 0.9), 10: (2, 0.6)}, best=9) == [9]
    assert admitted(v, {9: (1, 0.9), 10: (5, 0.6)}, best=9) == [9, 10]


def test_sum_rule_completes_only_a_solution_and_rules_off_is_no_rule():
    task, v, rule = _rule()
    right = torch.as_tensor(RUNS_ANSWER)[None]
    assert rule.completes(v, right).tolist() == [True]
    wrong = right.clone()
    wrong[0, 13], wrong[0, 14] = 2, 3  # across 5 still, but down 7 and down 8 break
    assert rule.completes(v, wrong).tolist() == [False]
    st = task.structure((4, 4), v[0].numpy())
    assert isinstance(rule_for(task, torch.as_tensor(st.neighbours), False, torch.as_tensor(st.positions)), NoRule)
    assert isinstance(rule_for(task, torch.as_tensor(st.neighbours), True, torch.as_tensor(st.positions)), Sum)


# ---------------------------------------------------------------- models on a structure per grid


def test_attention_and_the_model_read_a_structure_per_grid_as_each_alone():
    torch.manual_seed(0)
    att = GraphAttention(16, 2, slots=5)
    x = torch.randn(3, 10, 16)
    table = torch.stack([torch.randperm(10)[:5] for _ in range(10)])  # a cell listed at most once a row,
    table[:, 1:][torch.rand(10, 4) < 0.3] = -1  # as a Kakuro's table lists its run mates, some slots empty
    with torch.no_grad():
        att.slot_bias.normal_()
    per_grid = table[None].expand(3, -1, -1).contiguous()
    assert torch.allclose(att(x, table), att(x, per_grid), atol=1e-6)  # small: attended densely
    dense, blocks.DENSE_TABLE_ENTRIES = blocks.DENSE_TABLE_ENTRIES, 0
    try:
        assert torch.allclose(att(x, table), att(x, per_grid), atol=1e-6)  # too large for that: gathered
    finally:
        blocks.DENSE_TABLE_ENTRIES = dense
    task = KakuroTask(8)
    puzzles, _ = task.make_pool(2, 9, workers=1, mix=("6", "7"))
    puzzles = torch.as_tensor(puzzles.astype(np.int64))
    config = {**TINY_LOOPMDM, "n_values": 9, "tokens": task.tokens, "position_sizes": task.position_sizes,
              "slots": enc.SLOTS}
    model = LoopMDM(LoopMDMConfig(**config)).eval()
    batch = task.structure(None, puzzles.numpy())
    with torch.no_grad():
        together = model(puzzles, puzzles > 0, torch.as_tensor(batch.positions), torch.as_tensor(batch.graph), 2)
        for i in range(2):
            alone = task.structure(None, puzzles[i].numpy())
            one = model(puzzles[i:i + 1], puzzles[i:i + 1] > 0, torch.as_tensor(alone.positions),
                        torch.as_tensor(alone.graph), 2)
            assert torch.allclose(together[i], one[0], atol=1e-5)


class _Knows(Network):
    """Sure of the answer of whichever puzzle it reads (found by its clues), or of a wrong one."""

    def __init__(self, solutions: np.ndarray, wrong: bool = False):
        super().__init__()
        self.solutions, self.wrong = torch.as_tensor(solutions.astype(np.int64)), wrong

    def forward(self, values, given, positions, graph, loops):
        rows = []
        for v in values:
            clues = v >= enc.BLOCK
            (k,) = [k for k, s in enumerate(self.solutions) if torch.equal(s[clues], v[clues])]
            s = self.solutions[k].clamp(1, 9)
            rows.append(s % 9 + 1 if self.wrong else s)
        return torch.nn.functional.one_hot(torch.stack(rows) - 1, 9).float() * 8 - 4


def test_the_sampler_runs_each_puzzle_under_its_own_structure_and_verifies():
    task = KakuroTask(8)
    puzzles, solutions = task.make_pool(3, 4, workers=1, mix=("6", "7", "8"))
    puzzles = puzzles.astype(np.int64)
    config = SamplerConfig(loops=1, max_steps=8, chains=2)
    decoder = models.decoder("loopmdm", _Knows(solutions), task, config, CPU)
    out = decoder.solve(puzzles)
    assert all(o.verified for o in out)
    assert all(np.array_equal(o.values, s) for o, s in zip(out, solutions))
    wrong = models.decoder("loopmdm", _Knows(solutions, wrong=True), task, config, CPU).solve(puzzles)
    assert not any(o.verified for o in wrong)
    with pytest.raises(ValueError, match="one at a time"):  # straight to the sampler, several puzzles at once
        Sampler(_Knows(solutions), task, config, CPU).solve(puzzles)
    for name in ("argmax", "native"):
        config = SamplerConfig(loops=1, max_steps=8, decoder=name)
        assert all(o.verified for o in models.decoder("loopmdm", _Knows(solutions), task, config, CPU).solve(puzzles))


def test_the_ar_kinds_are_refused_with_one_line():
    from csp_diffusion.train import TrainConfig, check

    for kind in ("ar", "ar-solver"):
        with pytest.raises(UserError, match="rows and columns"):
            check(TrainConfig(task="kakuro", model=kind))
        with pytest.raises(UserError, match="rows and columns"):
            models.decoder(kind, None, KakuroTask(), SamplerConfig(), CPU)
    r = runner.invoke(app, ["train", "ar", "--task", "kakuro", "--steps", "1"])
    assert "rows and columns" in one_line_error(r)


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny Kakuro LoopMDM trained a few steps on 6x6 puzzles in an 8x8 canvas (the library's train, so the
    held-out check stays two puzzles)."""
    from csp_diffusion.train import TrainConfig, train

    out = tmp_path_factory.mktemp("kakuro-run")
    cfg = TrainConfig(task="kakuro", model="loopmdm", model_config=dict(TINY_LOOPMDM), steps=3, batch_size=4,
                      pool_size=8, pool_mix=["6"], grid=8, eval_puzzles=2)
    result = train(cfg, out)
    assert result["step"] == 3 and "solve_rate" in result
    return out / "model.safetensors"


def test_a_tiny_model_solves_end_to_end_and_reports_only_verified_answers(checkpoint, tmp_path):
    task = KakuroTask()
    r = runner.invoke(app, ["solve", "kakuro", str(SAMPLE), "--solver", "loopmdm", "--checkpoint", str(checkpoint),
                            "--steps", "6", "--chains", "2", "--limit", "2", "--json"])
    assert r.exit_code in (0, 1), r.output
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(records) == 2 and r.exit_code == (0 if all(rec["solved"] for rec in records) else 1)
    for rec, puzzle in zip(records, grid.read_file(SAMPLE)):
        assert rec["solver"] == "loopmdm" and rec["chains"] == 2 and rec["rules"] and rec["steps"] <= 6
        if rec["solved"]:  # never unless the verifier accepts it
            assert task.check(puzzle, task.answer(rec["solution"])) is None
        else:
            assert rec["solution"] is None and task.answer(rec["final"]).shape == puzzle.shape
    r = runner.invoke(app, ["solve", "kakuro", str(SAMPLE), "--solver", "loopmdm", "--checkpoint", str(checkpoint),
                            "--steps", "2", "--limit", "1", "--no-rules", "--decoder", "native"])
    assert r.exit_code in (0, 1) and "Traceback" not in r.output
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "kakuro-loopmdm.safetensors").write_bytes(checkpoint.read_bytes())
    r = runner.invoke(app, ["bench", "--task", "kakuro", "--puzzles", str(SAMPLE), "--limit", "2", "--checkpoints",
                            str(folder), "--steps", "4", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["solver"]: row for row in json.loads(r.stdout)}
    assert set(rows) == {"loopmdm", "cpsat"} and rows["cpsat"]["solved"] == 2
    assert 0 <= rows["loopmdm"]["cell_accuracy"] <= 1
