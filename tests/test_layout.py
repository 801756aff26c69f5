"""Architecture rules that keep the layers apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_puzzles_never_imports_torch():
    modules = sorted(p.stem for p in (ROOT / "puzzles").glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('puzzles.' + m)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_python_dash_m_cli_runs():
    out = subprocess.run([sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "solve" in out.stdout


def test_a_shipped_sudoku_checkpoint_loads_without_executing_code():
    from csp_diffusion import models
    from csp_diffusion.solver import shipped_checkpoint

    path = shipped_checkpoint("loopmdm", "sudoku")
    assert path.stat().st_size < 20_000_000
    model, meta = models.load(path, "loopmdm", "sudoku")
    assert model.num_params() <= 5_000_000
    assert meta["config"]["max_loops"] >= 1 and "train_config" in meta["info"]
