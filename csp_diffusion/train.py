"""Training: one loop for every model kind, resumable, atomic, and runnable under torchrun.

A run lives in one folder:
  model.safetensors  the latest weights + config (what the solvers load)
  state.pt           model, optimizer, step, clock and RNG states, for --resume
  log.jsonl          one JSON record per logged step, evaluation and checkpoint
Under `torchrun --nproc_per_node N` each process trains on its own data stream
with DistributedDataParallel (gloo on CPU, NCCL on CUDA); rank 0 writes.
The library reports through `on_event`; printing is the CLI's business.
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from csp_diffusion import models
from csp_diffusion.checkpoint import load_state, save_model, save_state
from csp_diffusion.data import held_out, load_pool
from csp_diffusion.errors import CheckpointError
from csp_diffusion.runtime import pick_device
from csp_diffusion.sampler import SamplerConfig
from puzzles.domains import DEFAULT, get_task
from puzzles.errors import UserError
from puzzles.files import write_text

DEFAULT_STEPS = 1000
SCHEDULES = ("cosine", "constant")


@dataclass
class TrainConfig:
    task: str = DEFAULT  # the registry's first
    model: str = "loopmdm"
    model_config: dict = field(default_factory=dict)  # overrides of the model's config defaults
    steps: int | None = None  # a fresh run with neither budget trains DEFAULT_STEPS
    minutes: float | None = None
    flops: float | None = None  # training FLOPs (forward and backward, as objectives.py counts them): the fair budget
    batch_size: int = 128
    lr: float = 1e-3
    min_lr_ratio: float = 0.1  # cosine: the last step's share of lr
    schedule: str = "cosine"  # or "constant": warm-up, then lr to the end (HRM's and TRM's schedule; with `ema`,
    # every point of the run is an endpoint, so one run gives a whole budget curve through `snapshots`)
    weight_decay: float = 0.05
    beta2: float = 0.98  # AdamW's second-moment decay (the recurrent papers: 0.95)
    ema: float = 0.0  # keep an exponential moving average of the weights at this decay (TRM's 0.999; 0: none);
    # model.safetensors, evaluations and snapshots then hold the average
    snapshots: list[float] | None = None  # training FLOPs at which to keep the weights as
    # snapshots/BUDGET.safetensors (each at the step boundary nearest it, as a --flops budget ends)
    warmup: int = 200
    warmup_fraction: float | None = None  # warm up over this share of the budget instead (a FLOP budget's step
    # count differs by model kind: a fixed step count would be most of a short run of a costly kind)
    grad_clip: float = 1.0
    pool_size: int = 60_000
    pool_seed: int = 0
    pool_mix: list[str] | None = None  # the pool's generators in equal shares: Sudoku's levels (None: hard and
    # extreme; fiendish for the reasoning the forum-hardest class needs), the maze kinds (None: perfect and open)
    seed: int = 0
    eval_every_minutes: float = 5.0
    eval_puzzles: int = 64
    checkpoint_every_minutes: float | None = 3.0  # of training time; a kill loses at most this much work
    checkpoint_every_steps: int | None = None  # or every this many steps (both: whichever comes first); the
    # first checkpoint is written after step 1, so even a run killed at once can --resume
    log_every: int = 20
    device: str | None = None
    autocast: bool = False  # bf16 autocast (fast on CPUs with AVX-512 BF16 and on recent GPUs)
    init: str | None = None  # start from this model checkpoint's weights and config (fine-tuning)
    grid: int | None = None  # mazes, Kakuro: the training grids' side (default the task's: 15, 12); smaller puzzles sit inside


def _dist() -> tuple[int, int]:
    """(rank, world size), initialising the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank(), world) if world > 1 else (0, 1)


