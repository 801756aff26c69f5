"""Worker processes end with the command that started them: SIGTERM to it, or `kill -9`, leaves no child behind
(`csp generate -w 2`, `csp solve -w 2`, a training pool's generation)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARD = ".....5.8....6.1.43..........1.5........1.6...3.......553.....61........4........."  # minutes for constraint

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _table() -> dict[int, tuple[int, str]]:
    """pid: (parent pid, state) of every process, from /proc."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        out[int(name)] = (int(fields[1]), fields[0])
    return out


def _descendants(pid: int) -> set[int]:
    table = _table()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, state) in table.items():
            if ppid == parent and child not in found and state != "Z":
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return False
    return text[text.rindex(")") + 2:].split()[0] not in ("Z", "X")


def _workers_end_with(args: list[str], how: signal.Signals, tmp_path: Path, workers: int = 2) -> subprocess.Popen:
    """Start `args` (a python command line), wait for its `workers` children, stop it with `how`; assert that no
    child of it is left a few seconds later (killing any that is, so that a failure leaves nothing behind)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CSP_CACHE": str(tmp_path / "cache")}
    with open(tmp_path / "stderr.txt", "wb") as err:
        p = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        kids: set[int] = set()
        while len(kids) < workers:
            assert p.poll() is None, (tmp_path / "stderr.txt").read_text()
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
            kids = _descendants(p.pid)
        time.sleep(0.3)  # the workers at work
        kids |= _descendants(p.pid)
        p.send_signal(how)
        p.wait(timeout=60)
        deadline = time.monotonic() + 5
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = sorted(k for k in kids if _alive(k))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    for k in left:
        os.kill(k, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(kids)} children outlived their parent ({how.name})"
    return p


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_generate_workers_end_with_the_command(tmp_path, how):
    out = tmp_path / "x"
    p = _workers_end_with(["-m", "cli", "generate", "sudoku", "-n", "5000", "-w", "2", "--seed", "1", "-o", str(out)],
                          how, tmp_path)
    if how == signal.SIGTERM:
        assert p.returncode == 128 + signal.SIGTERM
        assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
    assert not out.exists()  # nothing half-written


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_solve_workers_end_with_the_command(tmp_path, how):
    f = tmp_path / "hard.txt"
    f.write_text((HARD + "\n") * 8)
    p = _workers_end_with(["-m", "cli", "solve", "sudoku", "--file", str(f), "-w", "2", "-s", "constraint", "-t", "600"], how,
                          tmp_path)
    if how == signal.SIGTERM:
        assert p.returncode == 128 + signal.SIGTERM
        assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


def test_a_training_pools_workers_end_with_its_process(tmp_path):
    """The pool a training run generates (`csp_diffusion.data.load_pool`, the task's make_pool on a process pool)."""
    code = ("import numpy as np; from puzzles.sudoku.task import SudokuTask; "
            "SudokuTask().make_pool(200_000, seed=np.random.SeedSequence(1), workers=2)")
    _workers_end_with(["-c", code], signal.SIGKILL, tmp_path)
