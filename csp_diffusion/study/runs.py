"""The architecture study: train matched variants with several seeds, one run each with a snapshot at every
training-FLOP budget, score every snapshot on a ladder of held-out tiers, gate each variant on whether it
learned, and decide the research claims with intervals.

Variants (all share the data, the training loop and the FLOP budget; all but mdm-same-compute have
LoopMDM's parameter count within 5%, each at the width that gets it there):
  loopmdm          LoopMDM: 1 + 2 (looped 1..K times) + 1 blocks
  mdm-same-params  the same 4 blocks run once: same parameters, no looping
  mdm-same-compute prelude + 2K unshared core blocks + coda: LoopMDM's per-step compute at K loops,
                   K times the core's parameters, no looping
  ar               the row-major autoregressive baseline
  ar-solver        the solver-order autoregressive baseline (Shah et al. 2024)
  hrm              the HRM-style baseline (deep supervision, one-step gradient, ACT)
  trm              TRM (a 2-block network, full-recursion gradient, deep supervision, halting); trm-mixer its
                   Sudoku variant (an MLP mixes the cells)
  loopmdm-mask, loopmdm-correct   LoopMDM with mask-only noising / a self-correcting corruption
  hrm-noised       HRM trained on LoopMDM's noised grids (the crossed cell)
Every FLOP is counted by network.train_flops, the same formula for every kind.

Layout of OUT: OUT/runs/VARIANT-seedS/ (one training run, to the largest budget, with snapshots/BUDGET.safetensors
and scores/BUDGET-TIER.json, each snapshot's per-puzzle results on each tier, so neither training nor scoring is
ever redone), OUT/results.json (settings, one row per variant, seed, budget and tier, the gates, the claims),
OUT/report.md and the plots (report.py). results.json is the record that is kept (runs/ holds
checkpoints and is not): a row it holds, scored on the same puzzles by a study with the same training settings,
is taken from it and never retrained, even when runs/ is gone.

Several processes may run one study at once (one a core, say): each takes the runs no other holds (a run's
folder is locked while a process trains and scores it) and merges its rows into results.json under a lock.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from csp_diffusion import models
from csp_diffusion.errors import CheckpointError
from csp_diffusion.runtime import fast_bf16, pick_device
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.study.doubt import doubt
from csp_diffusion.study.report import claims, plots, report
from csp_diffusion.train import TrainConfig, build_model, train
from puzzles.domains import DEFAULT, get_task
from puzzles.errors import UserError
from puzzles.files import locked, write_text

VARIANTS = ("loopmdm", "mdm-same-params", "mdm-same-compute", "ar", "ar-solver", "hrm", "trm")
# Each kind's optimizer settings as its paper's code has them (its learning rate from the study's sweep,
# experiments/study/lr_sweep.py); every run warms up over its first 1% and then keeps the rate constant, with an
# EMA of the weights (TRM's 0.999), so that any point of the run is an endpoint (one run, a whole budget curve)
RECIPES = {
    "loopmdm": {"beta2": 0.98, "weight_decay": 0.05},  # this project's
    "ar": {"beta2": 0.95, "weight_decay": 0.1},  # GPT-2's, as Shah et al. train theirs
    "ar-solver": {"beta2": 0.95, "weight_decay": 0.1},
    "hrm": {"beta2": 0.95, "weight_decay": 1.0},  # HRM's code (AdamATan2 there; AdamW here)
    "trm": {"beta2": 0.95, "weight_decay": 1.0},  # TRM's code, as HRM's plus the EMA
}
SCHEDULE = {"schedule": "constant", "ema": 0.999, "warmup_fraction": 0.01}
LOOPS = (1, 2, 4, 8)  # LoopMDM's inference loop counts for the trend claim
RETRACTING = ("loopmdm", "loopmdm-mask", "loopmdm-correct")  # the variants whose retraction and doubt are measured


@dataclass
class Study:
    task: str = DEFAULT
    budgets: tuple[float, ...] = (1e12, 3e12, 1e13, 3e13, 1e14)  # training FLOPs: one run per variant and seed
    # trains to the largest and keeps a snapshot at each (every snapshot an endpoint: SCHEDULE)
    seeds: int = 3
    single_seed: tuple[str, ...] = ("ar", "mdm-same-compute")  # variants run with one seed (the plan)
    tiers: tuple[str, ...] = ()  # "NAME=SOURCE" (a bench source); () = the task's ladder (task.study_tiers)
    variants: tuple[str, ...] = VARIANTS
    k_max: int = 4
    dim: int = 64  # LoopMDM's width; the others' widths match its parameter count
    batch_size: int = 64
    eval_puzzles: int = 500
    steps: int = 32  # decoding step (and segment) limit at evaluation: every decoder's model calls
    decoders: tuple[str, ...] = ("sampler", "argmax")  # every variant is scored with each (models.DECODERS), the
    # rules on; architecture claims compare variants under one decoder only
    pool_size: int = 20_000
    device: str | None = None
    widths: dict = field(default_factory=dict)  # filled in by run(): each variant's width
    params: dict = field(default_factory=dict)  # filled in by run(): each variant's parameter count
    lrs: dict = field(default_factory=dict)  # learning rates by variant (or by model kind): the sweep's picks;
    # 1e-3 for one not given

    def seeds_of(self, name: str) -> int:
        return 1 if name in self.single_seed else self.seeds

    def lr(self, name: str, task) -> float:
        return self.lrs.get(name, self.lrs.get(self.overrides(name, task)[0], 1e-3))

    def overrides(self, name: str, task) -> tuple[str, dict]:
        """(model kind, config overrides) of a variant on `task` (the study's task object), before width matching."""
        mdm = {"trace": 0}  # the plain objective, so the MDM variants differ only in their loops and depth
        # the recurrent models' curriculum where the task asks for one (task.study_hints: the share of training
        # puzzles given part of their answer); none: their config as the task's own models have it
        hints = task.study_hints
        deep = {"hints": hints} if hints else {}
        return {
            "loopmdm": ("loopmdm", {**mdm, "max_loops": self.k_max}),
            "mdm-same-params": ("loopmdm", {**mdm, "max_loops": 1}),
            "mdm-same-compute": ("loopmdm", {**mdm, "max_loops": 1, "core": 2 * self.k_max}),
            "ar": ("ar", {}),
            "ar-solver": ("ar-solver", {}),
            "hrm": ("hrm", deep),
            "trm": ("trm", deep),
            "trm-mixer": ("trm", {**deep, "mixer": True}),  # TRM's Sudoku variant: an MLP mixes the cells
            # retraction the model earns: mask-only noising against a self-correcting corruption (a third of the revealed
            # cells wrong, and a quarter of batches revealing the model's own surest answers, ReMDM-style)
            "loopmdm-mask": ("loopmdm", {**mdm, "max_loops": self.k_max, "wrong": 0.0}),
            "loopmdm-correct": ("loopmdm", {**mdm, "max_loops": self.k_max, "wrong": 0.3, "own_commits": 0.25}),
            # HRM trained on LoopMDM's noised-grid objective and read by the sampler: looping apart from the objective
            "hrm-noised": ("hrm", {**deep, "noised": 1.0}),
        }[name]


def _params(study: Study, task, name: str, dim: int) -> int:
    kind, extra = study.overrides(name, task)
    cfg = TrainConfig(task=study.task, model=kind, model_config={**extra, "dim": dim})
    return build_model(cfg, task, fresh=True)[0].num_params()


def match_widths(study: Study, task) -> dict[str, tuple[int, int]]:
    """{variant: (width, parameters)}: LoopMDM at study.dim, mdm-same-compute at the same width (its point
    is K times the core), every other variant at the width (a multiple of the heads) whose parameter
    count is nearest LoopMDM's; UserError when that is not within 5%."""
    heads = models.MODELS["loopmdm"].config().heads
    target = _params(study, task, "loopmdm", study.dim)
    out = {}
    for name in study.variants:
        if name in ("loopmdm", "mdm-same-compute"):
            out[name] = (study.dim, _params(study, task, name, study.dim))
            continue
        best = min((abs(_params(study, task, name, d) - target), d) for d in range(heads, 3 * study.dim, heads))[1]
        out[name] = (best, _params(study, task, name, best))
        if abs(out[name][1] / target - 1) > 0.05:
            raise UserError(f"{name} cannot match LoopMDM's {target:,} parameters within 5% (nearest {out[name][1]:,})")
    return out


def budget_name(flops: float) -> str:
    """A budget's folder name: 3e12, 1.5e13 (three significant digits, so no two budgets share one)."""
    return f"{flops:.3g}".replace("+", "")


def run(study: Study, out: Path, on_event: Callable[[dict], None] = lambda e: None) -> dict:
    """Train what is missing (one run per variant and seed, to the largest budget, keeping a snapshot at every
    budget), score every snapshot on every tier that is unscored, write OUT/results.json, OUT/report.md and the
    plots. Seed by seed, so that every variant has a curve before any has three."""
    out.mkdir(parents=True, exist_ok=True)
    task = get_task(study.task)  # the study's task, resolved once for the run
    device = pick_device(study.device)
    widths = _sized(study, task)
    tiers = _tiers(task, study, on_event)
    _write_ladder(task, tiers, out)
    recorded = _recorded(study, out)
    rows: list[dict] = []
    refused: list[str] = []  # runs whose folders hold runs of other settings
    for seed in range(max(study.seeds_of(n) for n in study.variants)):
        for name in study.variants:
            if seed >= study.seeds_of(name):
                continue
            folder = out / "runs" / f"{name}-seed{seed}"
            cfg = config(study, task, name, seed, max(study.budgets), widths[name][0], device, snapshots=list(study.budgets))
            if all(_complete(recorded.get((name, seed, b, t)), study, tiers[t], name, b)
                   for b in study.budgets for t in tiers):
                rows += [recorded[(name, seed, b, t)] for b in study.budgets for t in tiers]
                continue
            with ExitStack() as held:
                try:  # the run is this process's until it is trained and scored
                    held.enter_context(locked(folder, STUDY_LOCK))
                except UserError as e:  # another process has it: left to that one (its rows reach the record)
                    on_event({"event": "phase", "what": f"{name} seed {seed}: skipped ({e})"})
                    continue
                try:
                    _same_settings(folder, cfg, widths[name][1])
                except UserError as e:  # that run is left as it is; the study goes on with the others, then says so
                    on_event({"event": "phase", "what": f"{name} seed {seed}: skipped ({e})"})
                    refused.append(str(e))
                    continue
                rows += _run_one(study, task, name, seed, cfg, folder, tiers, recorded, device, out, on_event)
    results = _write(study, task, rows, out)
    if refused:
        raise UserError(refused[0] + (f" (and {len(refused) - 1} more runs)" if len(refused) > 1 else ""))
    return results


STUDY_LOCK = ".study-lock"


def _run_one(study, task, name, seed, cfg, folder, tiers, recorded, device, out, on_event) -> list[dict]:
    """One run's rows: every scored snapshot from the record, the rest trained (once) and scored."""
    rows = []
    for budget in study.budgets:
        got = [recorded.get((name, seed, budget, t)) for t in tiers]
        if all(_complete(r, study, tiers[t], name, budget) for r, t in zip(got, tiers)):
            rows += got
            continue
        on_event({"event": "variant", "name": name, "seed": seed, "budget": budget})
        _trained(study, cfg, folder, on_event)
        for t, pset in tiers.items():
            row = _scored(folder, name, seed, budget, t, pset, study, task, device, on_event)
            rows.append(row)
            on_event({"event": "evaluated", **row})
        _write(study, task, rows, out)  # after every snapshot: a stopped study has its report so far
    return rows


def rewrite(study: Study, out: Path) -> dict:
    """results.json, report.md and the plots written again from the record (nothing trained or scored): for a
    change in how the report reads the rows. The ladder's ratings are made first where they are missing."""
    task = get_task(study.task)
    _sized(study, task)
    from puzzles.contract import RATING, capable

    if capable(task, RATING) and not (out / LADDER).is_file():
        _write_ladder(task, _tiers(task, study, lambda e: None), out)
    return _write(study, task, [], out)


LADDER = "ladder.json"


def _write_ladder(task, tiers: dict, out: Path) -> None:
    """OUT/ladder.json: each tier's source and, for a task that rates its puzzles (contract.RATING), every
    puzzle's rating in order, so the report can say how hard each rung is and where each model stops."""
    from puzzles.contract import RATING, capable

    if not capable(task, RATING):
        return
    ladder = {"rating": task.rating_name,
              "tiers": {name: {"source": t.source, "ratings": [None if r is None else task.rating(p, r)  # no answer: unrated
                                                               for p, r in zip(t.puzzles, t.references)]}
                        for name, t in tiers.items()}}
    path = out / LADDER
    if not path.is_file() or json.loads(path.read_text()) != ladder:
        write_text(path, json.dumps(ladder))


def _sized(study: Study, task) -> dict[str, tuple[int, int]]:
    """match_widths, its widths and parameter counts kept on the study (the record is checked against them)."""
    widths = match_widths(study, task)
    study.widths, study.params = {k: v[0] for k, v in widths.items()}, {k: v[1] for k, v in widths.items()}
    return widths


def config(study: Study, task, name: str, seed: int, budget: float, width: int, device, lr: float | None = None,
           snapshots: list[float] | None = None) -> TrainConfig:
    """A study run's training settings (`task`: the study's task object): its kind's recipe (RECIPES) and learning
    rate (`lr`, else the study's for its kind), warm-up then constant with an EMA (SCHEDULE), to `budget` FLOPs
    keeping `snapshots`."""
    kind, extra = study.overrides(name, task)
    return TrainConfig(task=study.task, model=kind, model_config={**extra, "dim": width}, flops=budget, seed=seed,
                       batch_size=study.batch_size, pool_size=study.pool_size, device=study.device, eval_puzzles=0,
                       autocast=fast_bf16(device), checkpoint_every_minutes=2.0, lr=lr or study.lr(name, task),
                       snapshots=snapshots, grid=task.study_grid, **RECIPES[kind], **SCHEDULE)


def _trained(study: Study, cfg: TrainConfig, folder: Path, on_event) -> None:
    """Train the run in `folder` to its end unless it got there (resuming what an interruption left)."""
    _same_settings(folder, cfg)
    if not _finished(folder):
        train(cfg, folder, resume=(folder / "state.pt").is_file(), on_event=on_event)


def trained_and_scored(study: Study, task, cfg: TrainConfig, folder: Path, name: str, pset, tier: str = "held-out",
                       on_event=lambda e: None) -> dict:
    """One run (of `task`, the study's task object) trained to cfg.flops (unless it was) and its final weights
    scored on `pset` (a Tier): the row."""
    _trained(study, cfg, folder, on_event)
    return _scored(folder, name, cfg.seed, cfg.flops, tier, pset, study, task, pick_device(study.device), on_event,
                   final=True)


@dataclass
class Tier:
    """One rung of the difficulty ladder: puzzles as the kind reads them, their encodings for the models (one
    grid shape per tier), the references, and where they came from."""

    puzzles: list
    encoded: np.ndarray
    shape: tuple[int, int]
    references: list
    source: str

    @property
    def digest(self) -> str:
        return _digest(self.encoded)


def _tiers(task, study: Study, on_event) -> dict[str, Tier]:
    """The study's tiers: `study.tiers` ("NAME=SOURCE", a bench source: `gen:KIND:N:...` or a file, its first
    eval_puzzles), else the task's ladder (task.study_tiers), eval_puzzles each, generated from the study's own
    seed stream (the sweep and the benchmarks use others)."""
    from csp_diffusion import bench

    specs = dict(t.split("=", 1) for t in study.tiers) if study.tiers else {
        name: f"gen:{kind}:{study.eval_puzzles}:" + ":".join([*(f"{k}={v}" for k, v in opts.items()), "seed=777"])
        for name, (kind, opts) in task.study_tiers.items()}
    out = {}
    for name, source in specs.items():
        on_event({"event": "phase", "what": f"the {name} tier ({source})"})
        pset = bench.load(task, source, study.eval_puzzles)
        encoded = [task.encode(p) for p in pset.puzzles]
        shapes = {tuple(shape) for _, shape in encoded}
        if len(shapes) != 1:
            raise UserError(f"the {name} tier mixes grid sizes ({', '.join(map(str, sorted(shapes)))}); one size a tier")
        out[name] = Tier(pset.puzzles, np.stack([v for v, _ in encoded]).astype(np.int64), shapes.pop(),
                         pset.references, source)
    return out


def _write(study: Study, task, rows: list[dict], out: Path) -> dict:
    """results.json, report.md and the plots from the rows scored so far: `rows` merged into the record on disk
    (a row of `rows` replaces the record's for its variant, seed, budget and tier), under a lock, so that
    processes sharing the study keep each other's rows."""
    with locked(out, ".results-lock", wait=True):
        return _written(study, task, _merged(study, out, rows), out)


def _merged(study: Study, out: Path, rows: list[dict]) -> list[dict]:
    def key(r):
        return r["variant"], r["seed"], r["budget_flops"], r.get("tier")

    merged = {**_recorded(study, out), **{key(r): r for r in rows}}
    order = {v: i for i, v in enumerate(study.variants)}
    tiers = {t: i for i, t in enumerate(dict.fromkeys(r.get("tier") for r in merged.values()))}
    return sorted(merged.values(), key=lambda r: (r["seed"], order.get(r["variant"], len(order)), r["budget_flops"],
                                                  tiers[r.get("tier")]))


def _written(study: Study, task, rows: list[dict], out: Path) -> dict:
    passed = gates(rows, study, task)
    ladder = json.loads((out / LADDER).read_text()) if (out / LADDER).is_file() else None
    results = {"study": {**asdict(study), "budgets": list(study.budgets), "variants": list(study.variants)},
               "rows": rows, "gates": passed, "ladder": ladder,
               "claims": [c for t in dict.fromkeys(r["tier"] for r in rows)
                          for c in claims([r for r in rows if r["tier"] == t], study.__dict__, t, passed)]}
    write_text(out / "results.json", json.dumps(results, indent=1))
    write_text(out / "report.md", report(results))
    plots(results, out)
    return results


_TRAINING = ("task", "k_max", "dim", "batch_size", "pool_size")


def _recorded(study: Study, out: Path) -> dict:
    """{(variant, seed, budget, tier): row} of OUT/results.json when its study trained with the same settings, each
    variant's rows kept while its width, learning rate and parameter count (a changed network) are the study's; a
    variant the study does not run now keeps its rows (one waiting for its learning-rate sweep)."""
    path = out / "results.json"
    if not path.is_file():
        return {}
    try:
        saved = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not valid JSON ({e}): move it away to start the study afresh") from None
    settings = saved.get("study", {})
    if any(settings.get(k) != getattr(study, k) for k in _TRAINING):
        return {}
    same = {v for v, w in settings.get("widths", {}).items()
            if study.widths.get(v) == w and settings.get("lrs", {}).get(v) == study.lrs.get(v)}

    def kept(r: dict) -> bool:  # a variant this study does not run (yet) keeps its rows as they are
        if r["variant"] not in study.variants:
            return True
        return r["variant"] in same and study.params.get(r["variant"], r.get("params")) == r.get("params")

    return {(r["variant"], r["seed"], r["budget_flops"], r.get("tier")): r for r in saved.get("rows", []) if kept(r)}


def _key(study: Study, pset: Tier) -> dict:
    return {"eval_puzzles": len(pset.encoded), "steps": study.steps, "decoders": list(study.decoders),
            "digest": pset.digest}


def _complete(row: dict | None, study: Study, pset: Tier, name: str, budget: float) -> bool:
    """A row scored on these puzzles, with the inference claims' extra scores where they are wanted."""
    return bool(row) and row.get("key") == _key(study, pset) and (
        "rules_off" in row or not _inference(study, name, budget, row.get("tier")))


def _inference(study: Study, name: str, budget: float, tier: str | None) -> bool:
    """LoopMDM and its noising variants at the largest budget are also scored with loops, retraction and the rules
    varied, and their doubt measured (every tier)."""
    return name in RETRACTING and budget == max(study.budgets)


_SETTINGS = ("model", "model_config", "flops", "seed", "batch_size", "pool_size", "warmup_fraction", "lr", "schedule",
             "ema", "beta2", "weight_decay", "snapshots", "grid")


def _same_settings(folder: Path, cfg: TrainConfig, params: int | None = None) -> None:
    """UserError when the folder holds a run (finished or not) trained with other settings than the study's
    now (another width, budget, batch..., or another network: `params`, its parameter count): it would be reused
    or resumed as if it were this one."""
    if not (folder / "state.pt").is_file():
        return
    from csp_diffusion.checkpoint import load_state

    log = folder / "log.jsonl"
    first = json.loads(log.read_text().splitlines()[0]) if log.is_file() and log.stat().st_size else {}
    if params is not None and first.get("params", params) != params:
        raise UserError(f"{folder} holds a run of another network ({first['params']:,} parameters; the study's has "
                        f"{params:,}): move it aside to train it again")
    saved = load_state(folder / "state.pt")["train_config"]
    want = asdict(cfg)
    differ = [k for k in _SETTINGS if saved.get(k) != want[k] and not (k == "model_config" and
                                                                        {**saved[k], **want[k]} == saved[k])]
    if differ:
        raise UserError(f"{folder} holds a run with other settings ({', '.join(f'{k} {saved.get(k)!r}' for k in differ)}; "
                        f"the study wants {', '.join(repr(want[k]) for k in differ)}): use another --out")


def _finished(folder: Path) -> bool:
    log = folder / "log.jsonl"
    return log.is_file() and any(json.loads(line).get("event") == "end" for line in log.read_text().splitlines())


def _bits(solved) -> str:
    return "".join("1" if s else "0" for s in solved)


def _scored(folder, name, seed, budget, tier, pset: Tier, study: Study, task, device, on_event, final=False) -> dict:
    """The row of one snapshot (`final`: the run's own last weights) on one tier: read from its score file when it
    was scored on these puzzles, else scored now. Per-puzzle results are kept as bit strings ("1" = verified)
    for the paired intervals; cell_accuracy (the unknown cells right, by the kind's own scoring, under the first
    decoder) tells a model that learns its objective but solves few whole grids from one that learns nothing."""
    path = folder / "scores" / f"{budget_name(budget)}-{tier.replace(' ', '_')}.json"
    if path.is_file():
        row = json.loads(path.read_text())
        if _complete(row, study, pset, name, budget):
            return row
    on_event({"event": "phase", "what": f"scoring {name} seed {seed} at {budget_name(budget)} FLOPs on {tier}"})
    weights = folder / ("model.safetensors" if final else f"snapshots/{budget_name(budget)}.safetensors")
    try:
        model, meta = models.load(weights, None, study.task, device)
    except CheckpointError as e:  # a diverged run (non-finite weights) solves nothing; the study goes on
        return _diverged(folder, name, seed, budget, tier, pset, str(e), study)
    kind, autocast = meta["kind"], fast_bf16(device)
    cells = {}

    def solved(decoder: str = study.decoders[0], **cfg) -> str:
        # warm_loops 0: every step runs `loops` (a maze's default warm steps would hide the loop count; a recurrent
        # model under the sampler still carries its state, one segment a step)
        config = SamplerConfig(**{"loops": model.max_loops, "max_steps": study.steps, "warm_loops": 0,
                                  "decoder": decoder, **cfg})
        outcomes = models.decoder(kind, model, task, config, device, autocast).solve(pset.encoded)
        if not cfg and decoder == study.decoders[0]:
            right = total = 0
            for p, ref, o in zip(pset.puzzles, pset.references, outcomes):
                r, t = task.score(p, ref, task.answer(task.text(np.asarray(o.values), pset.shape, p)))
                right, total = right + r, total + t
            cells["accuracy"] = right / max(1, total)
        return _bits(o.verified for o in outcomes)

    info = meta["info"]
    row = {"variant": name, "kind": kind, "seed": seed, "budget_flops": budget, "tier": tier,
           "train_flops": info["train_flops"], "params": model.num_params(), "dim": model.config.dim,
           "train_minutes": info["minutes"], "steps": info["step"], "lr": info["train_config"].get("lr"),
           "device": info.get("device"), "key": _key(study, pset)}
    row["by_decoder"] = {d: solved(d) for d in study.decoders}
    if "native" not in row["by_decoder"] and tier == next(iter(_tier_names(study, task))) and budget == max(study.budgets):
        row["native"] = solved("native")  # the gate reads each kind's own decoding on the easiest tier
    row["solved"] = row["by_decoder"][study.decoders[0]]
    row["solve_rate"] = row["solved"].count("1") / len(pset.encoded)
    row["cell_accuracy"] = cells["accuracy"]
    if _inference(study, name, budget, tier):  # LoopMDM under the sampler: loops, retraction, the rules on and off
        row["by_loops"] = {str(n): row["solved"] if n == model.max_loops else solved(loops=n) for n in LOOPS}
        row["no_retract"] = solved(retract=False)
        row["rules_off"] = solved(rules=False)
        row["rules_off_no_retract"] = solved(rules=False, retract=False)
        refs = [np.asarray(r).reshape(-1) for r in pset.references]  # a boolean answer: its two values, off and on
        values = np.stack([r.astype(np.int64) + 1 if r.dtype == bool else r.astype(np.int64) for r in refs])
        row.update(doubt(model, task, pset.encoded, values, pset.shape, device))
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    losses = [e["loss"] for e in log if e.get("event") == "step" and e["step"] <= info["step"]]
    row["loss_first_last"] = [losses[0], losses[-1]] if losses else None
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(row))
    return row