def _sigterm_as_interrupt():
    """Make SIGTERM (a scheduler's or `kill`'s stop) behave like Ctrl-C, so the run checkpoints first."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, handler)


def evaluate(model, kind: str, task, puzzles: np.ndarray, loops: int, device, autocast: bool) -> dict:
    """Solve rate on a small held-out set (LoopMDM: one greedy chain with retraction, 48 steps)."""
    was_training = model.training
    model.eval()
    outcomes = models.decoder(kind, model, task, SamplerConfig(loops=loops, max_steps=48), device, autocast).solve(puzzles)
    model.train(was_training)
    return {"solve_rate": float(np.mean([o.verified for o in outcomes])), "loops": loops}


def check(cfg: TrainConfig):
    """Raise UserError for settings that cannot train, before any work starts; else the config's task, resolved
    (`cfg.task` at `cfg.grid`: the one resolution of a run)."""
    if cfg.schedule not in SCHEDULES:
        raise UserError(f"unknown schedule {cfg.schedule!r}; choose from {', '.join(SCHEDULES)}")
    if not 0 <= cfg.ema < 1:
        raise UserError(f"ema must be in [0, 1), got {cfg.ema}")
    if not 0 < cfg.beta2 < 1:
        raise UserError(f"beta2 must be in (0, 1), got {cfg.beta2}")
    if cfg.snapshots is not None and (not cfg.snapshots or min(cfg.snapshots) <= 0):
        raise UserError(f"snapshots must be positive training FLOPs, got {cfg.snapshots}")
    if cfg.warmup_fraction is not None and not 0 < cfg.warmup_fraction <= 1:
        raise UserError(f"warmup_fraction must be in (0, 1], got {cfg.warmup_fraction}")
    for name, value in (("steps", cfg.steps), ("minutes", cfg.minutes), ("flops", cfg.flops),
                        ("batch_size", cfg.batch_size),
                        ("lr", cfg.lr), ("pool_size", cfg.pool_size),
                        ("checkpoint_every_minutes", cfg.checkpoint_every_minutes),
                        ("checkpoint_every_steps", cfg.checkpoint_every_steps)):
        if value is not None and not value > 0:
            raise UserError(f"{name} must be positive, got {value}")
    if cfg.seed < 0:
        raise UserError(f"seed must be 0 or more, got {cfg.seed}")
    if cfg.model not in models.MODELS:
        raise UserError(f"unknown model kind {cfg.model!r}; choose from {', '.join(models.MODELS)}")
    config_cls = models.MODELS[cfg.model].config
    unknown = sorted(set(cfg.model_config) - set(config_cls.__dataclass_fields__))
    if unknown:
        raise UserError(f"unknown {cfg.model} setting(s): {', '.join(unknown)}; "
                        f"known: {', '.join(config_cls.__dataclass_fields__)}")
    defaults = config_cls().to_dict()
    for key, value in cfg.model_config.items():
        want = type(defaults[key])
        ok = isinstance(value, (list, tuple)) if want in (list, tuple) else (
            isinstance(value, want) or (want is float and type(value) is int))
        if not ok or (want is not bool and isinstance(value, bool)):
            raise UserError(f"{cfg.model} setting {key} must be {want.__name__}, got {value!r}")
    if not cfg.init:  # a fine-tune's sizes come from its checkpoint
        models.check_config({**defaults, **cfg.model_config})
    task = get_task(cfg.task, cfg.grid)
    models.check_task(cfg.model, task)
    if cfg.pool_mix is not None:
        wrong = [d for d in cfg.pool_mix if d not in task.pool_levels]
        if wrong or not cfg.pool_mix:
            raise UserError(f"unknown pool generator {', '.join(wrong) or '(none given)'}; choose from "
                            f"{', '.join(task.pool_levels)}")
    if cfg.model_config.get("trace") and cfg.model_config["trace"] != task.trace_size:
        has = f"a trace of {task.trace_size} outputs" if task.trace_size else "no execution trace"
        raise UserError(f"{cfg.task} has {has}; got trace={cfg.model_config['trace']}")
    if cfg.model_config.get("mixer") and task.structure().neighbours is not None:
        raise UserError(f"a mixer needs a fixed number of cells; {cfg.task} grids vary in size")
    if cfg.model_config.get("own_commits") and cfg.model_config.get("trace", task.trace_size):
        raise UserError("own_commits trains the plain objective; a model that follows an execution trace "
                        "ignores it (add --set trace=0, or leave own_commits out)")
    pick_device(cfg.device)
    return task


def _a_folder(out: Path) -> None:
    """UserError, before any work, when the run folder `out` (or a folder it would be made in) is a file."""
    for p in (out, *out.parents):
        if p.exists():
            if not p.is_dir():
                raise UserError(f"{p} is a file, not a folder{'' if p == out else f': cannot make {out}'}")
            return


def _refuse_overwrite(out: Path, force: bool) -> None:
    """A fresh run never overwrites another: UserError unless `force`, which clears the old run's log."""
    state = out / "state.pt"
    if not state.is_file():
        return
    if not force:
        step = load_state(state)["step"]
        raise UserError(f"{out} holds a run at step {step}: --resume to continue, --force to start over")
    for name in ("state.pt", "model.safetensors", "log.jsonl"):
        (out / name).unlink(missing_ok=True)


