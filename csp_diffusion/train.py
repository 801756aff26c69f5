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

import json
import math
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from csp_diffusion import models
from csp_diffusion.blocks import pick_device
from csp_diffusion.checkpoint import load_state, save_model, save_state
from csp_diffusion.data import held_out, load_pool
from csp_diffusion.errors import CheckpointError
from csp_diffusion.decoders import decoder
from csp_diffusion.objectives import OBJECTIVES
from csp_diffusion.sampler import SamplerConfig
from puzzles.domains import get_task
from puzzles.errors import UserError


@dataclass
class TrainConfig:
    task: str = "sudoku"
    model: str = "loopmdm"
    model_config: dict = field(default_factory=dict)  # overrides of the model's config defaults
    steps: int | None = None
    minutes: float | None = None
    batch_size: int = 128
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.05
    warmup: int = 200
    grad_clip: float = 1.0
    pool_size: int = 60_000
    pool_seed: int = 0
    seed: int = 0
    eval_every_minutes: float = 5.0
    eval_puzzles: int = 64
    checkpoint_every_minutes: float = 3.0
    log_every: int = 20
    device: str | None = None
    autocast: bool = False  # bf16 autocast (fast on CPUs with AVX-512 BF16 and on recent GPUs)
    init: str | None = None  # start from this model checkpoint's weights and config (fine-tuning)
    grid: int | None = None  # mazes: the training grids' side (default the task's, 15); smaller mazes sit inside


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
    outcomes = decoder(kind, model, task, SamplerConfig(loops=loops, max_steps=48), device, autocast).solve(puzzles)
    model.train(was_training)
    return {"solve_rate": float(np.mean([o.verified for o in outcomes])), "loops": loops}


def check(cfg: TrainConfig) -> None:
    """Raise UserError for settings that cannot train, before any work starts."""
    for name, value in (("steps", cfg.steps), ("minutes", cfg.minutes), ("batch_size", cfg.batch_size),
                        ("lr", cfg.lr), ("pool_size", cfg.pool_size)):
        if value is not None and not value > 0:
            raise UserError(f"{name} must be positive, got {value}")
    config_cls, _ = models.MODELS[cfg.model]
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
    if cfg.model_config.get("trace") and cfg.model_config["trace"] != task.trace_size:
        raise UserError(f"{cfg.task} has " + (f"a trace of {task.trace_size} outputs" if task.trace_size else "no execution trace")
                        + f"; got trace={cfg.model_config['trace']}")
    pick_device(cfg.device)


