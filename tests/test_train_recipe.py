"""The study's training recipe: warm-up then a constant rate, AdamW's beta2, an EMA of the weights, snapshots at
FLOP budgets (one run, a budget curve), TRM's mixer variant and HRM on the noised-grid objective."""

from __future__ import annotations

import json

import pytest
import torch

from csp_diffusion import models
from csp_diffusion.checkpoint import load_state
from csp_diffusion.train import TrainConfig, train
from puzzles.errors import UserError
from tests.helpers import TINY


def _cfg(**kw) -> TrainConfig:
    base = dict(task="sudoku", model="loopmdm", model_config={**TINY, "max_loops": 2}, batch_size=2, pool_size=16,
                eval_puzzles=0, log_every=1)
    return TrainConfig(**{**base, **kw})


def test_constant_schedule_keeps_the_rate_after_warm_up(tmp_path):
    out = tmp_path / "r"
    train(_cfg(steps=8, schedule="constant", warmup_fraction=0.25, lr=3e-4, beta2=0.95), out)
    lrs = [json.loads(line)["lr"] for line in (out / "log.jsonl").read_text().splitlines()
           if json.loads(line)["event"] == "step"]
    assert lrs[0] < 3e-4 and lrs[-4:] == [3e-4] * 4
    state = load_state(out / "state.pt")
    assert state["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.95)


def test_the_ema_is_what_the_run_ships_and_resumes_exactly(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(_cfg(steps=6, ema=0.9, lr=1e-2, schedule="constant"), whole)
    train(_cfg(steps=3, ema=0.9, lr=1e-2, schedule="constant"), split)
    train(_cfg(steps=6), split, resume=True)  # the run's own settings (its EMA) come back from its state
    shipped, _ = models.load(whole / "model.safetensors", "loopmdm", "sudoku")
    raw = load_state(whole / "state.pt")
    assert any(not torch.equal(v, raw["model"][k]) for k, v in shipped.state_dict().items())  # the average
    assert all(torch.equal(v, raw["ema"][k]) for k, v in shipped.state_dict().items())
    again, _ = models.load(split / "model.safetensors", "loopmdm", "sudoku")
    assert all(torch.allclose(v, again.state_dict()[k]) for k, v in shipped.state_dict().items())


def test_snapshots_land_at_their_budgets_once_and_survive_a_resume(tmp_path):
    out = tmp_path / "r"
    train(_cfg(steps=1), tmp_path / "probe")
    flops = models.load(tmp_path / "probe" / "model.safetensors", "loopmdm", "sudoku")[1]["info"]["train_flops"]
    kept = [2 * flops, 5 * flops]
    train(_cfg(flops=3 * flops, snapshots=kept), out)
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == [f"{b:.3g}.safetensors".replace("+", "")
                                                                      for b in kept[:1]]
    train(_cfg(flops=6 * flops), out, resume=True)
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    snaps = [e for e in events if e["event"] == "snapshot"]
    assert [e["budget"] for e in snaps] == kept  # each once, the second after the resume
    for e, budget in zip(snaps, kept):
        assert abs(e["train_flops"] - budget) <= 2 * flops  # at the step nearest it (a step's FLOPs vary with loops)
    _, meta = models.load(out / "snapshots" / f"{kept[1]:.3g}.safetensors".replace("+", ""), "loopmdm", "sudoku")
    assert meta["info"]["step"] == snaps[1]["step"] and meta["info"]["snapshot_flops"] == kept[1]


def test_bad_recipe_settings_are_one_line_before_any_work(tmp_path):
    for kw, msg in ((dict(schedule="linear"), "unknown schedule"), (dict(ema=1.0), "ema"), (dict(beta2=1.5), "beta2"),
                    (dict(snapshots=[0.0]), "snapshots")):
        with pytest.raises(UserError, match=msg):
            train(_cfg(steps=1, **kw), tmp_path / "r")
    with pytest.raises(UserError, match="fixed number of cells"):
        train(TrainConfig(task="maze", model="trm", model_config={**TINY, "mixer": True}, steps=1), tmp_path / "m")


def test_trm_mixer_and_hrm_on_the_noised_grid_train(tmp_path):
    r = train(TrainConfig(task="sudoku", model="trm", model_config={**TINY, "mixer": True, "n": 1, "recursions": 1},
                          steps=2, batch_size=2, pool_size=16, eval_puzzles=0), tmp_path / "trm")
    assert r["step"] == 2
    model, meta = models.load(tmp_path / "trm" / "model.safetensors", "trm", "sudoku")
    assert meta["config"]["mixer"] and not any("attn" in k for k in model.state_dict())
    r = train(TrainConfig(task="sudoku", model="hrm", model_config={**TINY, "noised": 1.0}, steps=3, batch_size=2,
                          pool_size=16, eval_puzzles=0), tmp_path / "hrm")
    assert r["step"] == 3 and r["loss"] == r["loss"]  # finite
