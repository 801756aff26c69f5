"""`csp compare` end to end at a toy FLOP budget, and the statistics that decide its claims."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from csp_diffusion.study import Study, match_widths, run
from csp_diffusion.study.report import _reach, claims, difference, flops_ratio, trend
from puzzles.domains import get_task


def _bits(rng, p, seeds=3, n=400):
    return rng.random((seeds, n)) < p


def test_a_clear_difference_is_held_and_a_null_one_undecided():
    rng = np.random.default_rng(0)
    a, b = _bits(rng, 0.6), _bits(rng, 0.4)
    est, lo, hi = difference(a, b)
    assert 0 < lo < est < hi and abs(est - 0.2) < 0.05
    est, lo, hi = difference(_bits(rng, 0.5), _bits(rng, 0.5))
    assert lo < 0 < hi
    est, lo, hi = difference(b, a)
    assert hi < 0


def test_seed_spread_widens_the_interval():
    """Seeds that disagree make a wider interval than seeds that agree, at the same mean."""
    rng = np.random.default_rng(1)
    agree = np.stack([rng.random(400) < 0.5 for _ in range(3)])
    disagree = np.stack([rng.random(400) < p for p in (0.2, 0.5, 0.8)])
    base = _bits(rng, 0.5)
    w_agree = np.subtract(*difference(agree, base)[1:][::-1])
    w_disagree = np.subtract(*difference(disagree, base)[1:][::-1])
    assert w_disagree > 1.5 * w_agree


def test_trend_over_loop_counts():
    rng = np.random.default_rng(2)
    rising = np.stack([_bits(rng, p) for p in (0.1, 0.2, 0.3, 0.4)])
    est, lo, hi = trend(rising, [1, 2, 4, 8])
    assert lo > 0 and abs(est - 0.1) < 0.03
    flat = np.stack([_bits(rng, 0.3) for _ in range(4)])
    assert trend(flat, [1, 2, 4, 8])[1] < 0 < trend(flat, [1, 2, 4, 8])[2]


def test_flops_ratio_reads_the_budget_curve():
    budgets = np.array([1e12, 1e13])
    assert _reach(budgets, np.array([0.2, 0.6]), 0.4) == pytest.approx(10**12.5)
    assert _reach(budgets, np.array([0.5, 0.6]), 0.4) == 1e12  # above the target at the smallest budget
    assert _reach(budgets, np.array([0.1, 0.2]), 0.4) == math.inf
    rng = np.random.default_rng(3)
    loop = [_bits(rng, 0.2), _bits(rng, 0.6)]
    mdm = [_bits(rng, 0.1), _bits(rng, 0.4)]
    est, lo, hi = flops_ratio(loop, mdm, [1e12, 1e13])
    assert est == pytest.approx(10**0.5, rel=0.15) and lo < est < hi
    nothing = [np.zeros((3, 400), bool)] * 2
    assert math.isnan(flops_ratio(loop, nothing, [1e12, 1e13])[1])  # a rate of 0 gives nothing to reach

    def rate(p):  # three seeds of 400 puzzles, exactly p of them solved
        return np.repeat((np.arange(400) < round(400 * p))[None], 3, axis=0)

    # the MDM's own curve counts: at 50% from the first budget, it needed 1e12, LoopMDM 10^12.75 to get there
    est, _, _ = flops_ratio([rate(0.2), rate(0.6)], [rate(0.5), rate(0.5)], [1e12, 1e13])
    assert est == pytest.approx(10**-0.75)
    # at the ceiling both curves are flat: no ratio is read from them
    assert math.isnan(flops_ratio([rate(0.2), rate(1.0)], [rate(0.99), rate(1.0)], [1e12, 1e13])[0])


def _text(bits) -> str:
    return "".join("1" if b else "0" for b in bits)


def _row(variant, budget, bits, seed, **extra):
    """A study row whose every decoder solved `bits` (unless `by_decoder` is given)."""
    return {"variant": variant, "budget_flops": budget, "seed": seed, "solved": _text(bits),
            "by_decoder": {"sampler": _text(bits), "argmax": _text(bits)}, **extra}


def _verdicts(rows, decoder="sampler") -> dict:
    return {c["claim"].split(" (")[0]: c["verdict"] for c in claims(rows, {"decoders": ["sampler", "argmax"]})
            if f"decoder {decoder}" in c["claim"] or "decoder" not in c["claim"]}


def test_claims_read_held_not_held_and_undecided():
    rng = np.random.default_rng(4)
    rows = []
    for s in range(3):
        strong, weak, same = (rng.random(300) < p for p in (0.7, 0.2, 0.7))
        loops = {str(k): _text(rng.random(300) < 0.1 * k) for k in (1, 2, 4, 8)}
        rows += [_row("loopmdm", 1e12, strong, s, by_loops=loops, no_retract=_text(weak), rules_off=_text(weak),
                      rules_off_no_retract=_text(weak)),
                 _row("mdm-same-params", 1e12, weak, s), _row("hrm", 1e12, same, s), _row("trm", 1e12, rng.random(300) < 0.9, s)]
    got = _verdicts(rows)
    assert got["looping beats no looping at the same parameters"] == "held"
    assert got["loopmdm beats hrm at equal training FLOPs"] == "undecided"
    assert got["loopmdm beats trm at equal training FLOPs"] == "not held"
    claims_ = {c["claim"]: c["verdict"] for c in claims(rows, {"decoders": ["sampler"]})}
    assert claims_["retraction helps (loopmdm, sampler, rules on: retract on > off)"] == "held"
    assert claims_["retraction helps (loopmdm, sampler, rules off: retract on > off)"] == "undecided"
    assert claims_["the rule check helps (loopmdm, sampler: rules on > off)"] == "held"
    assert got["more loops at inference buy accuracy"] == "held"
    # a study under way: a claim read from fewer seeds than the plan's says how many it had
    first = [r for r in rows if r["seed"] == 0 or r["variant"] == "hrm"]
    partial = {c["claim"]: c["verdict"] for c in claims(first, {"decoders": ["sampler"], "seeds": 3})}
    assert partial["looping beats no looping at the same parameters (loopmdm > mdm-same-params) (decoder sampler "
                   "for both)"].endswith(" (1 of 3 seeds)")
    assert "seeds" not in claims(rows, {"decoders": ["sampler"], "seeds": 3})[0]["verdict"]


def test_no_claim_against_a_model_that_did_not_learn():
    """LoopMDM at 70% against an HRM at 2% under one decoder is not "held": HRM did not learn; under the
    other decoder, where HRM solves 40%, the claim is decided as usual."""
    rng = np.random.default_rng(7)
    rows = []
    for s in range(3):
        strong = rng.random(400) < 0.7
        hrm = {"sampler": _text(rng.random(400) < 0.4), "argmax": _text(rng.random(400) < 0.02)}
        rows += [_row("loopmdm", 1e13, strong, s), _row("hrm", 1e13, strong, s, by_decoder=hrm)]
    assert _verdicts(rows, "argmax")["loopmdm beats hrm at equal training FLOPs"] == "hrm did not learn at this budget"
    assert _verdicts(rows, "sampler")["loopmdm beats hrm at equal training FLOPs"] == "held"


def test_rows_read_out_by_different_decoders_make_no_architecture_claim():
    """Rows scored each by its own kind's decoding (no `by_decoder`, as older studies were) compare nothing."""
    rows = [{"variant": v, "budget_flops": 1e13, "seed": 0, "solved": "1" * 50 if v == "loopmdm" else "0" * 50}
            for v in ("loopmdm", "hrm")]
    assert not any("beats hrm" in c["claim"] for c in claims(rows, {"decoders": ["sampler"]}))


