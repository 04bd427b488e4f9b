"""The server's time: the wall clock moved by an offset, one per state directory (`Context.clock`).

Everything whose answer depends on time (token `iat`/`exp`, code, session and refresh-token expiry, the
gateway's rate-limit window, the verified-token memo) reads it here, so a test moves the clock instead of
sleeping, and `/__harness/clock` moves the clock of a running server.

The offset is a `Number` of the store (`Store.shared_number`), so a move made through one worker or instance is
seen by the next request at any other. On SQLite it is `SharedNumber`: every worker maps the same small file of
the state directory, with no system call on the read path (a read is two loads of a memory-mapped page); writers
take a file lock, readers retry while a write is in progress (a sequence lock), so a reader never sees half an
offset. The same kind of number tells processes that the armed faults, triggers or keys changed (`SharedVersion`).
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

_LAYOUT = struct.Struct("<Qd")  # sequence number (odd while a write is in progress), offset in seconds
_SEQUENCE, _OFFSET = struct.Struct("<Q"), struct.Struct("<d")
_SPINS = 100_000  # a write takes microseconds; a sequence odd for this long is a dead writer's
CLOCK = "clock"  # the name of its shared number in the store


class Number(Protocol):
    """A number every process of one store reads and moves: `SharedNumber` here, or the PostgreSQL store's."""

    def get(self) -> float: ...

    def set(self, value: float) -> None: ...

    def add(self, amount: float) -> float: ...


class SharedNumber:
    """A number (the clock's offset, the faults' version) in a memory-mapped file every process maps."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with _locked(fd):
                if os.fstat(fd).st_size < _LAYOUT.size:
                    os.ftruncate(fd, _LAYOUT.size)  # zero-filled: sequence 0, offset 0.0
            self._map = mmap.mmap(fd, _LAYOUT.size)
        finally:
            os.close(fd)
        self._path = path

    def get(self) -> float:
        for _ in range(_SPINS):
            before, offset = _LAYOUT.unpack_from(self._map)
            if not before & 1 and _LAYOUT.unpack_from(self._map)[0] == before:
                return offset
        self._repair()
        return self.get()

    def _repair(self) -> None:
        """A writer killed mid-write leaves the sequence odd; once its lock is free, make it even again."""
        fd = os.open(self._path, os.O_RDWR)
        try:
            with _locked(fd):
                sequence = _SEQUENCE.unpack_from(self._map)[0]
                if sequence & 1:
                    _SEQUENCE.pack_into(self._map, 0, sequence + 1)
        finally:
            os.close(fd)

    def set(self, value: float) -> None:
        self._write(lambda old: value)

    def add(self, amount: float) -> float:
        """Add `amount`, atomically across processes (a clock move, a version number); the new value."""
        return self._write(lambda old: old + amount)

    def increment(self) -> float:
        """A version number other workers compare: one more."""
        return self.add(1)

    def _write(self, new: Callable[[float], float]) -> float:
        fd = os.open(self._path, os.O_RDWR)
        try:
            with _locked(fd):
                sequence, old = _LAYOUT.unpack_from(self._map)
                value = new(old)
                _SEQUENCE.pack_into(self._map, 0, sequence + 1)  # odd: readers wait
                _OFFSET.pack_into(self._map, _SEQUENCE.size, value)
                _SEQUENCE.pack_into(self._map, 0, sequence + 2)
        finally:
            os.close(fd)
        return value


class SharedVersion:
    """A version number the workers of one state directory share, for a cache each keeps of something in the
    store (the armed faults, the triggers, the keys): `bump()` after changing it; `changed()` answers True once in
    each process after any worker bumped it (one memory read when nothing changed); `forget()` makes this process
    read again."""

    def __init__(self, number: Number) -> None:
        self._number = number
        self._seen = -1.0

    def changed(self) -> bool:
        version = self._number.get()
        if version == self._seen:
            return False
        self._seen = version
        return True

    def bump(self) -> None:
        self._number.add(1)

    def forget(self) -> None:
        self._seen = -1.0


@contextlib.contextmanager
def _locked(fd: int):
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class _LocalOffset:
    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset

    def get(self) -> float:
        return self._offset

    def set(self, value: float) -> None:
        self._offset = value

    def add(self, amount: float) -> float:
        self._offset += amount
        return self._offset


class Clock:
    """`now()` is the wall clock plus the offset; `shared(number)` gives every worker the same offset."""

    def __init__(self, offset: float = 0.0) -> None:
        self._store: Number = _LocalOffset(offset)

    @classmethod
    def shared(cls, offset: Number) -> Clock:
        """A clock whose offset is `offset`, shared by every process of one store (`Store.shared_number`)."""
        clock = cls()
        clock._store = offset
        return clock

    @property
    def offset(self) -> float:
        return self._store.get()

    def now(self) -> float:
        return time.time() + self._store.get()

    def advance(self, seconds: float) -> None:
        self._store.add(seconds)

    def set_to(self, timestamp: float) -> None:
        """Make `now()` return `timestamp` at this instant (and go on from there)."""
        self._store.set(timestamp - time.time())

    def reset(self) -> None:
        """Back to real time."""
        self._store.set(0.0)
