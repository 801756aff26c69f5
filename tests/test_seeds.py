"""Generated puzzles: each use (training pool, held-out set, bench set) draws from a seed stream of its own."""

from __future__ import annotations

import numpy as np

from puzzles import seeds


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

    bench = load(get_task("sudoku"), "gen:hard:8:seed=0").puzzles
    pool = get_task("sudoku").make_pool(8, seeds.stream("pool", 0), workers=1, mix=("hard",))[0]
    assert not {p.tobytes() for p in bench} & {np.asarray(p, np.int8).tobytes() for p in pool}
