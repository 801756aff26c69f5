"""Process pools whose workers never outlive the process that started them.

A worker of `pool` ends when the process that made the pool ends, however it ends (SIGTERM, `kill -9`, a
crash): on Linux the kernel sends it SIGTERM (`prctl(PR_SET_PDEATHSIG)`), and everywhere a watcher thread
ends it within a second of its parent process changing (`os.getppid()`: a forkserver's worker watches the
forkserver, which itself ends with the process that started it). A worker ignores Ctrl-C (the terminal
sends it to the whole process group): the parent decides, and `stop` ends the workers without waiting
for the work queued. Standard library only.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent(creator: int, main_thread: bool) -> None:
    """In a new worker: end it when its parent process (`creator`, or a forkserver) ends."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the parent's Python handler
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if main_thread and sys.platform.startswith("linux"):
        # the signal comes when the *thread* that forked this worker ends: only a pool made on the main
        # thread (whose end is the process's) asks for it; the watcher below covers the others
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent or (parent != creator and not _alive(creator)):
        os._exit(1)  # the parent ended before the signal was asked for (a forkserver's worker: the creator did)

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _init(creator: int, main_thread: bool, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    _die_with_parent(creator, main_thread)
    if initializer is not None:
        initializer(*initargs)


def pool(workers: int, mp_context=None, initializer: Callable[..., None] | None = None, initargs: tuple = ()):
    """A ProcessPoolExecutor of `workers` processes that end with this one (and ignore Ctrl-C)."""
    from concurrent.futures import ProcessPoolExecutor

    main = threading.current_thread() is threading.main_thread()
    return ProcessPoolExecutor(workers, mp_context=mp_context, initializer=_init,
                               initargs=(os.getpid(), main, initializer, initargs))


def stop(executor) -> None:
    """Abandon a pool's work (Ctrl-C, SIGTERM, an error, the caller stopped early) without waiting for what is
    queued or running: its workers are terminated."""
    for p in list((getattr(executor, "_processes", None) or {}).values()):
        try:
            p.terminate()
        except (OSError, ValueError):
            pass
    executor.shutdown(wait=True, cancel_futures=True)


def stopped_on_error(executor, results):
    """Yield from `results` (a pool's), shutting the pool down when they are all in, and stopping it at once
    when the caller stops early or an error (or Ctrl-C) comes."""
    try:
        yield from results
    except BaseException:
        stop(executor)
        raise
    executor.shutdown(wait=True)


def in_order(fn: Callable, jobs: list, workers: int):
    """fn over `jobs`, results yielded in input order as each is in: in this process for one worker or a
    couple of jobs, else over a pool of up to `workers` processes started now (so call this before a live
    display starts: its thread is then not copied into the workers). `fn` must be picklable."""
    if workers <= 1 or len(jobs) <= 2:
        return (fn(job) for job in jobs)
    executor = pool(min(workers, len(jobs)))  # its workers end with this process
    try:
        results = executor.map(fn, jobs, chunksize=1)  # each as it is in
    except BaseException:
        stop(executor)
        raise
    return stopped_on_error(executor, results)


__all__ = ["in_order", "pool", "stop", "stopped_on_error"]
