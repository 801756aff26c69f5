"""Training through the shared loop: resuming to a run's own end or to a FLOP budget, what the optimizer decays,
and the FLOPs a step counts."""

from __future__ import annotations

import pytest
import torch
from helpers import TINY, TINY_LOOPMDM

from csp_diffusion import models
from csp_diffusion.network import train_flops
from csp_diffusion.train import TrainConfig, optimizer, train


def test_resume_without_a_budget_continues_to_the_runs_own_end(tmp_path):
    cfg = dict(batch_size=4, pool_size=16, eval_puzzles=0, model_config=TINY_LOOPMDM)
    train(TrainConfig(**cfg, steps=3), tmp_path)
    # no --steps or --minutes: the run is at its own budget already, so nothing more trains (was: 1000 steps)
    assert train(TrainConfig(), tmp_path, resume=True)["step"] == 3


@pytest.mark.parametrize("kind", list(models.MODELS))
def test_weight_decay_skips_every_embedding_whatever_its_name(kind):
    model = models.build(kind, models.MODELS[kind].config(**TINY).to_dict())
    opt = optimizer(model, TrainConfig(model=kind))
    decayed = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    embeddings = [m for m in model.modules() if isinstance(m, torch.nn.Embedding)]
    assert embeddings and not any(id(p) in decayed for m in embeddings for p in m.parameters())
    assert any(id(m.weight) in decayed for m in model.modules() if isinstance(m, torch.nn.Linear))
    if kind == "ar":
        assert id(model.segment.weight) not in decayed  # named "segment", not "embed": was decayed


@pytest.mark.parametrize("kind", ["loopmdm", "ar", "ar-solver", "hrm", "trm"])
def test_a_flop_budget_ends_within_two_percent_and_resumes_to_it(tmp_path, kind):
    """Any kind trains to a FLOP budget (here about 40 steps); a run stopped halfway and resumed ends at the
    same count; the checkpoint's train_flops is what the objectives counted."""
    cfg = dict(task="sudoku", model=kind, model_config=dict(TINY), batch_size=2, pool_size=16, eval_puzzles=0,
               warmup=2, checkpoint_every_steps=5)
    probe = train(TrainConfig(**cfg, steps=3), tmp_path / "probe")
    per_step = models.load(tmp_path / "probe" / "model.safetensors")[1]["info"]["train_flops"] / probe["step"]
    budget = 40 * per_step
    train(TrainConfig(**cfg, flops=budget / 2), tmp_path / "run")
    train(TrainConfig(**cfg, flops=budget), tmp_path / "run", resume=True)
    flops = models.load(tmp_path / "run" / "model.safetensors")[1]["info"]["train_flops"]
    assert abs(flops / budget - 1) < 0.02


def test_train_flops_is_forward_plus_twice_the_differentiated_forward():
    assert train_flops(10.0, 4.0) == 18.0
    assert train_flops(10.0, 10.0) == 30.0  # a model differentiated whole costs three forward passes


def test_csp_train_takes_a_flop_budget(tmp_path):
    from typer.testing import CliRunner

    from cli.app import app

    r = CliRunner().invoke(app, ["train", "trm", "--flops", "1e9", "--batch-size", "2", "--pool-size", "8",
                                 "--out", str(tmp_path / "run"), "--set", "dim=16", "--set", "heads=2"],
                           env={"CSP_CACHE": str(tmp_path / "cache")})
    assert r.exit_code == 0, r.output
    flops = models.load(tmp_path / "run" / "model.safetensors")[1]["info"]["train_flops"]
    assert 0.5e9 < flops < 1.5e9
    r = CliRunner().invoke(app, ["train", "trm", "--flops", "0", "--out", str(tmp_path / "other")])
    assert r.exit_code == 2
