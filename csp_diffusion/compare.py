"""The architecture study: train matched variants to equal training FLOPs with several seeds, score
each on one held-out generated set, and decide the research claims with intervals.

Variants (all share the data, the training loop and the FLOP budget; all but mdm-same-compute have
LoopMDM's parameter count within 5%, each at the width that gets it there):
  loopmdm          LoopMDM: 1 + 2 (looped 1..K times) + 1 blocks
  mdm-same-params  the same 4 blocks run once: same parameters, no looping
  mdm-same-compute prelude + 2K unshared core blocks + coda: LoopMDM's per-step compute at K loops,
                   K times the core's parameters, no looping
  ar               the row-major autoregressive baseline
  ar-solver        the solver-order autoregressive baseline (Shah et al. 2024)
  hrm              the HRM-style baseline (deep supervision, one-step gradient, ACT)
  trm              TRM (a 2-block network, full-recursion gradient, deep supervision, halting)
Every FLOP is counted by network.train_flops, the same formula for every kind.

Layout of OUT: OUT/runs/BUDGET/VARIANT-seedS/ (a training run, and eval.json: its per-puzzle results,
so neither training nor scoring is ever redone), OUT/eval-puzzles.npz, OUT/results.json (settings, one
row per run, the claims), OUT/report.md and the plots (compare_report.py). results.json is the record
that is kept (runs/ holds checkpoints and is not): a run it holds, scored on the same puzzles by a study
with the same training settings, is taken from it and never retrained, even when runs/ is gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from csp_diffusion import models
from csp_diffusion.compare_report import claims, plots, report
from csp_diffusion.errors import CheckpointError
from csp_diffusion.runtime import fast_bf16, pick_device
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.train import TrainConfig, build_model, train
from puzzles.domains import get_task
from puzzles.errors import UserError
from puzzles.files import atomic_write, write_text
from puzzles.seeds import stream

VARIANTS = ("loopmdm", "mdm-same-params", "mdm-same-compute", "ar", "ar-solver", "hrm", "trm")
LOOPS = (1, 2, 4, 8)  # LoopMDM's inference loop counts for the trend claim


@dataclass
class Study:
    task: str = "sudoku"
    budgets: tuple[float, ...] = (3e12, 1e13)  # training FLOPs per run; one study per budget
    seeds: int = 3
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

    def overrides(self, name: str) -> tuple[str, dict]:
        """(model kind, config overrides) of a variant, before width matching."""
        mdm = {"trace": 0}  # the plain objective, so the MDM variants differ only in their loops and depth
        # a task whose answer is a path (mazes): the recurrent models get the curriculum their shipped maze models
        # train with (part of the path given in half of the training mazes; a path is not a local property, and on
        # bare mazes only they stall: docs/results/baselines.md)
        deep = {"hints": 0.5} if get_task(self.task).constraint == "path" else {}
        return {
            "loopmdm": ("loopmdm", {**mdm, "max_loops": self.k_max}),
            "mdm-same-params": ("loopmdm", {**mdm, "max_loops": 1}),
            "mdm-same-compute": ("loopmdm", {**mdm, "max_loops": 1, "core": 2 * self.k_max}),
            "ar": ("ar", {}),
            "ar-solver": ("ar-solver", {}),
            "hrm": ("hrm", deep),
            "trm": ("trm", deep),
        }[name]


def _params(study: Study, task, name: str, dim: int) -> int:
    kind, extra = study.overrides(name)
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
    """Train what is missing, score what is unscored, write OUT/results.json, OUT/report.md and the plots."""
    out.mkdir(parents=True, exist_ok=True)
    task = get_task(study.task)
    device = pick_device(study.device)
    widths = match_widths(study, task)
    study.widths = {k: v[0] for k, v in widths.items()}
    puzzles, solutions = _eval_set(task, study, out, on_event)
    recorded, key = _recorded(study, out), _key(study, puzzles)
    rows = []
    for budget in study.budgets:
        for name in study.variants:
            for seed in range(study.seeds):
                folder = out / "runs" / budget_name(budget) / f"{name}-seed{seed}"
                row = recorded.get((name, seed, budget))
                if _complete(row, key, _inference(study, name, budget)):
                    rows.append(row)
                    on_event({"event": "evaluated", **row})
                    continue
                on_event({"event": "variant", "name": name, "seed": seed, "budget": budget})
                row = trained_and_scored(study, config(study, name, seed, budget, widths[name][0], device), folder,
                                         name, (puzzles, solutions), on_event)
                rows.append(row)
                on_event({"event": "evaluated", **row})
                _write(study, rows, out)  # after every run: a stopped study has its report so far
    return _write(study, rows, out)


def config(study: Study, name: str, seed: int, budget: float, width: int, device) -> TrainConfig:
    """A study run's training settings."""
    kind, extra = study.overrides(name)
    return TrainConfig(task=study.task, model=kind, model_config={**extra, "dim": width}, flops=budget, seed=seed,
                       batch_size=study.batch_size, pool_size=study.pool_size, device=study.device, eval_puzzles=0,
                       warmup_fraction=0.05, autocast=fast_bf16(device), checkpoint_every_minutes=2.0)