def test_variants_match_loopmdm_parameters_within_five_percent():
    study = Study(task="sudoku")
    widths = match_widths(study, get_task("sudoku"))
    target = widths["loopmdm"][1]
    for name, (_, params) in widths.items():
        if name != "mdm-same-compute":
            assert abs(params / target - 1) <= 0.05, name
    assert widths["mdm-same-compute"][1] > 2 * target
    assert widths["trm"][0] > study.dim  # TRM's 2 blocks are wider


def test_compare_trains_one_run_per_seed_and_scores_every_snapshot_on_every_tier(tmp_path, monkeypatch):
    """One run per variant and seed trains to the largest budget; each budget's snapshot is scored on each tier;
    a second run trains and scores nothing, and results.json alone (the runs gone) is enough."""
    monkeypatch.setenv("CSP_CACHE", str(tmp_path / "cache"))
    study = Study(task="sudoku", budgets=(1e8, 3e8), seeds=2, single_seed=("ar-solver",),
                  variants=("loopmdm", "mdm-same-params", "ar-solver", "trm"), k_max=2, dim=32, batch_size=2,
                  eval_puzzles=3, steps=2, pool_size=16, tiers=("easy=gen:easy:3:seed=1", "hard=gen:hard:3:seed=1"))
    results = run(study, tmp_path / "cmp")
    rows = results["rows"]
    runs = [(v, s) for s in range(2) for v in study.variants if s < study.seeds_of(v)]
    assert [(r["variant"], r["seed"], r["budget_flops"], r["tier"]) for r in rows] == [
        (v, s, b, t) for v, s in runs for b in (1e8, 3e8) for t in ("easy", "hard")]
    assert sorted((tmp_path / "cmp" / "runs").iterdir()) == sorted(tmp_path / "cmp" / "runs" / f"{v}-seed{s}"
                                                                    for v, s in runs)
    for r in rows:
        assert len(r["solved"]) == 3 and 0 <= r["cell_accuracy"] <= 1 and r["train_flops"] > 0
    first = [r for r in rows if r["variant"] == "loopmdm" and r["seed"] == 0]
    assert first[0]["steps"] < first[-1]["steps"]  # the smaller budget's snapshot is an earlier step of one run
    assert first[0]["train_flops"] < first[-1]["train_flops"]
    loop = next(r for r in rows if r["variant"] == "loopmdm" and r["budget_flops"] == 3e8)
    assert set(loop["by_loops"]) == {"1", "2", "4", "8"} and "no_retract" in loop and "rules_off_no_retract" in loop
    assert 0 <= loop["doubt_auroc"] <= 1 or loop["wrong_commits"] == 0
    assert all(set(r["by_decoder"]) == {"sampler", "argmax"} for r in rows)
    assert all("native" in r for r in rows if r["tier"] == "easy" and r["budget_flops"] == 3e8)
    assert set(results["gates"]) == set(study.variants) and not any(g["passed"] for g in results["gates"].values())
    report = (tmp_path / "cmp" / "report.md").read_text()
    assert "## Claims" in report and "## Gates" in report and "## Tier hard" in report and "FLOPs to 50%" in report
    assert "## Doubt" in report
    assert "## The ladder" in report and "guesses beyond singles" in report  # each rung rated, rates by band
    ladder = results["ladder"]["tiers"]
    assert [len(ladder[t]["ratings"]) for t in ("easy", "hard")] == [3, 3]
    assert all(isinstance(x, int) and x >= 0 for t in ladder.values() for x in t["ratings"])
    saved = json.loads((tmp_path / "cmp" / "results.json").read_text())
    assert saved["claims"] and {c["tier"] for c in saved["claims"]} == {"easy", "hard"}
    assert all(c["verdict"] in ("held", "not held", "undecided") or "did not learn" in c["verdict"]
               or "not reproduced" in c["verdict"] for c in saved["claims"])
    files = sorted((tmp_path / "cmp" / "runs").rglob("*.*"))
    stamps = [f.stat().st_mtime_ns for f in files]
    again = run(study, tmp_path / "cmp")  # nothing is trained or scored again
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert [r["solved"] for r in again["rows"]] == [r["solved"] for r in rows]
    import shutil

    shutil.rmtree(tmp_path / "cmp" / "runs")  # the checkpoints are not kept; results.json is the record
    assert [r["solved"] for r in run(study, tmp_path / "cmp")["rows"]] == [r["solved"] for r in rows]
    assert not (tmp_path / "cmp" / "runs").exists()  # nothing was trained again


