"""A run folder is locked while a run writes it: a second run into it is refused at once, one line naming the
first's process id, exit 2; the lock goes with its holder, however that ends (no stale lock after kill -9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import one_line_error
from typer.testing import CliRunner

from cli.app import app
from puzzles.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


def _holder(folder: Path) -> subprocess.Popen:
    """Another process holding `folder`'s lock (as a training run does for its life): an flock on its .lock file,
    which holds the holder's process id."""
    code = (f"import fcntl, os, time; os.makedirs({str(folder)!r}, exist_ok=True)\n"
            f"fd = os.open(os.path.join({str(folder)!r}, '.lock'), os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); os.write(fd, f'{os.getpid()}\\n'.encode())\n"
            "print('held', flush=True); time.sleep(600)\n")
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_held_folder_is_refused_naming_the_holder_and_freed_when_it_is_killed(tmp_path):
    from puzzles.files import locked

    run = tmp_path / "run"
    p = _holder(run)
    try:
        with pytest.raises(UserError, match=rf"^{run} is in use by another run \(pid {p.pid}\)$"):
            with locked(run):
                pass
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    with locked(run):  # no stale lock
        pass
    with locked(run):  # released on leaving the block too
        pass


def test_a_second_training_run_into_a_folder_in_use_is_one_line_at_once(tmp_path):
    run, cache = tmp_path / "run", tmp_path / "cache"
    p = _holder(run)
    try:
        r = CliRunner().invoke(app, ["train", "loopmdm", "--task", "sudoku", "--out", str(run), "--steps", "1",
                                     "--pool-size", "64", "--device", "cpu"], env={"CSP_CACHE": str(cache)})
        assert one_line_error(r) == f"error: {run} is in use by another run (pid {p.pid})"
        assert not cache.exists()  # refused before any work: no training pool was made
        assert not (run / "log.jsonl").exists()
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
