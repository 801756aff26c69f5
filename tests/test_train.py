"""Defects mended with the architecture rework, each tested where it could fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import TINY, TINY_LOOPMDM

from csp_diffusion import models
from csp_diffusion.train import TrainConfig, optimizer, train
from puzzles import seeds


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


def test_each_use_of_generated_puzzles_has_its_own_stream():
    # the old arithmetic (pool seed * 97 + k, held-out 10,000,000 + s, bench 20,000,000 + s) let a pool seed of
    # 206,186 meet a bench seed's range; named streams differ in their spawn key whatever the seeds
    states = {}
    for use in seeds.USES:
        for seed in (0, 1, 2, 97, 206_186, 10_000_000, 20_000_000):
            s = seeds.stream(use, seed)
            states[(use, seed)] = tuple(s.generate_state(4))
            for k in range(3):
                states[(use, seed, k)] = tuple(seeds.child(s, k).generate_state(4))
    assert len(set(states.values())) == len(states)
    assert seeds.child(seeds.stream("bench", 1), 2).generate_state(2).tolist() == \
        seeds.child(seeds.stream("bench", 1), 2).generate_state(2).tolist()  # reproducible


def test_a_bench_set_and_a_training_pool_with_the_same_seed_share_no_puzzle():
    from csp_diffusion.bench import load
    from puzzles.domains import get_task

    bench = load("sudoku", "gen:hard:8:seed=0").puzzles
    pool = get_task("sudoku").make_pool(8, seeds.stream("pool", 0), workers=1, mix=("hard",))[0]
    assert not {p.tobytes() for p in bench} & {np.asarray(p, np.int8).tobytes() for p in pool}


def test_bench_flops_count_each_puzzles_own_size_and_the_loops_it_ran():
    from csp_diffusion.bench import PuzzleSet, run, summarize
    from puzzles import maze as mz

    mazes = mz.generate(1, 7, seed=1) + mz.generate(1, 13, seed=2)
    refs = [mz.path_mask(mz.solve(m)) for m in mazes]
    pset = PuzzleSet("maze", mazes, refs, "two sizes")
    r = run("loopmdm", pset, {"max_steps": 8}, 10.0)
    small, large = (x.extra for x in r.results)
    assert all(x.verified for x in r.results)
    # a trace model stops looping once its answer verifies: far fewer loops than the cap it was planned with
    assert small["loops_run"] < small["loops"] and large["loops_run"] < large["loops"]
    assert large["flops"] > small["flops"] > 0  # each at its own size (was: the first puzzle's, at the cap)
    row = summarize(pset, r)
    assert row["flops_per_puzzle"] == pytest.approx((small["flops"] + large["flops"]) / 2)