def test_the_maze_study_trains_on_9x9_and_climbs_a_ladder_of_sizes(tmp_path, monkeypatch):
    from csp_diffusion.runtime import pick_device
    from csp_diffusion.study.runs import _tiers, config

    monkeypatch.setenv("CSP_CACHE", str(tmp_path / "cache"))
    study, maze = Study(task="maze", eval_puzzles=2), get_task("maze")
    tiers = _tiers(maze, study, lambda e: None)
    assert {t: p.shape for t, p in tiers.items()} == {"9x9": (9, 9), "15x15": (15, 15), "30x30 walls": (30, 30)}
    cfg = config(study, maze, "trm", 0, 1e12, 64, pick_device(None))
    assert cfg.grid == 9 and cfg.schedule == "constant" and cfg.ema == 0.999 and cfg.weight_decay == 1.0
    assert study.overrides("trm", maze)[1] == {"hints": 0.5}  # the maze task's study_hints
    # a task that asks for no curriculum leaves the config as it was, so the runs a study under way saved resume
    assert Study(task="sudoku").overrides("trm", get_task("sudoku"))[1] == {} and Study(task="kakuro").overrides(
        "hrm-noised", get_task("kakuro"))[1] == {"noised": 1.0}


def test_budget_folders_never_collide_and_other_settings_are_refused(tmp_path, monkeypatch):
    from csp_diffusion.study import budget_name
    from puzzles.errors import UserError

    assert len({budget_name(b) for b in (1.5e13, 2e13, 2.5e13, 3e13, 3.3e13)}) == 5 and budget_name(3e12) == "3e12"
    monkeypatch.setenv("CSP_CACHE", str(tmp_path / "cache"))
    study = Study(task="sudoku", budgets=(3e8,), seeds=1, variants=("loopmdm",), k_max=2, dim=32, batch_size=2,
                  eval_puzzles=2, steps=2, pool_size=16, tiers=("easy=gen:easy:2:seed=1",))
    run(study, tmp_path / "cmp")
    with pytest.raises(UserError, match="other settings"):
        run(Study(**{**study.__dict__, "batch_size": 3, "widths": {}}), tmp_path / "cmp")