def chance_loss(kind: str, task, cells: int) -> float:
    """The cross-entropy of a uniform guess at what a kind predicts: a value per cell (AR-solver: a step's cell, or
    "stop", and then its value, the two summed). HRM's and TRM's logged loss adds their halting head's, so their
    gate is a little harder."""
    return math.log((cells + 1) * task.n_values) if kind == "ar-solver" else math.log(task.n_values)


def gates(rows: list[dict], study: Study, task) -> dict:
    """Whether each variant shows it learned, at the study's largest budget (a variant's row counts only when it
    passes; one that fails reads "not reproduced at this budget"): its training loss below half of chance; at least
    half the first (easiest) tier solved with its own kind's decoder; AR-solver ahead of row-major AR there (Shah
    et al.'s ordering); TRM at least level with HRM at equal optimizer steps (TRM's published ordering: HRM's
    snapshot with the most steps not above TRM's). Rates are means over the seeds scored so far."""
    if not rows:
        return {}
    top = max(r["budget_flops"] for r in rows)
    easy = _tier_names(study, task)[0]

    def rate(name, key="solved", budget=top, tier=easy):
        rs = [r for r in rows if r["variant"] == name and r["budget_flops"] == budget and r["tier"] == tier
              and key in r]
        return statistics.fmean(r[key].count("1") / len(r[key]) for r in rs) if rs else None

    out = {}
    for name in dict.fromkeys(r["variant"] for r in rows):
        last = [r for r in rows if r["variant"] == name and r["budget_flops"] == top and r["tier"] == easy]
        if not last:
            continue
        checks = {}
        losses = [r["loss_first_last"][1] for r in last if r.get("loss_first_last")]
        grid = task.study_grid
        cells = task.structure((grid, grid) if grid else None).positions.shape[0]  # the training grids' cells
        if losses:
            half = chance_loss(last[0]["kind"], task, cells) / 2
            checks["loss below half of chance"] = {"value": statistics.fmean(losses), "target": half,
                                                   "passed": statistics.fmean(losses) < half}
        native = rate(name, "native")
        if native is not None:
            checks[f"half of {easy} solved, own decoder"] = {"value": native, "target": 0.5, "passed": native >= 0.5}
        if name == "ar-solver" and rate("ar") is not None:
            checks["ahead of row-major ar"] = {"value": rate(name), "target": rate("ar"),
                                               "passed": rate(name) > rate("ar")}
        if last[0]["kind"] == "trm":
            steps = max(r["steps"] for r in last)
            hrm = [r for r in rows if r["variant"] == "hrm" and r["tier"] == easy and r["steps"] <= steps]
            if hrm:
                at = max(hrm, key=lambda r: r["steps"])["budget_flops"]
                checks["level with hrm at equal steps"] = {"value": rate(name), "target": rate("hrm", budget=at),
                                                           "hrm_budget": at, "passed": rate(name) >= rate("hrm", budget=at)}
        out[name] = {"budget_flops": top, "checks": checks,
                     "passed": bool(checks) and all(c["passed"] for c in checks.values())}
    return out


