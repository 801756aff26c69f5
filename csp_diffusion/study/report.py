"""The architecture study's verdicts and write-up: each research claim decided by a 95% interval on its
numbers, the report (markdown) and the plots. runs.py makes the runs.

Intervals are a paired bootstrap over puzzles and seeds: each resample draws the held-out puzzles
with replacement (the same draw for both sides of a difference: every variant solved the same
puzzles) and each side's seeds with replacement (the same draw for both sides when they are the
same model scored two ways). A claim that A beats B is *held* when the interval of A - B lies above 0,
*not held* when it lies below, and *undecided* when it straddles 0. "Matches or beats" is held when
the interval lies above -MARGIN (a non-inferiority margin) and not held when it lies below it.

Architecture claims compare two variants read out by the same decoder (each row's `by_decoder`), one
claim per decoder; a row scored without them (each kind by its own decoding, as older studies were)
makes no such claim. A claim against a variant that solves under LEARNED of the puzzles is not
decided at all: it reads "B did not learn at this budget" (beating a model that has not started
learning says nothing about its architecture).
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np

REPS = 2000
MARGIN = 0.02  # "matches": within 2 points of solve rate
RIVALS = ("ar", "ar-solver", "hrm", "trm")  # the published kinds a claim may call "not reproduced" (gates failed)
LEARNED = 0.05  # a variant solving less than this share of the puzzles did not learn: no claim against it
VERDICT = {True: "held", False: "not held", None: "undecided"}


def _matrix(rows: list[dict], variant: str, budget: float, key: str = "solved", sub: str | None = None):
    """bool (seeds, puzzles) of a variant's per-puzzle results at a budget (None when it has no runs, or a
    run lacks that score)."""
    picked = [r for r in rows if r["variant"] == variant and r["budget_flops"] == budget]
    if not picked or any(key not in r or (sub and sub not in r[key]) for r in picked):
        return None
    bits = [r[key][sub] if sub else r[key] for r in sorted(picked, key=lambda r: r["seed"])]
    return np.array([[c == "1" for c in b] for b in bits])


def _resample(rng, seeds: int, puzzles: int):
    return rng.integers(seeds, size=seeds), rng.integers(puzzles, size=puzzles)


def difference(a: np.ndarray, b: np.ndarray, paired_seeds: bool = False, seed: int = 0) -> tuple[float, float, float]:
    """(mean of a - mean of b, 2.5% and 97.5% bootstrap quantiles): a, b bool (seeds, puzzles) on the same puzzles."""
    rng = np.random.default_rng(seed)
    est = float(a.mean() - b.mean())
    out = np.empty(REPS)
    for k in range(REPS):
        sa, idx = _resample(rng, len(a), a.shape[1])
        sb = sa if paired_seeds else rng.integers(len(b), size=len(b))
        out[k] = a[sa][:, idx].mean() - b[sb][:, idx].mean()
    lo, hi = np.quantile(out, [0.025, 0.975])
    return est, float(lo), float(hi)


def _beats(lo: float, hi: float, margin: float = 0.0) -> bool | None:
    """held (True) when the interval lies above -margin, not held (False) when below, else None; an
    interval that cannot be had (nan) decides nothing."""
    if lo > -margin:
        return True
    if hi < -margin:
        return False
    return None


def _budget(flops: float) -> str:
    return f"{flops:.3g}".replace("+", "")


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}"


def _rate(m: np.ndarray) -> str:
    return f"{100 * m.mean():.1f}%"


def _slope(m: np.ndarray, x: np.ndarray) -> float:
    """OLS slope of solve rate on x over the loop counts; m: (loops, seeds, puzzles)."""
    y = m.mean(axis=(1, 2))
    return float(np.polyfit(x, y, 1)[0])


def trend(by: np.ndarray, loops: list[int], seed: int = 0) -> tuple[float, float, float]:
    """(slope of solve rate per doubling of the loops, 95% interval): by (loops, seeds, puzzles), the
    same models and puzzles at each loop count, resampled together."""
    x = np.log2(np.array(loops, float))
    rng = np.random.default_rng(seed)
    est = _slope(by, x)
    out = np.empty(REPS)
    for k in range(REPS):
        s, idx = _resample(rng, by.shape[1], by.shape[2])
        out[k] = _slope(by[:, s][:, :, idx], x)
    lo, hi = np.quantile(out, [0.025, 0.975])
    return est, float(lo), float(hi)


def _reach(budgets: np.ndarray, rates: np.ndarray, target: float) -> float:
    """Training FLOPs at which a curve (rates at budgets, linear in log FLOPs between them) first reaches
    target: the smallest budget when it starts above (a bound: the curve was not measured below it),
    inf when it never gets there."""
    logs = np.log10(budgets)
    if rates[0] >= target:
        return float(budgets[0])
    for k in range(1, len(budgets)):
        if rates[k] >= target:
            t = (target - rates[k - 1]) / (rates[k] - rates[k - 1])
            return float(10 ** (logs[k - 1] + t * (logs[k] - logs[k - 1])))
    return math.inf


CEILING = 0.98  # a solve rate this close to all: the budget curves are flat there, no FLOPs ratio can be read


def flops_ratio(loop: list[np.ndarray], mdm: list[np.ndarray], budgets: list[float], seed: int = 0):
    """(ratio, 95% interval): the FLOPs the same-size MDM needs to first reach its solve rate at its largest
    budget over the FLOPs LoopMDM needs to reach that rate (both curves linear in log FLOPs between snapshots);
    nan where that rate is 0 or at the ceiling (CEILING: both curves flat, the ratio a reading of noise);
    loop, mdm: one (seeds, puzzles) matrix per budget (ascending)."""
    b = np.array(budgets, float)

    def ratio(lm, mm):
        target = mm[-1]
        if not 0 < target < CEILING:  # nothing solved: no rate to reach; all but solved: no curve to read
            return math.nan
        return _reach(b, mm, target) / _reach(b, lm, target)

    est = ratio(np.array([m.mean() for m in loop]), np.array([m.mean() for m in mdm]))
    rng = np.random.default_rng(seed)
    out = np.empty(REPS)
    P = loop[0].shape[1]
    for k in range(REPS):
        idx = rng.integers(P, size=P)
        sl = rng.integers(len(loop[0]), size=len(loop[0]))
        sm = rng.integers(len(mdm[0]), size=len(mdm[0]))
        out[k] = ratio(np.array([m[sl][:, idx].mean() for m in loop]), np.array([m[sm][:, idx].mean() for m in mdm]))
    if np.isnan(out).mean() > 0.025:  # the MDM solves nothing in too many resamples to bound the ratio
        return float(est), math.nan, math.nan
    lo, hi = np.nanquantile(out, [0.025, 0.975])
    return float(est), float(lo), float(hi)


def claims(rows: list[dict], study: dict, tier: str | None = None, gates: dict | None = None) -> list[dict]:
    """Each research claim at each budget on one tier's rows: the numbers, the estimate with its 95% interval, the
    verdict. A claim against a variant that failed its gates (runs.gates) reads "not reproduced at this budget"."""
    out = []
    budgets = sorted({r["budget_flops"] for r in rows})
    failed = {v for v, g in (gates or {}).items() if not g["passed"]}

    def seeds(variants, budget) -> str:
        """" (k of n seeds)" when a variant of the claim has fewer seeds scored at `budget` than the plan's."""
        planned = {v: 1 if v in study.get("single_seed", ()) else study.get("seeds", 1) for v in variants}
        have = {v: len({r["seed"] for r in rows if r["variant"] == v and r["budget_flops"] == budget}) for v in variants}
        short = [v for v in variants if have[v] < planned[v]]
        return f" ({min(have[v] for v in short)} of {max(planned[v] for v in short)} seeds)" if short else ""

    def add(claim, budget, numbers, est, lo, hi, held, unit="points", verdict=None, variants=("loopmdm",)):
        out.append({"claim": claim, "budget_flops": budget, "tier": tier, "numbers": numbers, "estimate": est,
                    "interval": [lo, hi], "unit": unit, "verdict": (verdict or VERDICT[held]) + seeds(variants, budget)})

    def versus(claim, a, b, budget, decoder, margin=0.0):
        ma, mb = _matrix(rows, a, budget, "by_decoder", decoder), _matrix(rows, b, budget, "by_decoder", decoder)
        if ma is None or mb is None:
            return
        claim = f"{claim} (decoder {decoder} for both)"
        est, lo, hi = difference(ma, mb)
        numbers = f"{a} {_rate(ma)} vs {b} {_rate(mb)}"
        if b in failed and b in RIVALS:  # before "did not learn": a rival that failed its gates is not reproduced
            add(claim, budget, numbers, est, lo, hi, None, verdict=f"{b} not reproduced at this budget (its gates)",
                variants=(a, b))
            return
        if mb.mean() < LEARNED:
            add(claim, budget, numbers, est, lo, hi, None, verdict=f"{b} did not learn at this budget", variants=(a, b))
            return
        add(claim, budget, numbers, est, lo, hi, _beats(lo, hi, margin), variants=(a, b))

    decoders = study.get("decoders") or ()
    for budget in budgets:
        for decoder in decoders:
            versus("looping beats no looping at the same parameters (loopmdm > mdm-same-params)",
                   "loopmdm", "mdm-same-params", budget, decoder)
            versus(f"looping matches or beats real depth at the same per-step compute (loopmdm >= mdm-same-compute, "
                   f"margin {100 * MARGIN:.0f} points)", "loopmdm", "mdm-same-compute", budget, decoder, MARGIN)
            for rival in ("ar", "ar-solver", "hrm", "trm"):
                versus(f"loopmdm beats {rival} at equal training FLOPs", "loopmdm", rival, budget, decoder)
            versus("self-correcting training beats mask-only (loopmdm-correct > loopmdm-mask)", "loopmdm-correct",
                   "loopmdm-mask", budget, decoder)
            # the crossed cell: the objective apart from the architecture
            versus("LoopMDM's noised-grid objective helps HRM (hrm-noised > hrm)", "hrm-noised", "hrm", budget, decoder)
            versus("LoopMDM beats HRM on the same objective (loopmdm > hrm-noised)", "loopmdm", "hrm-noised", budget,
                   decoder)
        gains = {}  # each LoopMDM variant's per-puzzle gain from retraction (on minus off), rules on and off
        for variant in ("loopmdm", "loopmdm-mask", "loopmdm-correct"):  # runs.RETRACTING
            if _matrix(rows, variant, budget, "rules_off") is not None:
                for rules, on_key, off_key in (("on", "solved", "no_retract"), ("off", "rules_off", "rules_off_no_retract")):
                    on, off = _matrix(rows, variant, budget, on_key), _matrix(rows, variant, budget, off_key)
                    est, lo, hi = difference(on, off, paired_seeds=True)
                    add(f"retraction helps ({variant}, sampler, rules {rules}: retract on > off)", budget,
                        f"on {_rate(on)} vs off {_rate(off)}", est, lo, hi, _beats(lo, hi), variants=(variant,))
                    gains[variant, rules] = (on.astype(float) - off, est)
        for rules in ("on", "off"):  # does training to doubt make retraction pay more? (the gains' difference)
            if ("loopmdm-correct", rules) in gains and ("loopmdm-mask", rules) in gains:
                (a, ea), (b, eb) = gains["loopmdm-correct", rules], gains["loopmdm-mask", rules]
                est, lo, hi = difference(a, b)
                add(f"retraction pays more after self-correcting training (its gain, loopmdm-correct minus "
                    f"loopmdm-mask, sampler, rules {rules})", budget, f"gain {_pct(ea)} vs {_pct(eb)} points", est, lo,
                    hi, _beats(lo, hi), variants=("loopmdm-correct", "loopmdm-mask"))
        loop = _matrix(rows, "loopmdm", budget)
        if loop is None or _matrix(rows, "loopmdm", budget, "rules_off") is None:
            continue
        off = _matrix(rows, "loopmdm", budget, "rules_off")
        est, lo, hi = difference(loop, off, paired_seeds=True)
        add("the rule check helps (loopmdm, sampler: rules on > off)", budget, f"on {_rate(loop)} vs off {_rate(off)}",
            est, lo, hi, _beats(lo, hi))
        first = next(r for r in rows if r["variant"] == "loopmdm" and r["budget_flops"] == budget)
        if "by_loops" not in first:
            continue
        loops = sorted(int(k) for k in first["by_loops"])
        by = np.stack([_matrix(rows, "loopmdm", budget, "by_loops", str(k)) for k in loops])
        est, lo, hi = trend(by, loops)
        add("more loops at inference buy accuracy (slope of solve rate per doubling of loops)", budget,
            ", ".join(f"{k}: {_rate(m)}" for k, m in zip(loops, by)), est, lo, hi, _beats(lo, hi))
    loop = [_matrix(rows, "loopmdm", b) for b in budgets]
    mdm = [_matrix(rows, "mdm-same-params", b) for b in budgets]
    # the curve needs every budget, with one seed count per variant at all of them (a study under way has not)
    if len(budgets) > 1 and all(m is not None for m in loop + mdm) and len({len(m) for m in loop}) == 1 \
            and len({len(m) for m in mdm}) == 1:
        est, lo, hi = flops_ratio(loop, mdm, budgets)
        add("LoopMDM reaches the same-size MDM's accuracy with fewer training FLOPs (ratio; its paper: up to 3.3x)",
            budgets[-1], "MDM " + ", ".join(f"{_budget(b)}: {_rate(m)}" for b, m in zip(budgets, mdm)) + "; LoopMDM "
            + ", ".join(f"{_budget(b)}: {_rate(m)}" for b, m in zip(budgets, loop)),
            est, lo, hi, _beats(lo - 1, hi - 1), unit="x", variants=("loopmdm", "mdm-same-params"),
            verdict="mdm-same-params did not learn at this budget" if mdm[-1].mean() < LEARNED else
            f"undecided (the MDM's rate is at the ceiling, {100 * CEILING:.0f}% or more)" if mdm[-1].mean() >= CEILING
            else None)
    return out