def test_the_crossed_cell_tells_the_objective_from_the_architecture():
    rng = np.random.default_rng(5)
    rows = [_row(v, 1e14, rng.random(300) < p, 0) for v, p in (("loopmdm", 0.8), ("hrm", 0.4), ("hrm-noised", 0.6))]
    study = {"decoders": ["sampler"], "single_seed": ["hrm-noised", "loopmdm", "hrm"]}
    verdicts = {c["claim"]: c["verdict"] for c in claims(rows, study, "hard")}
    assert verdicts["LoopMDM's noised-grid objective helps HRM (hrm-noised > hrm) (decoder sampler for both)"] == "held"
    assert verdicts["LoopMDM beats HRM on the same objective (loopmdm > hrm-noised) (decoder sampler for both)"] == "held"


def test_only_published_rivals_read_not_reproduced():
    """Our own variants (the retraction pair, the unlooped MDM) are never "not reproduced", gates or not."""
    rng = np.random.default_rng(3)
    rows = [_row(v, 1e14, rng.random(200) < p, 0) for v, p in (("loopmdm-correct", 0.6), ("loopmdm-mask", 0.3))]
    gates = {"loopmdm-mask": {"passed": False, "checks": {}}}
    study = {"decoders": ["sampler"], "single_seed": ["loopmdm-correct", "loopmdm-mask"]}
    verdicts = {c["claim"]: c["verdict"] for c in claims(rows, study, "hard", gates)}
    assert verdicts["self-correcting training beats mask-only (loopmdm-correct > loopmdm-mask) (decoder sampler for "
                    "both)"] == "held"