def train(cfg: TrainConfig, out: Path, resume: bool = False, on_event: Callable[[dict], None] = lambda e: None) -> dict:
    """Train until cfg.steps or cfg.minutes (whichever is set; both: the first reached)."""
    if cfg.steps is None and cfg.minutes is None:
        cfg.steps = 1000
    check(cfg)
    rank, world = _dist()
    device = pick_device(cfg.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    out = Path(out)
    task = get_task(cfg.task, cfg.grid)
    structure_np = task.structure()

    state = None
    if resume:
        state = load_state(out / "state.pt")
        saved = state["train_config"]
        if saved["task"] != cfg.task or saved["model"] != cfg.model:
            raise CheckpointError(f"{out} holds a {saved['model']} run on {saved['task']}, not {cfg.model} on {cfg.task}")
        # the run's own settings win, except the budget, which the user may extend
        for k in ("steps", "minutes"):
            saved[k] = getattr(cfg, k) if getattr(cfg, k) is not None else saved[k]
        cfg = TrainConfig(**saved)

    seed = cfg.seed * 1000 + rank
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator(device=device).manual_seed(seed)

    config_cls, model_cls = models.MODELS[cfg.model]
    slots = 0 if structure_np.neighbours is None else structure_np.neighbours.shape[1]
    sizes = task.axes if getattr(model_cls, "needs_positions", False) else task.position_sizes
    base = {**config_cls().to_dict(), "n_values": task.n_values, "tokens": task.tokens, "position_sizes": sizes,
            "slots": slots}
    if cfg.model == "loopmdm":  # LoopMDM learns a task's execution trace where it has one (--set trace=0: not)
        base["trace"] = task.trace_size
    init_model = None
    if cfg.init and state is None:  # fine-tuning: the checkpoint's config, then the overrides (a resumed
        init_model, meta = models.load(Path(cfg.init), cfg.model, cfg.task)  # run has them in model_config)
        base = meta["config"]
    mc = config_cls.from_dict({**base, **cfg.model_config})
    model = models.build(cfg.model, mc.to_dict()).to(device)
    if init_model is not None:
        try:
            model.load_state_dict(init_model.state_dict())
        except RuntimeError:
            raise UserError(f"--set changes the shape of {cfg.init}'s weights; only settings like "
                            "max_loops, grad_loops or carry can change when fine-tuning") from None
        cfg.model_config = mc.to_dict()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    step, elapsed, flops_done, running = 0, 0.0, 0.0, None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed, flops_done = state["step"], state["elapsed"], state["flops"]
        torch.set_rng_state(state["torch_rng"])
        gen.set_state(state["gen_rng"])
        rng.bit_generator.state = json.loads(state["numpy_rng"])
        running = state.get("running_loss")
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    pool = load_pool(task, cfg.pool_size, cfg.pool_seed)
    eval_set = held_out(task, cfg.eval_puzzles, cfg.seed)[0] if rank == 0 and cfg.eval_puzzles else None
    positions = torch.as_tensor(structure_np.positions, device=device)
    graph = torch.as_tensor(structure_np.graph, device=device)
    objective = OBJECTIVES[cfg.model](net, model, task, pool, cfg.batch_size, device, gen, rng, (positions, graph),
                                      cfg.autocast, world)
    if state is not None:
        objective.load_state_dict(state.get("objective", {}))
    # a trace model runs a loop per cell (the trace needs fewer: 2 x the path length)
    eval_loops = positions.shape[0] if getattr(mc, "trace", 0) else getattr(mc, "max_loops", 1)
    log_path = out / "log.jsonl"
    out.mkdir(parents=True, exist_ok=True)

    def log(record: dict) -> None:
        on_event(record)
        if rank == 0:
            with open(log_path, "a") as f:
                f.write(json.dumps(record) + "\n")

    def info() -> dict:
        return {"train_config": asdict(cfg), "step": step, "minutes": round(elapsed / 60, 2),
                "train_flops": flops_done, "params": model.num_params(), "world_size": world,
                "device": str(device)}

    def checkpoint() -> None:
        if rank != 0:
            return
        save_model(out / "model.safetensors", model, cfg.model, cfg.task, mc.to_dict(), info())
        save_state(out / "state.pt", {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "elapsed": elapsed,
            "flops": flops_done, "running_loss": running, "train_config": asdict(cfg), "torch_rng": torch.get_rng_state(),
            "gen_rng": gen.get_state(), "numpy_rng": json.dumps(rng.bit_generator.state),
            "objective": objective.state_dict(),
        })
        log({"event": "checkpoint", "step": step, "minutes": round(elapsed / 60, 2)})

    def lr_at(progress: float) -> float:
        warm = min(1.0, (step + 1) / cfg.warmup)
        cos = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return cfg.lr * warm * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cos)

    def progress() -> float:
        parts = []
        if cfg.steps is not None:
            parts.append(step / cfg.steps)
        if cfg.minutes is not None:
            parts.append(elapsed / (60 * cfg.minutes))
        return max(parts)

    log({"event": "start", "step": step, "params": model.num_params(), "device": str(device),
         "world_size": world, "resumed": state is not None, "config": mc.to_dict()})
    last_ckpt = last_eval = elapsed
    tick = time.perf_counter()
    model.train()
    previous = _sigterm_as_interrupt()
    try:
        while True:
            stop = torch.tensor(float(progress() >= 1.0))
            if world > 1:
                torch.distributed.broadcast(stop, 0)
            if stop.item():
                break
            loss, flops, detail = objective.step()
            for group in opt.param_groups:
                group["lr"] = lr_at(progress())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step += 1
            flops_done += flops
            now = time.perf_counter()
            elapsed += now - tick
            tick = now
            running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
            if step % cfg.log_every == 0:
                log({"event": "step", "step": step, "loss": round(running, 4), "lr": opt.param_groups[0]["lr"],
                     **detail, "minutes": round(elapsed / 60, 3), "progress": round(progress(), 4)})
            if eval_set is not None and elapsed - last_eval >= 60 * cfg.eval_every_minutes:
                log({"event": "eval", "step": step, "minutes": round(elapsed / 60, 2), "train_flops": flops_done,
                     **evaluate(model, cfg.model, task, eval_set, eval_loops, device, cfg.autocast)})
                last_eval = elapsed
                tick = time.perf_counter()  # evaluation time is not training time
            if elapsed - last_ckpt >= 60 * cfg.checkpoint_every_minutes:
                checkpoint()
                last_ckpt = elapsed
    except KeyboardInterrupt:
        checkpoint()  # an interruption loses nothing: --resume continues from here
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    checkpoint()
    result = {"event": "end", "step": step, "minutes": round(elapsed / 60, 2), "loss": running}
    if eval_set is not None:
        result.update(evaluate(model, cfg.model, task, eval_set, eval_loops, device, cfg.autocast))
    log(result)
    if world > 1:
        torch.distributed.barrier()
    return result


__all__ = ["TrainConfig", "train", "evaluate"]