def _stat(values: list[float]) -> tuple[float, float]:
    """(mean, standard deviation); one value has no spread (nan)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def _interval(c: dict) -> str:
    lo, hi = c["interval"]
    if math.isnan(c["estimate"]):
        return "none"
    if c["unit"] == "x":
        return f"{c['estimate']:.2f}x [{lo:.2f}, {hi:.2f}]"
    per = " per doubling" if "doubling" in c["claim"] else ""
    return f"{_pct(c['estimate'])} [{_pct(lo)}, {_pct(hi)}] points{per}"


def _mean_rate(rs: list[dict], key: str = "solved", decoder: str | None = None) -> float:
    bits = [r["by_decoder"][decoder] if decoder else r[key] for r in rs]
    return statistics.fmean(b.count("1") / len(b) for b in bits)


def to_target(rows: list[dict], variant: str, tier: str, target: float, decoder: str | None = None,
              seed: int = 0) -> tuple[float, float, float]:
    """(training FLOPs at which `variant` first solves `target` of `tier`, 95% interval): the budget curve of the
    mean over seeds, linear in log FLOPs between snapshots, bootstrapped over puzzles and seeds; inf = not
    reached (at the largest budget scored)."""
    picked = [r for r in rows if r["variant"] == variant and r["tier"] == tier]
    budgets = sorted({r["budget_flops"] for r in picked})
    seeds = sorted({r["seed"] for r in picked})
    by = {(r["budget_flops"], r["seed"]): r["by_decoder"][decoder] if decoder else r["solved"] for r in picked}
    if not budgets or any((b, s) not in by for b in budgets for s in seeds):
        return math.nan, math.nan, math.nan
    m = np.array([[[c == "1" for c in by[b, s]] for s in seeds] for b in budgets])  # (budgets, seeds, puzzles)
    b = np.array(budgets, float)
    est = _reach(b, m.mean(axis=(1, 2)), target)
    rng = np.random.default_rng(seed)
    out = np.empty(REPS)
    for k in range(REPS):
        ss, idx = _resample(rng, m.shape[1], m.shape[2])
        out[k] = _reach(b, m[:, ss][:, :, idx].mean(axis=(1, 2)), target)
    lo, hi = np.quantile(out, 0.025, method="lower"), np.quantile(out, 0.975, method="higher")  # inf: not reached
    return est, float(lo), float(hi)


STEPS = (100, 300, 1000, 3000, 10000)  # the optimizer-step columns of the tables at equal steps


def at_steps(points: list[tuple[int, float]], steps: int) -> float | None:
    """A curve of (optimizer steps, rate) read at `steps`, linear in log steps between its points; None outside."""
    points = sorted(points)
    if not points or not points[0][0] <= steps <= points[-1][0]:
        return None
    for (s0, r0), (s1, r1) in zip(points, points[1:]):
        if s0 <= steps <= s1:
            w = 0.0 if s1 == s0 else (math.log(steps) - math.log(s0)) / (math.log(s1) - math.log(s0))
            return r0 + w * (r1 - r0)
    return points[0][1]


def _at_steps(rows: list[dict], variants: list[str], decoders: list[str]) -> list[str]:
    """One tier's table at equal optimizer steps: each variant's mean over seeds read off its curve against its
    steps (its snapshots'), linear in log steps between them; "-" outside the steps its snapshots span."""
    both = "argmax" in decoders and decoders[0] != "argmax"
    lines = [f"At equal optimizer steps (the same rates read against each run's steps, linear in log steps between "
             f"snapshots; {decoders[0]}" + (" / argmax" if both else "") + "):", "",
             "| variant | " + " | ".join(f"{n:,} steps" for n in STEPS) + " |", "|---|" + "---|" * len(STEPS)]
    for v in variants:
        budgets = sorted({r["budget_flops"] for r in rows if r["variant"] == v})
        curves = {d: [] for d in ((None, "argmax") if both else (None,))}
        for b in budgets:
            rs = [r for r in rows if r["variant"] == v and r["budget_flops"] == b]
            n = statistics.fmean(r["steps"] for r in rs)
            for d in curves:
                curves[d].append((n, _mean_rate(rs, decoder=d)))
        cells = []
        for n in STEPS:
            got = [at_steps(c, n) for c in curves.values()]
            cells.append("-" if got[0] is None else " / ".join(f"{100 * g:.1f}" for g in got))
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return lines + [""]


def _flops_text(x: float) -> str:
    return "not reached" if math.isinf(x) else "-" if math.isnan(x) else _budget(x)


def _rated(tier: dict) -> np.ndarray:
    """A ladder tier's ratings, its unrated puzzles (no answer) left out."""
    return np.array([x for x in tier["ratings"] if x is not None], dtype=float)


def _ladder(ladder: dict | None, rows: list[dict], decoder: str, budget: float | None, variants: list[str]) -> list[str]:
    """The ladder's section: how hard each rung is by the task's rating, and each variant's solve rate at the
    largest budget by rating band, over every tier (the bands: the pooled ratings' deciles, merged where equal)."""
    if not ladder:
        return []
    name, tiers = ladder["rating"], ladder["tiers"]
    lines = ["## The ladder", "", f"Each tier's puzzles rated by {name} (the task's own measure of the reasoning a "
             "puzzle needs).", "", f"| tier | source | puzzles | {name}: median (p10-p90) | rated 0 |", "|---|---|---|---|---|"]
    for tier, t in tiers.items():
        r = _rated(t)
        if len(r):
            p10, med, p90 = np.percentile(r, [10, 50, 90])
            lines.append(f"| {tier} | `{t['source']}` | {len(r)} | {med:.0f} ({p10:.0f}-{p90:.0f}) | "
                         f"{100 * np.mean(r == 0):.0f}% |")
    pooled = np.concatenate([_rated(t) for t in tiers.values()] or [np.zeros(0)])
    if budget is None or not len(pooled):
        return lines + [""]
    edges = sorted(set(np.percentile(pooled, np.arange(0, 100, 10)).round().tolist()))
    bands = [(lo, hi) for lo, hi in zip(edges, edges[1:] + [math.inf])]
    label = [f"{lo:.0f}" if hi == lo + 1 else f"{lo:.0f}+" if hi == math.inf else f"{lo:.0f}-{hi - 1:.0f}"
             for lo, hi in bands]
    lines += ["", f"Solved at {_budget(budget)} ({decoder}, mean over seeds) by {name}, every tier together "
              "(puzzles in each band in brackets):", "",
              "| variant | " + " | ".join(f"{x} ({int(((pooled >= lo) & (pooled < hi)).sum())})" for x, (lo, hi)
                                         in zip(label, bands)) + " |", "|---|" + "---|" * len(bands)]
    for v in variants:  # a variant not yet scored on every tier at this budget is left out (its bands would mix)
        got, rated = [], []
        for tier, t in tiers.items():
            rs = [r for r in rows if r["variant"] == v and r["budget_flops"] == budget and r.get("tier") == tier]
            bits = [r.get("by_decoder", {}).get(decoder, r["solved"]) for r in rs]
            if not rs or any(len(b) != len(t["ratings"]) for b in bits):
                break
            ratings = np.array([np.nan if x is None else x for x in t["ratings"]], dtype=float)
            got.append(np.mean([[c == "1" for c in b] for b in bits], axis=0)[~np.isnan(ratings)])
            rated.append(ratings[~np.isnan(ratings)])
        if not got or len(got) != len(tiers):
            continue
        g, r = np.concatenate(got), np.concatenate(rated)
        cells = [f"{100 * g[(r >= lo) & (r < hi)].mean():.1f}" if ((r >= lo) & (r < hi)).any() else "-"
                 for lo, hi in bands]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return lines + [""]


def report(results: dict) -> str:
    s, rows = results["study"], results["rows"]
    tiers = list(dict.fromkeys(r.get("tier", "held-out") for r in rows))
    budgets = sorted({r["budget_flops"] for r in rows})
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    runs = {(r["variant"], r["seed"]): r for r in rows if r["budget_flops"] == max(budgets)} if rows else {}
    hours = sum(r["train_minutes"] for r in runs.values()) / 60
    decoders = s.get("decoders") or ["sampler"]
    lines = [f"# Architecture study: {s['task']}", "",
             "One training run per variant and seed, to the largest budget, with a snapshot of the weights (an EMA: "
             "warm-up, then a constant learning rate) at every budget; training FLOPs counted by one formula for every "
             f"model kind. {s['seeds']} seeds per variant (one for {', '.join(s.get('single_seed') or []) or 'none'}), "
             f"the same generated training pool ({s['pool_size']:,} puzzles), batch {s['batch_size']}; every variant "
             f"but mdm-same-compute at LoopMDM's parameter count within 5%; each kind's optimizer settings from its "
             f"paper's code and its learning rate from the sweep ({s.get('lrs') or 'none given: 1e-3'}). Tiers: "
             f"{len(tiers)} held-out generated sets (or files), up to {s['eval_puzzles']} puzzles each; step and "
             f"segment limit {s['steps']}; solved means verified. The runs took {hours:.2f} hours of training wall "
             "clock (a column, never the budget).", "",
             f"Decoding: every variant is read out by each of {', '.join(decoders)} (the rule check on); tables show "
             "`first / argmax` where both were scored; each architecture claim compares two variants under one "
             f"decoder. A claim against a variant that solves under {100 * LEARNED:.0f}% reads \"did not learn at "
             "this budget\"; against one that failed its gates, \"not reproduced at this budget\".", ""]
    lines += _ladder(results.get("ladder"), rows, decoders[0], max(budgets) if budgets else None, variants)
    gates = results.get("gates") or {}
    if gates:
        lines += ["## Gates (at the largest budget scored)", "", "| variant | check | value | target | passed |",
                  "|---|---|---|---|---|"]
        for v, g in gates.items():
            for name, c in g["checks"].items():
                lines.append(f"| {v} | {name} | {c['value']:.3g} | {c['target']:.3g} | {'yes' if c['passed'] else 'no'} |")
            if not g["checks"]:
                lines.append(f"| {v} | (nothing to check yet) | | | no |")
        lines.append("")
    for tier in tiers:
        mine = [r for r in rows if r.get("tier", "held-out") == tier]
        lines += [f"## Tier {tier}: solved at each budget (mean over seeds; {decoders[0]}"
                  + (" / argmax)" if "argmax" in decoders and decoders[0] != "argmax" else ")"), "",
                  "| variant | " + " | ".join(_budget(b) for b in budgets) + " | FLOPs to 20% [95%] | FLOPs to 50% [95%] |",
                  "|---|" + "---|" * (len(budgets) + 2)]
        for v in variants:
            cells = []
            for b in budgets:
                rs = [r for r in mine if r["variant"] == v and r["budget_flops"] == b]
                if not rs:
                    cells.append("-")
                    continue
                text = f"{100 * _mean_rate(rs):.1f}"
                if "argmax" in decoders and decoders[0] != "argmax":
                    text += f" / {100 * _mean_rate(rs, decoder='argmax'):.1f}"
                if len(rs) < (1 if v in (s.get("single_seed") or ()) else s["seeds"]):
                    text += f" ({len(rs)} seed{'s' if len(rs) > 1 else ''})"
                cells.append(text)
            reach = []
            for target in (0.2, 0.5):
                est, lo, hi = to_target(mine, v, tier, target)
                reach.append(f"{_flops_text(est)} [{_flops_text(lo)}, {_flops_text(hi)}]")
            lines.append(f"| {v} | " + " | ".join(cells) + " | " + " | ".join(reach) + " |")
        lines.append("")
        lines += _at_steps(mine, variants, decoders)
    doubts = [r for r in rows if "doubt_auroc" in r]
    if doubts:
        lines += ["## Doubt: does the model doubt its own wrong commits? (largest budget)", "",
                  "AUROC of one minus the probability of each committed value, wrong commits against right ones, after "
                  "the model's surest half of the blanks is committed (0.5: no better than chance; "
                  "csp_diffusion/study/doubt.py), with its 95% interval over the puzzles where one seed was scored. "
                  "The self-correcting variant's target: 0.8 or more on the hard tier.",
                  "", "| variant | " + " | ".join(tiers) + " |", "|---|" + "---|" * len(tiers)]
        for v in dict.fromkeys(r["variant"] for r in doubts):
            cells = []
            for t in tiers:
                rs = [r for r in doubts if r["variant"] == v and r.get("tier", "held-out") == t]
                lo, hi = (rs[0].get("doubt_interval") or (None, None)) if len(rs) == 1 else (None, None)
                cells.append("-" if not rs else f"{statistics.fmean(r['doubt_auroc'] for r in rs):.3f}"
                             + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None and not math.isnan(lo) else "")
                             + (f" ({sum(r['wrong_commits'] for r in rs):,} wrong)" if "wrong_commits" in rs[0] else ""))
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Optimizer steps at each budget (for reading the tables at equal steps)", "",
              "| variant | width | params | lr | " + " | ".join(_budget(b) for b in budgets) + " |",
              "|---|---|---|---|" + "---|" * len(budgets)]
    for v in variants:
        rs = {r["budget_flops"]: r for r in rows if r["variant"] == v and r["seed"] == 0}
        if rs:
            any_ = next(iter(rs.values()))
            lines.append(f"| {v} | {any_['dim']} | {any_['params'] / 1e3:.0f}k | {any_.get('lr') or '-'} | "
                         + " | ".join(str(rs[b]["steps"]) if b in rs else "-" for b in budgets) + " |")
    lines += ["", "## Claims", "", "Each with its estimate and 95% paired-bootstrap interval "
              f"({REPS} resamples of puzzles and seeds).", "",
              "| claim | tier | budget | numbers | estimate [95% interval] | verdict |", "|---|---|---|---|---|---|"]
    for c in results["claims"]:
        lines.append(f"| {c['claim']} | {c.get('tier') or '-'} | {_budget(c['budget_flops'])} | {c['numbers']} | "
                     f"{_interval(c)} | {c['verdict']} |")
    return "\n".join(lines) + "\n"


