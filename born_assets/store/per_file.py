"""What a process computed from a file's bytes, kept while the file stays the same file.

The steps and checks of one run read the same tables: each would otherwise hash or digest a
table once for itself. A `PerFile` keeps a value computed from an open file for as long as the
file's identity (device, inode, size, modification and change times) stays the same, so one run
computes it once and every new process computes it again. A file changed less than `SETTLED_NS`
before it was read is not kept: a write in the same clock tick would leave its times as they
were. A file this process published (`written_here`) is kept at once: it was closed before, and
no other process writes the data dir's folders while this one holds their lock. A run's steps
and checks read the tables it has just written; the 100k bench's incremental build hashed the
sanitized table six times, 1.3 s.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

SETTLED_NS = 2_000_000_000
"""A file last changed longer ago than this when it was read may have its value kept."""

T = TypeVar("T")


def _identity(status: os.stat_result) -> tuple[int, ...]:
    return (
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


class PerFile(Generic[T]):
    """Values computed from open files, by file identity; the last `kept` files are kept."""

    def __init__(self, kept: int) -> None:
        """Keep the values of the last `kept` files."""
        self._kept = kept
        self._values: OrderedDict[tuple[int, ...], T] = OrderedDict()
        self._computing: dict[tuple[int, ...], threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, handle: io.BufferedReader, compute: Callable[[io.BufferedReader], T]) -> T:
        """`compute(handle)`, or what it returned for this file before.

        The value is kept when the file's identity is the same before and after `compute` and it
        had not changed for `SETTLED_NS`. While another thread computes the value of the same
        file, this one waits for it rather than reading the file a second time beside it.
        """
        status = os.fstat(handle.fileno())
        before = _identity(status)
        while True:
            with self._lock:
                if before in self._values:
                    self._values.move_to_end(before)
                    return self._values[before]
                computing = self._computing.get(before)
                if computing is None:
                    computing = self._computing[before] = threading.Event()
                    break
            computing.wait()  # then kept (taken above), or not kept: computed here after all
        try:
            started = time.time_ns()
            value = compute(handle)
            after = _identity(os.fstat(handle.fileno()))
            settled = started - max(status.st_mtime_ns, status.st_ctime_ns) > SETTLED_NS
            if after == before and (settled or _published_here(before)):
                with self._lock:
                    self._values[before] = value
                    if len(self._values) > self._kept:
                        self._values.popitem(last=False)
        finally:
            with self._lock:
                del self._computing[before]
            computing.set()
        return value


_WRITTEN_KEPT = 4096
_written: OrderedDict[tuple[int, ...], None] = OrderedDict()
_written_lock = threading.Lock()


def written_here(path: Path) -> None:
    """Note that this process wrote the file at `path`, closed it and published it.

    Its values may be kept from now on without waiting for `SETTLED_NS`. Only a change in the
    same clock tick as the publish would keep the file's identity; the project never writes a
    published file again (a new version is a new folder), and another run waits for the lock.
    The last 4,096 files are remembered.
    """
    identity = _identity(path.stat())
    with _written_lock:
        _written[identity] = None
        _written.move_to_end(identity)
        if len(_written) > _WRITTEN_KEPT:
            _written.popitem(last=False)


def _published_here(identity: tuple[int, ...]) -> bool:
    with _written_lock:
        return identity in _written
