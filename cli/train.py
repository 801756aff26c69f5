"""`csp train MODEL --task TASK`: train a neural solver with a live progress display."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.app import train_app
from cli.common import console, err_console, fail, guarded

TASKS = ("sudoku", "maze")


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise fail(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _command(kind: str, blurb: str):
    def command(
        task: Annotated[Optional[str], typer.Option(help="Puzzle task: sudoku or maze (default sudoku; with --resume, the run's).")] = None,
        minutes: Annotated[Optional[float], typer.Option(help="Wall-clock training budget.")] = None,
        steps: Annotated[Optional[int], typer.Option(help="Step budget (default 1000 when no --minutes).")] = None,
        out: Annotated[Optional[Path], typer.Option(help="Run folder: model.safetensors, state.pt, log.jsonl (default runs/TASK-MODEL).")] = None,
        resume: Annotated[Optional[Path], typer.Option(help="Continue the run in this folder exactly where it stopped.")] = None,
        init: Annotated[Optional[Path], typer.Option(help="Fine-tune: start from this model checkpoint's weights and config.")] = None,
        seed: Annotated[int, typer.Option(help="Seed of weights, data order and noise.")] = 0,
        batch_size: Annotated[int, typer.Option(help="Puzzles per step (per process).")] = 128,
        lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1e-3,
        pool_size: Annotated[int, typer.Option(help="Generated puzzles in the training pool (cached).")] = 60_000,
        eval_every: Annotated[float, typer.Option(help="Minutes between held-out solve-rate checks.")] = 5.0,
        device: Annotated[Optional[str], typer.Option(help="cpu, cuda, cuda:1 ... (default: CUDA when present).")] = None,
        bf16: Annotated[bool, typer.Option(help="bf16 autocast.")] = False,
        grid: Annotated[Optional[int], typer.Option(help="Mazes: side of the training grids (default 15); smaller mazes sit inside.")] = None,
        set_: Annotated[list[str], typer.Option("--set", help="Model config override KEY=VALUE, e.g. --set dim=64.")] = [],
    ) -> None:
        if resume is not None and task is None:
            task = _run_task(resume)
        task = task or "sudoku"
        folder = resume or out or Path("runs") / f"{task}-{kind}"
        _train(kind, task, minutes, steps, folder, resume is not None, seed, batch_size, lr, pool_size,
               eval_every, device, bf16, _parse_overrides(set_), init, grid)

    command.__doc__ = f"Train {blurb}. CPU by default, CUDA when present; runs unchanged under torchrun."
    train_app.command(kind)(guarded(command))


_command("loopmdm", "LoopMDM, the looped masked-diffusion solver")
_command("ar", "the autoregressive baseline")
_command("hrm", "the HRM-style dual-timescale baseline")


def _run_task(folder: Path) -> str:
    from csp_diffusion.checkpoint import load_state  # one error line for a missing or damaged state

    return load_state(Path(folder) / "state.pt")["train_config"]["task"]


def _train(model, task, minutes, steps, out, resume, seed, batch_size, lr, pool_size, eval_every, device, bf16, overrides,
           init=None, grid=None):
    from rich.live import Live
    from rich.table import Table

    if task not in TASKS:
        raise fail(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    from csp_diffusion.train import TrainConfig, check, train

    if resume and not (Path(out) / "state.pt").is_file():
        raise fail(f"no such training state: {Path(out) / 'state.pt'}")

    cfg = TrainConfig(task=task, model=model, model_config=overrides, steps=steps, minutes=minutes, seed=seed,
                      batch_size=batch_size, lr=lr, pool_size=pool_size, eval_every_minutes=eval_every,
                      device=device, autocast=bf16, init=str(init) if init else None, grid=grid)
    check(cfg)
    status = {"step": 0, "loss": None, "solve_rate": None, "minutes": 0.0, "progress": 0.0, "note": "preparing data"}

    def view() -> Table:
        t = Table.grid(padding=(0, 2))
        bar_w = 30
        filled = int(bar_w * min(1.0, status["progress"]))
        t.add_row(
            f"[bold]{model}[/] on {task}",
            f"[green]{'█' * filled}[/][dim]{'░' * (bar_w - filled)}[/] {100 * status['progress']:5.1f}%",
            f"step {status['step']}",
            "loss " + ("-" if status["loss"] is None else f"{status['loss']:.4f}"),
            "held-out solved " + ("-" if status["solve_rate"] is None else f"{100 * status['solve_rate']:.0f}%"),
            f"{status['minutes']:.1f} min",
            status["note"],
        )
        return t

    with Live(view(), console=err_console, refresh_per_second=2, transient=False) as live:
        def on_event(e: dict) -> None:
            kind = e.get("event")
            if kind == "start":
                status["note"] = f"{e['params'] / 1e6:.2f}M params on {e['device']}" + (" (resumed)" if e["resumed"] else "")
            for k in ("step", "loss", "solve_rate", "minutes", "progress"):
                if k in e and e[k] is not None:
                    status[k] = e[k]
            if kind == "checkpoint":
                status["note"] = f"checkpoint at step {e['step']}"
            live.update(view())

        result = train(cfg, Path(out), resume=resume, on_event=on_event)
    console.print(f"trained {result['step']} steps in {result['minutes']:.1f} min; final loss {result['loss']:.4f}"
                  + (f"; held-out solve rate {100 * result['solve_rate']:.1f}%" if "solve_rate" in result else "")
                  + f"; weights in {Path(out) / 'model.safetensors'}")