def _trim_log(path: Path, step: int) -> None:
    """Drop the log's records past `step` (what a killed run logged after its last checkpoint), atomically,
    so that a resumed run's log reads as one run."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines()
    kept = [line for line in lines if json.loads(line).get("step", 0) <= step]
    if len(kept) < len(lines):
        write_text(path, "".join(line + "\n" for line in kept))


def _resumed(cfg: TrainConfig, out: Path) -> tuple[TrainConfig, dict]:
    """The run in `out` (its state and settings), with the budget the user gave now where given: the run's
    own settings win otherwise, so a resume with no budget continues to the run's own end."""
    state = load_state(out / "state.pt")
    saved = state["train_config"]
    if saved["task"] != cfg.task or saved["model"] != cfg.model:
        raise CheckpointError(f"{out} holds a {saved['model']} run on {saved['task']}, not {cfg.model} on {cfg.task}")
    for k in ("steps", "minutes", "flops"):
        saved[k] = getattr(cfg, k) if getattr(cfg, k) is not None else saved.get(k)
    _trim_log(out / "log.jsonl", state["step"])
    return TrainConfig(**{k: v for k, v in saved.items() if k in TrainConfig.__dataclass_fields__}), state


def build_model(cfg: TrainConfig, task, fresh: bool):
    """(network, its config, the training FLOPs already in its weights) for the run: the kind's defaults fitted
    to the task, then (fine-tuning a fresh run) the --init checkpoint's config, weights and FLOPs, then the
    run's overrides."""
    kind = models.MODELS[cfg.model]
    structure = task.structure()
    slots = 0 if structure.neighbours is None else structure.neighbours.shape[1]
    sizes = task.axes if kind.network.needs_positions else task.position_sizes
    base = {**kind.config().to_dict(), "n_values": task.n_values, "tokens": task.tokens, "position_sizes": sizes,
            "slots": slots, "cells": len(structure.positions)}
    if "trace" in base:  # a model that can learn a task's execution trace does where there is one (--set trace=0: not)
        base["trace"] = task.trace_size
    init_model, init_flops = None, 0.0
    if cfg.init and fresh:  # fine-tuning: the checkpoint's config, then the overrides (a resumed run has them)
        init_model, meta = models.load(Path(cfg.init), cfg.model, cfg.task)
        base = meta["config"]
        init_flops = float(meta["info"].get("train_flops") or 0.0)
    mc = kind.config.from_dict({**base, **cfg.model_config})
    model = models.build(cfg.model, mc.to_dict())
    if init_model is not None:
        try:
            model.load_state_dict(init_model.state_dict())
        except RuntimeError:
            raise UserError(f"--set changes the shape of {cfg.init}'s weights; only settings like "
                            "max_loops, grad_loops or carry can change when fine-tuning") from None
        cfg.model_config = mc.to_dict()
    return model, mc, init_flops


def optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, decaying the weight matrices only: not embeddings (of any name), norms or biases."""
    embedded = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters()}
    decay = [p for p in model.parameters() if p.dim() >= 2 and id(p) not in embedded]
    rest = [p for p in model.parameters() if not (p.dim() >= 2 and id(p) not in embedded)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, cfg.beta2))


class _Trainer:
    """One run's moving parts: the model, its optimizer and objective, the RNGs, the counters, and the
    run folder it logs and checkpoints to (rank 0 only)."""

    def __init__(self, cfg: TrainConfig, task, out: Path, state: dict | None, on_event: Callable[[dict], None]):
        self.cfg, self.out, self.on_event = cfg, out, on_event
        self.rank, self.world = _dist()
        device = pick_device(cfg.device)
        if self.world > 1 and device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
        self.device = device
        self.task = task
        seed = cfg.seed * 1000 + self.rank
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator(device=device).manual_seed(seed)
        model, self.mc, self.init_flops = build_model(cfg, task, fresh=state is None)
        self.model = model.to(device)
        self.opt = optimizer(self.model, cfg)
        self.ema = copy.deepcopy(self.model).requires_grad_(False) if cfg.ema else None
        self.step, self.elapsed, self.flops, self.running = 0, 0.0, 0.0, None
        self.snapped: set[float] = set()  # the snapshot budgets written
        self.last_flops = 0.0  # the latest step's FLOPs
        net = torch.nn.parallel.DistributedDataParallel(self.model) if self.world > 1 else self.model
        structure = task.structure()
        graph = (torch.as_tensor(structure.positions, device=device), torch.as_tensor(structure.graph, device=device))
        self.on_event({"event": "phase", "what": "generating the training pool"})
        pool = load_pool(task, cfg.pool_size, cfg.pool_seed, mix=cfg.pool_mix)
        self.objective = models.MODELS[cfg.model].objective(
            net, self.model, task, pool, cfg.batch_size, device, self.gen, self.rng, graph, cfg.autocast, self.world)
        if state is not None:
            self.restore(state)
        watch = self.rank == 0 and cfg.eval_puzzles
        self.eval_set = held_out(task, cfg.eval_puzzles, cfg.seed, cfg.pool_mix)[0] if watch else None
        # a trace model runs a loop per cell (the trace needs fewer: 2 x the path length)
        self.eval_loops = structure.positions.shape[0] if self.model.trace else self.model.max_loops

    def restore(self, state: dict) -> None:
        """Everything an exact --resume needs: weights, optimizer, counters, RNGs, the objective's own state."""
        self.model.load_state_dict(state["model"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"] if state.get("ema") is not None else state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.step, self.elapsed, self.flops = state["step"], state["elapsed"], state["flops"]
        self.init_flops = state.get("init_flops", 0.0)
        self.last_flops = state.get("last_flops", 0.0)
        self.snapped = set(state.get("snapped", ()))
        torch.set_rng_state(state["torch_rng"])
        self.gen.set_state(state["gen_rng"])
        self.rng.bit_generator.state = json.loads(state["numpy_rng"])
        self.running = state.get("running_loss")
        self.objective.load_state_dict(state.get("objective", {}))

    def log(self, record: dict) -> None:
        self.on_event(record)
        if self.rank == 0:
            with open(self.out / "log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    def progress(self) -> float:
        cfg, parts = self.cfg, []
        if cfg.steps is not None:
            parts.append(self.step / cfg.steps)
        if cfg.minutes is not None:
            parts.append(self.elapsed / (60 * cfg.minutes))
        if cfg.flops is not None:  # the nearest step boundary: within half a step's FLOPs of the budget
            parts.append((self.flops + self.last_flops / 2) / cfg.flops)
        return max(parts)

    def lr(self) -> float:
        cfg = self.cfg
        warm = min(1.0, self.progress() / cfg.warmup_fraction if cfg.warmup_fraction else (self.step + 1) / cfg.warmup)
        if cfg.schedule == "constant":
            return cfg.lr * warm
        cos = 0.5 * (1 + math.cos(math.pi * min(1.0, self.progress())))
        return cfg.lr * warm * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cos)

    def train_step(self) -> dict:
        """One optimizer step; returns what the objective reports of it."""
        loss, flops, detail = self.objective.step()
        for group in self.opt.param_groups:
            group["lr"] = self.lr()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        self.step += 1
        if self.ema is not None:
            self.average()
        self.flops += flops
        self.last_flops = flops
        self.running = loss.item() if self.running is None else 0.95 * self.running + 0.05 * loss.item()
        return detail

    def average(self) -> None:
        """Move the weight average toward the weights just stepped: decay min(ema, (1 + n) / (10 + n)) at
        step n, so that a short run's average is not mostly its initial weights."""
        decay = min(self.cfg.ema, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for kept, now in zip(self.ema.state_dict().values(), self.model.state_dict().values()):
                if kept.dtype.is_floating_point:
                    kept.lerp_(now, 1 - decay)
                else:
                    kept.copy_(now)

    def kept(self) -> torch.nn.Module:
        """The weights the run answers with: the average when there is one."""
        return self.ema if self.ema is not None else self.model

    def snapshot_due(self) -> list[float]:
        """The snapshot budgets reached at this step (within half a step's FLOPs, as a FLOP budget ends) and not
        yet kept (a run resumed from before a snapshot writes it again, at the same step)."""
        at = self.flops + self.last_flops / 2
        return [b for b in self.cfg.snapshots or () if at >= b and b not in self.snapped]

    def snapshot(self, budget: float) -> None:
        self.snapped.add(budget)
        if self.rank != 0:
            return
        info = {**self.info(), "snapshot_flops": budget}
        save_model(self.out / "snapshots" / f"{budget:.3g}.safetensors".replace("+", ""), self.kept(),
                   self.cfg.model, self.cfg.task, self.mc.to_dict(), info)
        self.log({"event": "snapshot", "step": self.step, "budget": budget, "train_flops": self.flops})

    def info(self) -> dict:
        cfg, model = self.cfg, self.model
        # the weights' whole training: a fine-tune's --init FLOPs and its own (the --flops budget is its own)
        return {"train_config": asdict(cfg), "step": self.step, "minutes": round(self.elapsed / 60, 2),
                "train_flops": self.init_flops + self.flops, "init_flops": self.init_flops,
                "params": model.num_params(), "world_size": self.world, "device": str(self.device)}

    def evaluate(self) -> dict:
        return evaluate(self.kept(), self.cfg.model, self.task, self.eval_set, self.eval_loops, self.device,
                        self.cfg.autocast)

    def checkpoint(self) -> None:
        if self.rank != 0:
            return
        cfg, model = self.cfg, self.model
        save_model(self.out / "model.safetensors", self.kept(), cfg.model, cfg.task, self.mc.to_dict(), self.info())
        save_state(self.out / "state.pt", {
            "model": model.state_dict(), "ema": None if self.ema is None else self.ema.state_dict(),
            "optimizer": self.opt.state_dict(), "step": self.step,
            "elapsed": self.elapsed, "flops": self.flops, "init_flops": self.init_flops, "last_flops": self.last_flops,
            "snapped": sorted(self.snapped),
            "running_loss": self.running,
            "train_config": asdict(cfg),
            "torch_rng": torch.get_rng_state(), "gen_rng": self.gen.get_state(),
            "numpy_rng": json.dumps(self.rng.bit_generator.state), "objective": self.objective.state_dict(),
        })
        self.log({"event": "checkpoint", "step": self.step, "minutes": round(self.elapsed / 60, 2)})

    def should_stop(self) -> bool:
        stop = torch.tensor(float(self.progress() >= 1.0))
        if self.world > 1:
            torch.distributed.broadcast(stop, 0)
        return bool(stop.item())


def _checkpoint_due(cfg: TrainConfig, step: int, since_minutes: float, since_step: int) -> bool:
    if step == 1:
        return True
    by_time = cfg.checkpoint_every_minutes is not None and since_minutes >= cfg.checkpoint_every_minutes
    by_steps = cfg.checkpoint_every_steps is not None and step - since_step >= cfg.checkpoint_every_steps
    return by_time or by_steps


def train(cfg: TrainConfig, out: Path, resume: bool = False, on_event: Callable[[dict], None] = lambda e: None,
          force: bool = False) -> dict:
    """Train until cfg.steps, cfg.minutes or cfg.flops (whichever are set: the first reached; none: a fresh
    run trains DEFAULT_STEPS, a resumed one to its own budget). Minutes count training only: evaluations
    and checkpoints are not charged to the budget. A FLOP budget ends at the step boundary nearest to it
    (within half a step's FLOPs). A fresh run refuses a folder holding another run
    unless `force` (which starts over). The folder is locked for the run's life: a second run into it (another
    process) is a UserError at once, naming the first's process id."""
    out = Path(out)
    _a_folder(out)
    with _held(out):
        return _train(cfg, out, resume, on_event, force)


def _held(out: Path):
    """The run folder's lock (`puzzles.files.locked`), taken by the first process of a torchrun only."""
    from contextlib import nullcontext

    from puzzles.files import locked

    return locked(out) if int(os.environ.get("RANK", "0")) == 0 else nullcontext()


def _train(cfg: TrainConfig, out: Path, resume: bool, on_event: Callable[[dict], None], force: bool) -> dict:
    state = None
    if resume:
        cfg, state = _resumed(cfg, out)
    else:
        _refuse_overwrite(out, force)
    if cfg.steps is None and cfg.minutes is None and cfg.flops is None:
        cfg.steps = DEFAULT_STEPS
    t = _Trainer(cfg, check(cfg), out, state, on_event)
    out.mkdir(parents=True, exist_ok=True)
    t.log({"event": "start", "step": t.step, "params": t.model.num_params(), "device": str(t.device),
           "world_size": t.world, "resumed": state is not None, "config": t.mc.to_dict()})
    last_ckpt = last_eval = t.elapsed
    ckpt_step = t.step
    tick = time.perf_counter()
    t.model.train()
    previous = _sigterm_as_interrupt()
    try:
        while not t.should_stop():
            detail = t.train_step()
            now = time.perf_counter()
            t.elapsed += now - tick
            tick = now
            for budget in t.snapshot_due():  # before any checkpoint of this step: a resumed run has them all
                t.snapshot(budget)
                tick = time.perf_counter()
            if t.step % cfg.log_every == 0:
                t.log({"event": "step", "step": t.step, "loss": round(t.running, 4), "lr": t.opt.param_groups[0]["lr"],
                       **detail, "minutes": round(t.elapsed / 60, 3), "progress": round(t.progress(), 4)})
            if t.eval_set is not None and t.elapsed - last_eval >= 60 * cfg.eval_every_minutes:
                t.log({"event": "eval", "step": t.step, "minutes": round(t.elapsed / 60, 2), "train_flops": t.flops,
                       **t.evaluate()})
                last_eval = t.elapsed
                tick = time.perf_counter()  # evaluation time is not training time
            if _checkpoint_due(cfg, t.step, (t.elapsed - last_ckpt) / 60, ckpt_step):
                t.checkpoint()
                last_ckpt, ckpt_step = t.elapsed, t.step
                tick = time.perf_counter()  # checkpoint time is not training time
    except KeyboardInterrupt:
        t.checkpoint()  # an interruption loses nothing: --resume continues from here
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    t.checkpoint()
    result = {"event": "end", "step": t.step, "minutes": round(t.elapsed / 60, 2), "loss": t.running}
    if t.eval_set is not None:
        result.update(t.evaluate())
    t.log(result)
    if t.world > 1:
        torch.distributed.barrier()
    return result


__all__ = ["DEFAULT_STEPS", "TrainConfig", "build_model", "optimizer", "train", "evaluate"]