def trained_and_scored(study: Study, cfg: TrainConfig, folder: Path, name: str, held, on_event=lambda e: None) -> dict:
    """Train the run in folder unless it finished there, then its row (scored once, then read back)."""
    _same_settings(folder, cfg)
    if not _finished(folder):
        train(cfg, folder, resume=(folder / "state.pt").is_file(), on_event=on_event)
    device = pick_device(study.device)
    return _scored(folder, name, cfg.seed, cfg.flops, get_task(study.task), held, study, device, on_event)


def _write(study: Study, rows: list[dict], out: Path) -> dict:
    """results.json, report.md and the plots from the rows scored so far."""
    results = {"study": {**asdict(study), "budgets": list(study.budgets), "variants": list(study.variants)},
               "rows": rows, "claims": claims(rows, study.__dict__)}
    write_text(out / "results.json", json.dumps(results, indent=1))
    write_text(out / "report.md", report(results))
    plots(results, out)
    return results


_TRAINING = ("task", "k_max", "dim", "batch_size", "pool_size")


def _recorded(study: Study, out: Path) -> dict:
    """{(variant, seed, budget): row} of OUT/results.json when its study trained with the same settings."""
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
    same_width = {v for v, w in settings.get("widths", {}).items() if study.widths.get(v) == w}
    return {(r["variant"], r["seed"], r["budget_flops"]): r for r in saved.get("rows", []) if r["variant"] in same_width}


def _key(study: Study, puzzles: np.ndarray) -> dict:
    return {"eval_puzzles": len(puzzles), "steps": study.steps, "decoders": list(study.decoders),
            "digest": _digest(puzzles)}


def _complete(row: dict | None, key: dict, inference: bool) -> bool:
    """A row scored on these puzzles, with the inference claims' extra scores where they are wanted."""
    return bool(row) and row.get("key") == key and ("rules_off" in row or not inference)


def _inference(study: Study, name: str, budget: float) -> bool:
    return name == "loopmdm" and budget == max(study.budgets)  # the inference claims, at the largest budget


def _eval_set(task, study: Study, out: Path, on_event) -> tuple[np.ndarray, np.ndarray]:
    """The held-out puzzles and their solutions (generated once, then read from OUT/eval-puzzles.npz)."""
    path = out / "eval-puzzles.npz"
    if path.is_file():
        saved = np.load(path)
        if len(saved["puzzles"]) == study.eval_puzzles:
            return saved["puzzles"], saved["solutions"]
    on_event({"event": "phase", "what": f"generating {study.eval_puzzles} held-out puzzles"})
    puzzles, solutions = task.study_set(study.eval_puzzles, stream("held-out", 777))

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, puzzles=puzzles, solutions=solutions)

    atomic_write(path, write)
    return puzzles, solutions


_SETTINGS = ("model", "model_config", "flops", "seed", "batch_size", "pool_size", "warmup_fraction", "lr")


def _same_settings(folder: Path, cfg: TrainConfig) -> None:
    """UserError when the folder holds a run (finished or not) trained with other settings than the study's
    now (another width, budget, batch...): it would be reused or resumed as if it were this one."""
    if not (folder / "state.pt").is_file():
        return
    from csp_diffusion.checkpoint import load_state

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


