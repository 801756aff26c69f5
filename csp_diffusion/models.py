"""The registry of model kinds: config class, network class, and loading from a checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

from csp_diffusion.checkpoint import read_model
from csp_diffusion.errors import CheckpointError
from puzzles.errors import UserError
from csp_diffusion.ar import AR, ARConfig
from csp_diffusion.hrm import HRM, HRMConfig
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig

MODELS = {"loopmdm": (LoopMDMConfig, LoopMDM), "ar": (ARConfig, AR), "hrm": (HRMConfig, HRM)}


def check_config(config: dict) -> None:
    """UserError on settings no network can have (from --set or a hand-edited checkpoint): a size
    below 1, or a width the attention heads do not divide."""
    for key, value in config.items():
        if isinstance(value, int) and not isinstance(value, bool) and key not in ("slots", "prelude", "coda", "tokens", "trace", "trace_reveal") and value < 1:
            raise UserError(f"model setting {key}={value} must be at least 1")
    if not 0 <= config.get("trace_reveal", 0) <= 1:
        raise UserError(f"model setting trace_reveal={config['trace_reveal']} must be between 0 and 1")
    if config.get("dim", 1) % config.get("heads", 1):
        raise UserError(f"model setting dim={config['dim']} must be a multiple of heads={config['heads']}")


def build(kind: str, config: dict) -> torch.nn.Module:
    """The network of `kind` from its config (checked by `check_config`)."""
    config_cls, model_cls = MODELS[kind]
    c = config_cls.from_dict(config)
    check_config(c.to_dict())
    return model_cls(c)


def load(path: Path, kind: str | None = None, task: str | None = None, device: torch.device | None = None):
    """(model in eval mode, metadata) from a safetensors checkpoint; checks kind and task when given."""
    tensors, meta = read_model(path)
    if meta["kind"] not in MODELS:
        raise CheckpointError(f"{path}: unknown model kind {meta['kind']!r}")
    if kind and meta["kind"] != kind:
        raise CheckpointError(f"{path} holds a {meta['kind']} model, not {kind}")
    if task and meta["task"] != task:
        raise CheckpointError(f"{path} was trained for {meta['task']}, not {task}")
    try:
        model = build(meta["kind"], meta["config"])
        model.load_state_dict(tensors)
    except (TypeError, RuntimeError, KeyError) as e:
        raise CheckpointError(f"{path}: weights do not match the stored config ({type(e).__name__})") from None
    return model.to(device or "cpu").eval(), meta
