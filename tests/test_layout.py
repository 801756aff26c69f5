"""Architecture rules that keep the layers apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_puzzles_never_imports_torch():
    names = (".".join(p.relative_to(ROOT / "puzzles").with_suffix("").parts) for p in (ROOT / "puzzles").rglob("*.py"))
    modules = sorted(n.removesuffix(".__init__") for n in names if n != "__init__")  # the kinds' folders too
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


def _imports(path: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_neural_package_knows_puzzles_only_through_the_task_interface():
    """csp_diffusion/ imports no kind's package (puzzles.sudoku, puzzles.maze, ..., their oracles and tasks
    included): a puzzle's rules reach it through puzzles.domains."""
    from puzzles.domains import TASKS

    kinds = [["puzzles", name] for name in TASKS]
    for path in sorted((ROOT / "csp_diffusion").rglob("*.py")):  # its subpackages (the study) too
        bad = {m for m in _imports(path) if m.split(".")[:2] in kinds}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_puzzles_has_no_rendering_or_torch_in_its_sources():
    for path in sorted((ROOT / "puzzles").rglob("*.py")):
        mods = _imports(path)
        assert not any(m.split(".")[0] == "torch" for m in mods), path.name


class _Latin:
    """A third kind of puzzle, written the way a new task would be: 4x4 Latin squares (each row and each
    column holds 1-4 once). It names an existing kind of constraint, so nothing in csp_diffusion changes."""

    name, n_values, tokens, constraint = "latin", 4, 5, "all-different"
    position_sizes = axes = (4, 4)
    confident, temperature, warm_loops = 0.99, 1.0, 0
    trace_classes = trace_flags = trace_size = 0
    structure_per_puzzle = False

    def frames(self, shape):  # the identity alone: no symmetry sampled
        import numpy as np

        return np.arange(16)[None]

    def structure(self, shape=None):
        import numpy as np

        from puzzles.contract import Structure

        r, c = np.divmod(np.arange(16), 4)
        adjacency = (r[:, None] == r[None]) | (c[:, None] == c[None])
        return Structure(np.stack([r, c], 1).astype(np.int64), adjacency, None, (4, 4))

    def conflicts(self, values, shape=None):
        import numpy as np

        adjacency = self.structure().adjacency & ~np.eye(16, dtype=bool)
        v = np.asarray(values)
        return ((v[..., :, None] == v[..., None, :]) & adjacency & (v[..., :, None] > 0)).any(-1)

    def verify(self, puzzle, values, shape=None):
        import numpy as np

        v = np.asarray(values).reshape(4, 4)
        given = np.asarray(puzzle).reshape(4, 4) > 0
        rows_ok = all(sorted(row) == [1, 2, 3, 4] for row in v) and all(sorted(col) == [1, 2, 3, 4] for col in v.T)
        return rows_ok and (v[given] == np.asarray(puzzle).reshape(4, 4)[given]).all()


def test_a_third_puzzle_kind_needs_only_a_task():
    import numpy as np
    import torch

    from csp_diffusion.blocks import fix_givens
    from csp_diffusion.network import Network
    from csp_diffusion.sampler import Sampler, SamplerConfig

    solution = np.array([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1])
    puzzle = np.where(np.arange(16) % 3 == 0, solution, 0)

    class Knows(Network):  # sure of the solution, but only 60%: the sampler must do the committing
        def forward(self, values, given, positions, graph, loops):
            p = torch.full((len(values), 16, 4), 0.4 / 3)
            p[:, torch.arange(16), torch.as_tensor(solution) - 1] = 0.6
            return fix_givens(p.log(), values, given)

    out = Sampler(Knows(), _Latin(), SamplerConfig(loops=1, max_steps=20), torch.device("cpu")).solve(puzzle[None])
    assert out[0].verified and (out[0].values == solution).all()