def plots(results: dict, out: Path) -> list[Path]:
    """Solve rate against training FLOPs per variant (mean over seeds, a band of ± one sd), and LoopMDM's
    against inference loops at each budget (needs matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    budgets = sorted({r["budget_flops"] for r in rows})
    tiers = list(dict.fromkeys(r.get("tier", "held-out") for r in rows))
    made = []
    fig, axes = plt.subplots(1, max(1, len(tiers)), figsize=(3.2 * max(1, len(tiers)) + 1, 3.6), sharey=True,
                             squeeze=False)
    for ax, tier in zip(axes[0], tiers):
        mine = [r for r in rows if r.get("tier", "held-out") == tier]
        for k, name in enumerate(dict.fromkeys(r["variant"] for r in rows)):
            pts = [(b, _stat([r["solve_rate"] for r in mine if r["variant"] == name and r["budget_flops"] == b]))
                   for b in budgets if any(r["variant"] == name and r["budget_flops"] == b for r in mine)]
            if not pts:
                continue
            x = np.array([p[0] for p in pts])
            m = 100 * np.array([p[1][0] for p in pts])
            sd = 100 * np.nan_to_num(np.array([p[1][1] for p in pts]))
            ax.plot(x, m, "o-", color=f"C{k}", label=name)
            ax.fill_between(x, m - sd, m + sd, color=f"C{k}", alpha=0.15)
        ax.set_title(tier, fontsize=9)
        ax.set_xscale("log")
    ax = axes[0][0]
    made.append(_save(fig, ax, "training FLOPs", out / "solve_vs_flops.png"))
    loop_rows = [r for r in rows if r["variant"] == "loopmdm" and "by_loops" in r]
    if loop_rows:
        fig, ax = plt.subplots(figsize=(5, 3.4))
        for k, (tier, b) in enumerate(dict.fromkeys((r.get("tier"), r["budget_flops"]) for r in loop_rows)):
            rs = [r for r in loop_rows if r["budget_flops"] == b and r.get("tier") == tier]
            ks = sorted(rs[0]["by_loops"], key=int)
            m = [100 * statistics.fmean(r["by_loops"][n].count("1") / len(r["by_loops"][n]) for r in rs) for n in ks]
            ax.plot([int(n) for n in ks], m, "o-", color=f"C{k}", label=f"{tier or 'held-out'}, {_budget(b)} FLOPs")
        ax.set_xscale("log", base=2)
        made.append(_save(fig, ax, "loops at inference", out / "solve_vs_loops.png"))
    plt.close("all")
    return made


def _save(fig, ax, xlabel: str, path: Path) -> Path:
    ax.set_xlabel(xlabel)
    ax.set_ylabel("held-out solved (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


__all__ = ["claims", "difference", "flops_ratio", "plots", "report", "trend"]