def test_a_rival_that_fails_its_gates_is_not_reproduced_never_beaten():
    rng = np.random.default_rng(6)
    for rate in (0.2, 0.0):  # solving some puzzles or none: failed gates read "not reproduced", never "did not learn"
        rows = [_row(v, 1e13, rng.random(200) < p, s) for v, p in (("loopmdm", 0.6), ("hrm", rate)) for s in range(3)]
        gates = {"hrm": {"passed": False, "checks": {}}, "loopmdm": {"passed": True, "checks": {}}}
        verdicts = {c["claim"]: c["verdict"] for c in claims(rows, {"decoders": ["sampler"]}, "hard", gates)}
        assert verdicts["loopmdm beats hrm at equal training FLOPs (decoder sampler for both)"] == \
            "hrm not reproduced at this budget (its gates)"


def test_flops_to_target_reads_the_curve_with_an_interval():
    from csp_diffusion.study import to_target

    rng = np.random.default_rng(7)
    rows = [{**_row("hrm", b, rng.random(300) < p, s), "tier": "easy"} for b, p in ((1e12, 0.1), (1e13, 0.3),
                                                                                  (1e14, 0.7)) for s in range(3)]
    est, lo, hi = to_target(rows, "hrm", "easy", 0.5)
    assert 1e13 < lo < est < hi < 1e14
    assert to_target(rows, "hrm", "easy", 0.9)[0] == math.inf


def test_gates_read_loss_native_decoder_and_the_papers_orderings():
    from csp_diffusion.study import gates

    study = Study(task="sudoku", tiers=("easy=gen:easy:4",), budgets=(1e13,))
    def row(v, kind, solved, steps, loss, native=None, budget=1e13):
        r = {"variant": v, "kind": kind, "seed": 0, "budget_flops": budget, "tier": "easy", "solved": solved,
             "steps": steps, "loss_first_last": [2.2, loss]}
        return {**r, "native": native} if native else r
    rows = [row("hrm", "hrm", "1100", 500, 0.3, "1110"), row("hrm", "hrm", "1000", 200, 0.5, budget=3e12),
            row("trm", "trm", "1000", 300, 0.4, "1000"), row("ar", "ar", "0000", 900, 2.0, "0000"),
            row("ar-solver", "ar-solver", "1000", 900, 1.0, "1100")]
    g = gates(rows, study, get_task("sudoku"))
    assert g["hrm"]["passed"] and not g["ar"]["passed"]
    assert g["trm"]["checks"]["level with hrm at equal steps"]["hrm_budget"] == 3e12 and g["trm"]["checks"][
        "level with hrm at equal steps"]["passed"]
    assert g["ar-solver"]["checks"]["ahead of row-major ar"]["passed"]
    assert not g["trm"]["checks"]["half of easy solved, own decoder"]["passed"]


def test_flops_ratio_waits_for_every_budget_to_have_its_seeds():
    rng = np.random.default_rng(5)
    rows = [_row(v, b, rng.random(50) < 0.5, s) for v in ("loopmdm", "mdm-same-params") for b in (1e12, 1e13)
            for s in range(3 if b == 1e12 else 1)]
    assert not any("fewer training FLOPs" in c["claim"] for c in claims(rows, {}))  # no crash, no claim yet


