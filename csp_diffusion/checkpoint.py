"""Checkpoints that load without executing code.

A shipped model is one safetensors file: the weights plus metadata holding the
model kind, the task, the config it was built from and a record of its training
(JSON strings, as safetensors metadata must be). A training state for --resume
adds the optimizer and RNG states and is read with torch.load(weights_only=True).
Every write goes to a temporary file first and is renamed into place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from csp_diffusion.errors import CheckpointError
from puzzles.files import atomic_write


def save_model(path: Path, model: torch.nn.Module, kind: str, task: str, config: dict, info: dict) -> None:
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"kind": kind, "task": task, "config": json.dumps(config), "info": json.dumps(info)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), lambda tmp: save_file(tensors, tmp, metadata=meta))


def read_model(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Weights and metadata (kind, task, config, info) of a safetensors model file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such checkpoint: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = {
            "kind": meta["kind"], "task": meta["task"],
            "config": json.loads(meta["config"]), "info": json.loads(meta.get("info", "{}")),
        }
    except Exception as e:  # KeyError, ValueError, OSError, JSONDecodeError, safetensors' own SafetensorError...
        raise CheckpointError(f"{path} is not a valid model checkpoint ({type(e).__name__})") from None
    return tensors, meta


def save_state(path: Path, state: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), lambda tmp: torch.save(state, tmp))


def load_state(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such training state: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a damaged or foreign file
        raise CheckpointError(f"{path} is not a valid training state ({type(e).__name__})") from None