def _scored(folder, name, seed, budget, task, held, study: Study, device, on_event) -> dict:
    """The run's row: read from folder/eval.json when it was scored on these puzzles, else scored now.
    Per-puzzle results are kept as bit strings ("1" = verified) for the paired intervals; cell_accuracy
    (the unknown cells it got right, at its default decoding) tells a model that learns its objective
    but solves few whole grids from one that learns nothing."""
    puzzles, solutions = held
    path = folder / "eval.json"
    key = _key(study, puzzles)
    inference = _inference(study, name, budget)
    if path.is_file():
        row = json.loads(path.read_text())
        if _complete(row, key, inference):
            return row
    on_event({"event": "phase", "what": f"scoring {name} seed {seed} at {budget_name(budget)} FLOPs"})
    try:
        model, meta = models.load(folder / "model.safetensors", None, study.task, device)
    except CheckpointError as e:  # a diverged run (non-finite weights) solves nothing; the study goes on
        return _diverged(folder, name, seed, budget, len(puzzles), key, inference, str(e), study)
    kind, autocast = meta["kind"], fast_bf16(device)

    cells = {}

    def solved(decoder: str = study.decoders[0], **cfg) -> str:
        # warm_loops 0: every step runs `loops` (a maze's default warm steps would hide the loop count; a recurrent
        # model under the sampler still carries its state, one segment a step)
        config = SamplerConfig(**{"loops": model.max_loops, "max_steps": study.steps, "warm_loops": 0,
                                  "decoder": decoder, **cfg})
        outcomes = models.decoder(kind, model, task, config, device, autocast).solve(puzzles)
        if not cfg and decoder == study.decoders[0]:
            unknown = puzzles == 0
            got = np.stack([task.classes(np.asarray(o.values)) for o in outcomes]) == task.classes(solutions)
            cells["accuracy"] = float(got[unknown].mean())
        return _bits(o.verified for o in outcomes)

    info = meta["info"]
    row = {"variant": name, "kind": kind, "seed": seed, "budget_flops": budget, "train_flops": info["train_flops"],
           "params": model.num_params(), "dim": model.config.dim, "train_minutes": info["minutes"],
           "steps": info["step"], "device": info.get("device"), "key": key}
    row["by_decoder"] = {d: solved(d) for d in study.decoders}
    row["solved"] = row["by_decoder"][study.decoders[0]]
    row["solve_rate"] = row["solved"].count("1") / len(puzzles)
    row["cell_accuracy"] = cells["accuracy"]
    if inference:  # LoopMDM under the sampler: loops at inference, and retraction with the rules on and off
        row["by_loops"] = {str(n): row["solved"] if n == model.max_loops else solved(loops=n) for n in LOOPS}
        row["no_retract"] = solved(retract=False)
        row["rules_off"] = solved(rules=False)
        row["rules_off_no_retract"] = solved(rules=False, retract=False)
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    losses = [e["loss"] for e in log if e.get("event") == "step"]
    row["loss_first_last"] = [losses[0], losses[-1]] if losses else None
    write_text(path, json.dumps(row))
    return row


def _diverged(folder, name, seed, budget, n, key, inference, why, study: Study) -> dict:
    state = json.loads((folder / "log.jsonl").read_text().splitlines()[-1])
    none = "0" * n
    row = {"variant": name, "kind": name, "seed": seed, "budget_flops": budget, "train_flops": budget, "params": 0,
           "dim": 0, "train_minutes": state.get("minutes", 0.0), "steps": state.get("step", 0), "device": None,
           "key": key, "solved": none, "solve_rate": 0.0, "cell_accuracy": 0.0, "loss_first_last": None,
           "diverged": why}
    row["by_decoder"] = {d: none for d in study.decoders}
    if inference:
        row["by_loops"] = {str(n_): none for n_ in LOOPS}
        row["no_retract"] = row["rules_off"] = row["rules_off_no_retract"] = none
    write_text(folder / "eval.json", json.dumps(row))
    return row


def _digest(puzzles: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(puzzles, dtype=np.int8).tobytes()).hexdigest()[:16]


__all__ = ["LOOPS", "Study", "VARIANTS", "budget_name", "config", "match_widths", "run", "trained_and_scored"]