def _tier_names(study: Study, task) -> list[str]:
    return [t.split("=", 1)[0] for t in study.tiers] if study.tiers else list(task.study_tiers)


def _diverged(folder, name, seed, budget, tier, pset: Tier, why, study: Study) -> dict:
    state = json.loads((folder / "log.jsonl").read_text().splitlines()[-1])
    none = "0" * len(pset.encoded)
    row = {"variant": name, "kind": name, "seed": seed, "budget_flops": budget, "tier": tier, "train_flops": budget,
           "params": 0, "dim": 0, "train_minutes": state.get("minutes", 0.0), "steps": state.get("step", 0),
           "device": None, "key": _key(study, pset), "solved": none, "solve_rate": 0.0, "cell_accuracy": 0.0,
           "loss_first_last": None, "diverged": why}
    row["by_decoder"] = {d: none for d in study.decoders}
    if _inference(study, name, budget, tier):
        row["by_loops"] = {str(n_): none for n_ in LOOPS}
        row["no_retract"] = row["rules_off"] = row["rules_off_no_retract"] = none
    path = folder / "scores" / f"{budget_name(budget)}-{tier.replace(' ', '_')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(row))
    return row


def _digest(puzzles: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(puzzles, dtype=np.int8).tobytes()).hexdigest()[:16]


__all__ = ["LOOPS", "Study", "VARIANTS", "budget_name", "config", "match_widths", "run", "trained_and_scored"]
