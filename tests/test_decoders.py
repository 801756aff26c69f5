"""Every model kind read out by every decoder, the rules on and off (csp_diffusion/decoders.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import TINY

from csp_diffusion import models
from csp_diffusion.decoders import UnmaskDecoder
from csp_diffusion.denoiser import Recurrent, as_denoiser
from csp_diffusion.sampler import Sampler, SamplerConfig
from puzzles.sudoku.task import SudokuTask

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def puzzles():
    task = SudokuTask()
    return task, task.make_pool(3, seed=0, workers=1, mix=("hard",))[0].astype(np.int64)


def _model(kind: str):
    torch.manual_seed(0)
    return models.build(kind, models.MODELS[kind].config(**TINY).to_dict()).eval()


@pytest.mark.parametrize("kind", list(models.MODELS))
@pytest.mark.parametrize("decoder", models.DECODERS)
@pytest.mark.parametrize("rules", [True, False])
def test_every_kind_reads_out_with_every_decoder(kind, decoder, rules, puzzles):
    task, grids = puzzles
    config = SamplerConfig(decoder=decoder, rules=rules, max_steps=3, chains=2 if decoder == "sampler" else 1,
                           loops=1)
    out = models.decoder(kind, _model(kind), task, config, CPU).solve(grids)
    assert len(out) == len(grids)
    for o, p in zip(out, grids):
        kept = p > 0
        assert (o.values[kept] == p[kept]).all()  # givens stand under every decoder
        assert o.verified == task.verify(p, o.values)  # never reported solved unless it verifies
        assert o.extra["passes"] >= 1


def test_the_argmax_decoder_is_one_call():
    task = SudokuTask()
    grids = task.make_pool(2, seed=1, workers=1, mix=("hard",))[0].astype(np.int64)
    for kind in ("loopmdm", "hrm", "trm"):
        out = models.decoder(kind, _model(kind), task, SamplerConfig(decoder="argmax", loops=2), CPU).solve(grids)
        assert [o.extra["passes"] for o in out] == [1, 1] and [o.extra["loops_run"] for o in out] == [2, 2]
        assert all((o.values > 0).all() for o in out)  # every cell filled at once


def test_a_recurrent_model_under_the_sampler_carries_its_state():
    """Two segments in one call equal one segment, then one more from the state it returned."""
    task = SudokuTask()
    grids = torch.as_tensor(task.make_pool(2, seed=2, workers=1, mix=("hard",))[0], dtype=torch.long)
    st = task.structure()
    positions, graph = torch.as_tensor(st.positions), torch.as_tensor(st.graph)
    for kind in ("hrm", "trm"):
        net = as_denoiser(_model(kind))
        assert isinstance(net, Recurrent) and net.resumes
        given = grids > 0
        with torch.no_grad():
            both = net(grids, given, positions, graph, 2)
            _, state = net(grids, given, positions, graph, 1, return_state=True)
            then = net(grids, given, positions, graph, 1, state=state)
            cold = net(grids, given, positions, graph, 1)
        assert torch.allclose(both, then, atol=1e-5) and not torch.allclose(both, cold, atol=1e-3)
    assert as_denoiser(_model("loopmdm")) is not None and not _model("loopmdm").resumes


def test_a_committed_cell_keeps_a_distribution_of_its_own_under_a_recurrent_model():
    """Only the true givens are pinned: the sampler's doubt can read a committed cell's probability."""
    task = SudokuTask()
    puzzle = torch.as_tensor(task.make_pool(1, seed=3, workers=1, mix=("hard",))[0], dtype=torch.long)
    st = task.structure()
    blank = int(torch.nonzero(puzzle[0] == 0)[0])
    grid = puzzle.clone()
    grid[0, blank] = 5  # committed, not given
    with torch.no_grad():
        logits = as_denoiser(_model("hrm"))(grid, puzzle > 0, torch.as_tensor(st.positions), torch.as_tensor(st.graph), 1)
    probs = logits.softmax(-1)[0, blank]
    assert torch.isfinite(logits[0, blank]).all() and probs.max() < 1


@pytest.mark.parametrize("rules", [True, False])
def test_unmasking_never_revisits_a_cell(rules, puzzles):
    task, grids = puzzles
    seen = []
    decoder = UnmaskDecoder(_model("loopmdm"), task, SamplerConfig(max_steps=8, loops=1, rules=rules), CPU)
    decoder.solve(grids[:1], on_step=lambda s: seen.append(s.values.copy()))
    for before, after in zip(seen, seen[1:]):
        filled = before > 0
        assert (after[filled] == before[filled]).all()  # a committed cell is never changed
    if not rules:
        assert len(seen) == 8 and (seen[-1] > 0).all()  # the steps share out the blanks and fill the grid


def test_the_sampler_without_rules_retracts_no_clash():
    """Rules off: the clash rule neither refuses commits nor retracts; only the model's doubt retracts."""
    task = SudokuTask()
    grids = task.make_pool(2, seed=4, workers=1, mix=("hard",))[0].astype(np.int64)
    model = _model("loopmdm")
    config = SamplerConfig(rules=False, doubt=0.0, max_steps=6, loops=1, patience=0)
    out = Sampler(model, task, config, CPU).solve(grids)
    assert all(o.retractions == 0 for o in out)


def test_ar_sampled_chains_keep_the_first_verified_and_count_every_chain(puzzles):
    task, grids = puzzles
    one = models.decoder("ar", _model("ar"), task, SamplerConfig(decoder="argmax"), CPU).solve(grids)
    four = models.decoder("ar", _model("ar"), task, SamplerConfig(decoder="sampler", chains=4), CPU).solve(grids)
    for a, b in zip(one, four):
        assert b.extra["chains"] == 4 and b.extra["passes"] == 4 * a.extra["passes"]
        if not b.verified:  # no chain verified: chain 0, the greedy one, is reported
            assert b.extra["chain"] == 0 and (b.values == a.values).all()


def test_each_kind_keeps_its_default_decoder():
    task = SudokuTask()
    assert models.sampling_defaults("loopmdm", task) == {"decoder": "sampler", "chains": task.chains, "max_steps": task.steps}
    assert models.sampling_defaults("hrm", task) == {"decoder": "native", "chains": 1, "max_steps": 64}  # as before
    assert models.sampling_defaults("hrm", task, "native") == {"decoder": "native", "chains": 1, "max_steps": 16}
    assert models.sampling_defaults("ar", task)["decoder"] == "argmax"
    assert models.sampling_defaults("hrm", task, "sampler")["max_steps"] == models.SAMPLER_STEPS
