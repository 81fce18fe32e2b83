"""The one way otelcli writes a file: `-o`, `--save`, `--dead-letter`, reports.

What PATH is decides how it is written, and it is never replaced by something else:

- a new or regular file (also through a symlink, which stays a link) is written to a temporary
  file beside the target and renamed onto it once complete: an interrupted or failed run leaves
  the original untouched and removes the temporary file. The result keeps an existing file's
  mode (and owner where allowed); a new file gets the usual 0666 less the umask;
- anything else (a FIFO, a character device such as /dev/null; /dev/stdout, /dev/fd/N or a
  path under /proc, even when a shell pointed it at a regular file) is opened and written
  directly, never removed or renamed;
- "-" is standard output.

`stream=True` (the save file of `tail` and `capture`) writes the real file from the start, one
complete record at a time (`write_record`): each is in the file (handed to the kernel) when the
call returns; one that fails is cut off again, so the file always ends after a whole record.

Failures are `OutputError` (exit 7) naming the path and the reason; a broken pipe on standard
output stays a BrokenPipeError for the error boundary (stop quietly).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import sys
from typing import BinaryIO

from otelcli.errors import OutputError

_BUFFER_BYTES = 1 << 16

_HINTS = {
    errno.ENOSPC: "the disk is full: free some space or write elsewhere",
    errno.EDQUOT: "the disk quota is used up: free some space or write elsewhere",
    errno.EFBIG: "the file reached the file-size limit (ulimit -f): write elsewhere or split it",
    errno.EACCES: "check the permissions of the file and its directory",
    errno.EPERM: "check the permissions of the file and its directory",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.ENOENT: "check that the directory exists",
    errno.ENOTDIR: "check that the directory exists",
    errno.EISDIR: "give a file name, not a directory",
}


def output_error(path: str, exc: OSError) -> OutputError:
    """An OSError met while writing `path` ("-" for stdout) as a one-line error with a hint."""
    where = "standard output" if path == "-" else path
    reason = exc.strerror or str(exc) or type(exc).__name__
    return OutputError(
        f"cannot write {where}: {reason}",
        hint=_HINTS.get(exc.errno or 0, "check the path and the disk"),
        path=path,
    )


class OutputFile:
    """A binary output at `path`; `commit()` when complete, `discard()` on failure."""

    def __init__(self, path: str, *, stream: bool = False, stdout: BinaryIO | None = None):
        self.path = path
        self.stream = stream
        self.bytes_written = 0
        self._stdout: BinaryIO | None = None
        self._fd = -1
        self._temp: str | None = None  # atomic: the temporary file renamed onto _target
        self._target = path
        self._seekable = False  # stream: a regular file, so a failed record can be cut off
        self._closed = False
        self._buffer = bytearray()
        if path == "-":
            self._stdout = stdout or sys.stdout.buffer
            return
        try:
            self._open()
        except OSError as exc:
            self._close_quietly(self._fd)
            self._fd = -1
            if self._temp is not None:
                _unlink(self._temp)
                self._temp = None
            raise output_error(path, exc) from None

    @property
    def kind(self) -> str:
        """stdout, atomic (temporary file + rename), stream or direct."""
        if self._stdout is not None:
            return "stdout"
        if self._temp is not None:
            return "atomic"
        return "stream" if self._seekable else "direct"

    def _open(self) -> None:
        path = self.path
        try:
            info: os.stat_result | None = os.stat(path)  # follows symlinks
        except FileNotFoundError:
            info = None  # a new file (or a dangling link: created where it points, like `>`)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if _descriptor_path(path) or (info is not None and not stat.S_ISREG(info.st_mode)):
            # A FIFO, a device, /dev/stdout: write it as it is, never replace it.
            self._fd = _own_descriptor(path, info) if _descriptor_path(path) else -1
            if self._fd < 0:
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            return
        if self.stream:
            # Written in place, record by record (through a symlink, like `>` would).
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
            self._seekable = True
            return
        self._target = os.path.realpath(path)
        directory, name = os.path.split(self._target)
        temp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.otelcli.part")
        # 0666 through the umask, as for any new file; an existing file's mode and owner below.
        self._fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        self._temp = temp
        if info is not None:
            try:
                os.fchown(self._fd, info.st_uid, info.st_gid)
            except OSError:
                pass  # not ours to give away: the file becomes the writer's
            os.fchmod(self._fd, stat.S_IMODE(info.st_mode))

    # -- writing -----------------------------------------------------------------------------

    def write(self, data: bytes) -> int:
        """Write all of `data` (buffered; a file object's write, for gzip and text wrappers)."""
        if self._stdout is not None:
            try:
                self._stdout.write(data)
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise output_error("-", exc) from None
        else:
            self._buffer += data
            if len(self._buffer) >= _BUFFER_BYTES:
                self._drain()
        self.bytes_written += len(data)
        return len(data)

    def write_record(self, data: bytes) -> None:
        """Write one whole record and hand it to the kernel before returning; on failure
        nothing of it stays (where the file can be cut: a regular file)."""
        if not self._seekable:
            self.write(data)
            self.flush()
            return
        self.flush()
        start = self.bytes_written
        try:
            _write_all(self._fd, data)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, start)
                os.lseek(self._fd, start, os.SEEK_SET)
            except OSError:
                pass
            raise output_error(self.path, exc) from None
        self.bytes_written += len(data)

    def flush(self) -> None:
        """Hand everything written so far to the kernel."""
        if self._stdout is not None:
            try:
                self._stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise output_error("-", exc) from None
        elif self._buffer:
            self._drain()

    def _drain(self) -> None:
        data, self._buffer = bytes(self._buffer), bytearray()
        try:
            _write_all(self._fd, data)
        except OSError as exc:
            raise output_error(self.path, exc) from None

    # -- finishing ---------------------------------------------------------------------------

    def commit(self) -> None:
        """Finish: the output is complete (renamed into place when written aside)."""
        if self._closed:
            return
        try:
            self.flush()
        except OutputError:
            self.discard()
            raise
        self._closed = True
        if self._stdout is not None:
            return
        fd, self._fd = self._fd, -1
        try:
            try:
                if self._temp is not None:
                    os.fsync(fd)
            finally:
                os.close(fd)  # released even when it fails
            if self._temp is not None:
                os.replace(self._temp, self._target)
        except OSError as exc:
            if self._temp is not None:
                _unlink(self._temp)
            raise output_error(self.path, exc) from None
        self._temp = None

    def discard(self) -> None:
        """Give up: a file written aside is removed and the original stays as it was; what was
        streamed or written to a FIFO, a device or stdout stays."""
        if self._closed:
            return
        self._closed = True
        if self._stdout is not None:
            try:
                self._stdout.flush()
            except OSError:
                pass
            return
        if self._temp is None:  # keep what was written to a FIFO or device
            try:
                self.flush()
            except OutputError:
                pass
        fd, self._fd = self._fd, -1
        self._close_quietly(fd)
        if self._temp is not None:
            _unlink(self._temp)
            self._temp = None

    @staticmethod
    def _close_quietly(fd: int) -> None:
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    # file-object protocol, enough for gzip.GzipFile and io.TextIOWrapper
    def writable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._closed


def write_output(path: str, data: bytes, stdout: BinaryIO | None = None) -> None:
    """Write a whole output (a report) at `path` as OutputFile does."""
    target = OutputFile(path, stdout=stdout)
    try:
        target.write(data)
    except BaseException:
        target.discard()
        raise
    target.commit()


def _descriptor_path(path: str) -> bool:
    """/dev/stdout, /dev/fd/N, /proc/...: an open descriptor's file, even when regular (a
    shell redirection), is written through it rather than replaced behind the shell's back."""
    absolute = os.path.abspath(path)
    return absolute in ("/dev/stdout", "/dev/stderr") or absolute.startswith(("/dev/fd/", "/proc/"))


def _own_descriptor(path: str, info: os.stat_result | None) -> int:
    """A duplicate of our stdout or stderr when `path` is it (so that what otelcli prints
    there and the output share one file offset), else -1."""
    if info is None:
        return -1
    for fd in (1, 2):
        try:
            own = os.fstat(fd)
        except OSError:
            continue
        if (own.st_dev, own.st_ino) == (info.st_dev, info.st_ino):
            return os.dup(fd)
    return -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