def test_compare_takes_the_decoders_to_score_with(tmp_path, monkeypatch):
    """`csp compare --decoder argmax` scores every variant with argmax alone; an unknown one is one line."""
    from typer.testing import CliRunner

    from cli.app import app
    from csp_diffusion import study as cmp

    seen = {}
    monkeypatch.setattr(cmp, "run", lambda study, out, on_event=None: seen.setdefault("study", study) and {})
    monkeypatch.setattr("cli.compare._report", lambda out: None)
    runner = CliRunner()
    r = runner.invoke(app, ["compare", "--decoder", "argmax", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert seen["study"].decoders == ("argmax",)
    bad = runner.invoke(app, ["compare", "--decoder", "bogus", "--out", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "unknown decoder" in bad.output


def test_doubt_auroc_tells_a_model_that_doubts_its_mistakes_from_one_that_does_not():
    from csp_diffusion.study import auroc

    assert auroc(np.array([0.9, 0.8]), np.array([0.1, 0.2, 0.3])) == 1.0
    assert auroc(np.array([0.5]), np.array([0.5])) == 0.5
    assert auroc(np.array([0.1]), np.array([0.9])) == 0.0 and math.isnan(auroc(np.array([]), np.array([0.2])))


def test_doubt_auroc_interval_is_over_the_puzzles():
    from csp_diffusion.study.doubt import auroc, auroc_interval

    rng = np.random.default_rng(2)
    widths = []
    for n in (40, 400):  # the interval holds the estimate and narrows with more puzzles
        wrong_p, right_p = rng.integers(n, size=5 * n), rng.integers(n, size=20 * n)
        wrong, right = rng.normal(0.8, 1, 5 * n).round(1), rng.normal(0, 1, 20 * n).round(1)
        lo, hi = auroc_interval(wrong, right, wrong_p, right_p, n, reps=400)
        assert lo < auroc(wrong, right) < hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2
    # every wrong commit doubted more: the interval is the point; one puzzle's commits all move together
    assert auroc_interval(np.array([0.9, 0.8]), np.array([0.1, 0.2]), np.array([0, 1]), np.array([0, 1]), 2) == (1.0, 1.0)
    assert all(math.isnan(x) for x in auroc_interval(np.array([]), np.array([0.2]), np.array([], int), np.array([0]), 1))
    # one wrong commit among 100 puzzles: most resamples lack it, so no interval is claimed
    assert all(math.isnan(x) for x in auroc_interval(np.array([0.9]), np.full(99, 0.1), np.array([0]),
                                                      np.arange(1, 100), 100))


def test_the_ladder_rates_each_rung_and_leaves_unanswered_puzzles_unrated():
    from csp_diffusion.study.report import _ladder

    ladder = {"rating": "guesses", "tiers": {"easy": {"source": "gen", "ratings": [0, 0, 1, None]},
                                             "hard": {"source": "f", "ratings": [2, 3, 5, 8]}}}
    rows = [_row("loopmdm", 1e14, np.array([1, 1, 1, 0], bool), 0, tier="easy"),
            _row("loopmdm", 1e14, np.array([1, 0, 0, 0], bool), 0, tier="hard"),
            _row("hrm", 1e14, np.array([1, 1, 0, 0], bool), 0, tier="easy")]  # hrm not scored on hard: left out
    text = "\n".join(_ladder(ladder, rows, "sampler", 1e14, ["loopmdm", "hrm"]))
    assert "| easy | `gen` | 3 | 0 (0-1) | 67% |" in text and "| hard | `f` | 4 |" in text
    assert "| loopmdm |" in text and "| hrm |" not in text
    assert _ladder(None, rows, "sampler", 1e14, ["loopmdm"]) == []


def test_the_retraction_pair_is_compared_at_equal_flops_and_by_retractions_gain():
    """loopmdm-correct against loopmdm-mask: their solve rates under each decoder, and the difference of their
    gains from retraction (on minus off), rules on and off."""
    rng = np.random.default_rng(9)
    rows = []
    for variant, on, off in (("loopmdm-correct", 0.7, 0.4), ("loopmdm-mask", 0.5, 0.48)):
        solved = rng.random(400) < on
        rows.append(_row(variant, 1e14, solved, 0, no_retract=_text(solved & (rng.random(400) < off / on)),
                         rules_off=_text(solved), rules_off_no_retract=_text(solved)))
    study = {"decoders": ["sampler"], "single_seed": ["loopmdm-correct", "loopmdm-mask"], "seeds": 3}
    verdicts = {c["claim"]: c["verdict"] for c in claims(rows, study, "hard")}
    assert verdicts["self-correcting training beats mask-only (loopmdm-correct > loopmdm-mask) (decoder sampler for "
                    "both)"] == "held"
    assert verdicts["retraction pays more after self-correcting training (its gain, loopmdm-correct minus "
                    "loopmdm-mask, sampler, rules on)"] == "held"
    assert verdicts["retraction pays more after self-correcting training (its gain, loopmdm-correct minus "
                    "loopmdm-mask, sampler, rules off)"] == "undecided"


def test_processes_sharing_a_study_take_the_runs_no_other_holds_and_keep_each_others_rows(tmp_path, monkeypatch):
    """A run another process holds is skipped, not waited for; every process merges its rows into the record."""
    from csp_diffusion.study.runs import STUDY_LOCK, _write
    from puzzles.files import locked

    monkeypatch.setenv("CSP_CACHE", str(tmp_path / "cache"))
    study = Study(task="sudoku", budgets=(3e8,), seeds=1, variants=("loopmdm", "mdm-same-params"), k_max=2, dim=32,
                  batch_size=2, eval_puzzles=2, steps=2, pool_size=16, tiers=("easy=gen:easy:2:seed=1",))
    out = tmp_path / "cmp"
    with locked(out / "runs" / "loopmdm-seed0", STUDY_LOCK):  # another process is training it
        first = run(study, out)
    assert [r["variant"] for r in first["rows"]] == ["mdm-same-params"]
    assert not (out / "runs" / "loopmdm-seed0" / "model.safetensors").exists()
    both = run(study, out)  # the lock gone, the run is taken; the other's rows are read from the record
    assert [r["variant"] for r in both["rows"]] == ["loopmdm", "mdm-same-params"]
    assert both["rows"][1]["solved"] == first["rows"][0]["solved"]
    # a process that scored only its own rows writes them without dropping the rows another wrote meanwhile
    _write(study, get_task("sudoku"), [both["rows"][0]], out)
    saved = json.loads((out / "results.json").read_text())
    assert [r["variant"] for r in saved["rows"]] == ["loopmdm", "mdm-same-params"]


def test_a_variant_swept_again_or_rebuilt_loses_its_rows_and_no_other_does(tmp_path):
    from dataclasses import asdict

    from csp_diffusion.study.runs import _recorded

    old = Study(task="sudoku", variants=("loopmdm", "ar-solver"), lrs={"loopmdm": 1e-3, "ar-solver": 1e-3},
                widths={"loopmdm": 64, "ar-solver": 70}, params={"loopmdm": 1000, "ar-solver": 990})
    rows = [{"variant": v, "seed": 0, "budget_flops": 1e12, "tier": "easy", "params": old.params[v]}
            for v in old.variants]
    (tmp_path / "results.json").write_text(json.dumps({"study": asdict(old), "rows": rows}))

    def kept(**change):
        return {k[0] for k in _recorded(Study(**{**old.__dict__, **change}), tmp_path)}

    assert kept() == {"loopmdm", "ar-solver"}
    assert kept(lrs={"loopmdm": 1e-3, "ar-solver": 3e-4}) == {"loopmdm"}  # swept again
    assert kept(params={"loopmdm": 1000, "ar-solver": 995}) == {"loopmdm"}  # another network, the same width
    # a variant waiting for its sweep is not in the study: its rows stay in the record as they are
    assert kept(variants=("loopmdm",), lrs={"loopmdm": 1e-3}, widths={"loopmdm": 64}) == {"loopmdm", "ar-solver"}


def test_rates_read_at_equal_optimizer_steps_interpolate_in_log_steps():
    from csp_diffusion.study.report import at_steps

    curve = [(100, 0.0), (1000, 0.5), (10000, 1.0)]
    assert at_steps(curve, 100) == 0.0 and at_steps(curve, 1000) == 0.5 and at_steps(curve, 10000) == 1.0
    assert abs(at_steps(curve, 316) - 0.25) < 0.01  # halfway in log steps
    assert at_steps(curve, 99) is None and at_steps(curve, 10001) is None and at_steps([], 5) is None
