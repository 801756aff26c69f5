"""Writing files so that an interruption or error never leaves half a file or loses an old one.

A regular file (or a new path) is written to a temporary file beside it and renamed into
place; a symbolic link is followed, so the file it points to is replaced and the link stays;
a character device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is written straight
into, since renaming a file over it would replace the device. A write that fails (a full
disk, `/dev/full`) is one UserError, and the old file, if any, is untouched. A read-only file
(no write permission for anyone, or none for this user) is never replaced: the rename would
go through, as it needs only the folder's permission.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from puzzles.errors import PuzzleError, UserError


def _failed(path: Path, e: OSError) -> UserError:
    why = "no space left on the device" if e.errno == errno.ENOSPC else (e.strerror or type(e).__name__)
    return UserError(f"cannot write {path}: {why}")


def _read_only(st: os.stat_result, target: Path) -> bool:
    """Whether a regular file may not be written: no write bit at all (which root too is told to respect), or
    none for this user."""
    return stat.S_ISREG(st.st_mode) and (not st.st_mode & 0o222 or not os.access(target, os.W_OK))


def _target(path: Path) -> tuple[Path, os.stat_result | None]:
    """(the file a write to `path` lands in: a link's target, its stat or None when it does not exist yet)."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        return target, target.stat()
    except FileNotFoundError:
        return target, None
    except OSError as e:
        raise _failed(path, e) from None


def writable(path: str | Path) -> None:
    """UserError unless `atomic_write` could write `path`, checked before any work: not a folder, in a folder that
    exists and this user may write in, not a read-only file."""
    path = Path(path)
    target, st = _target(path)
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        if not os.access(target, os.W_OK):
            raise UserError(f"cannot write {path}: permission denied")
        return
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UserError(f"cannot write {path}: it is a folder")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: no such folder {folder}")
    if st is not None and _read_only(st, target):
        raise UserError(f"cannot write {path}: it is read-only")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {path}: no permission to write in {folder}")


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Call write(tmp_path) on a temporary file beside `path` (beside a link's target), then rename it
    onto that path; for a character device or FIFO, call write(path) on it directly.

    The new file keeps the mode of the one it replaces (or the umask default).
    """
    path = Path(path)
    target, st = _target(path)
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        try:
            write(str(target))
        except OSError as e:
            raise _failed(path, e) from None
        return
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: no such folder {folder}")
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UserError(f"cannot write {path}: it is a folder")
    if st is not None and _read_only(st, target):
        raise UserError(f"cannot write {path}: it is read-only")
    if st is not None:
        mode = st.st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise _failed(path, e) from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as e:
        raise _failed(path, e) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8), flushed to disk (see `atomic_write`)."""

    def write(name: str) -> None:
        with open(name, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            if os.path.isfile(name):
                os.fsync(f.fileno())

    atomic_write(path, write)


BOM = "\ufeff"  # a byte-order mark some editors put first in a UTF-8 file: not part of the text
MAX_BYTES = 1 << 30  # a puzzle file holds at most 1 GiB (Sudoku-Extreme's whole CSV is under 700 MB)
MAX_LINE = 100_000  # characters in one line (a 201 x 201 maze's rows are 201)


def read_stream(f, name: str) -> str:
    """The text of an open binary stream, read in blocks and refused (PuzzleError) past MAX_BYTES in all or
    MAX_LINE characters in a line, so an endless or huge input (`/dev/zero`) is one error, not a MemoryError."""
    parts, total, since_newline = [], 0, 0
    while True:
        block = f.read(1 << 20)
        if not block:
            break
        total += len(block)
        if total > MAX_BYTES:
            raise PuzzleError(f"{name} is larger than the {MAX_BYTES >> 20} MiB a puzzle file may hold")
        last = block.rfind(b"\n")
        if last < 0:
            since_newline += len(block)
        else:
            longest = max(map(len, block[:last].split(b"\n")), default=0)
            if since_newline + block.find(b"\n") > MAX_LINE or longest > MAX_LINE:
                since_newline = MAX_LINE + 1
            else:
                since_newline = len(block) - last - 1
        if since_newline > MAX_LINE:
            raise PuzzleError(f"{name} has a line longer than {MAX_LINE:,} characters: not a puzzle file")
        parts.append(block)
    try:
        return b"".join(parts).decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError:
        raise PuzzleError(f"cannot read {name}: not UTF-8 text") from None


def read_file(path: str | Path) -> str:
    """The text of a puzzle file (see `read_stream` for the bounds); PuzzleError when it cannot be read."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            return read_stream(f, str(p))
    except FileNotFoundError:
        raise PuzzleError(f"no such file: {p}") from None
    except (IsADirectoryError, PermissionError) as e:
        raise PuzzleError(f"cannot read {p}: {e.__class__.__name__}") from None


def read_stdin() -> str:
    """Standard input's text, with read_stream's bounds (a text-only stdin, as tests give, is read whole)."""
    import io
    import sys

    binary = getattr(sys.stdin, "buffer", None)
    return read_stream(binary if binary is not None else io.BytesIO(sys.stdin.read().encode()), "<stdin>")


LOCK_NAME = ".lock"


@contextmanager
def locked(folder: str | Path, name: str = LOCK_NAME, wait: bool = False) -> Iterator[None]:
    """Hold `folder` (made if need be) for the block: an exclusive lock on the file `name` in it, which holds this
    process's id. UserError at once, naming the holder's id, when another process holds it (`wait`: wait for it
    instead). The lock is the kernel's (`flock`): it goes when the holder ends, however it ends, so a crashed or
    killed run leaves none."""
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise UserError(f"{folder} is in use by another run (pid {holder if holder.isdigit() else 'unknown'})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
