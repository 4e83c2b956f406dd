"""Password hashing: Argon2id, old hashes upgraded on login, a bounded number at once.

The legacy client sends the lowercase SHA-1 hex of what the person typed; that string is
the "password" here (the REST face hashes its password to the same form first), and
``FOOF_PASSWORD_HASH_METHOD`` hashes it:

- ``argon2id`` (the default): Argon2id at :data:`DEFAULT_ARGON2ID`, one of OWASP's
  equivalent minimum settings; ``argon2id:m=19456,t=2,p=1`` names other parameters, which
  must be at least one of OWASP's rows (:data:`OWASP_ARGON2ID`: memory in KiB, passes).
- a werkzeug method (``scrypt``, ``scrypt:32768:8:1``, ``pbkdf2:sha256:600000``, …): for
  the tests (a cheap ``pbkdf2:sha256:1000``) and for campuses that want one.

:func:`check` verifies any of them, and the bare values of the old server's rows; after a
correct password it returns a new hash when the stored one is not the configured method
with its parameters (scrypt, pbkdf2, clear text, Argon2 with other parameters), so every
account moves to the current hash on its next login (``accounts.check_password`` writes it).

Load: one Argon2id check costs about 20 ms of one core and its ``m`` KiB of memory. Every
hash and check runs on one of ``FOOF_HASH_SLOTS`` hash threads (0 = the number of cores
this process may use), so at most that many run at once and their memory is bounded. The
hash threads run at the lowest CPU priority (``FOOF_HASH_NICE``, 19): while a login storm
runs, the cores go first to the other requests, and the hashes take what is left. A request
waits for its hash; when ``FOOF_HASH_WAITING`` requests already wait (or a wait exceeds
``FOOF_HASH_WAIT`` seconds) it gets :class:`HashBusy`, a :class:`TooFrequent` the faces
answer as "too frequent" — waiting requests hold waitress worker threads, and this leaves
threads for everything else. With ``FOOF_HASH_YIELD`` (the default) the hash threads after
the first pause while other requests keep the service busy (:class:`Traffic`): a lower
priority does not stop a running hash from taking the memory bandwidth and caches the other
requests need, so under a mixed load the logins get one core and the rest keep theirs; a
login storm alone uses every slot. See docs/passwords-and-memory.md for the measurements.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from werkzeug.security import DEFAULT_PBKDF2_ITERATIONS, check_password_hash, generate_password_hash

from foof.domain.errors import TooFrequent

ARGON2ID = "argon2id"
#: OWASP Password Storage Cheat Sheet: equally strong Argon2id settings, parallelism 1,
#: as (memory KiB, passes): 19 MiB × 2, 12 MiB × 3, 9 MiB × 4, 7 MiB × 5.
OWASP_ARGON2ID = ((19456, 2), (12288, 3), (9216, 4), (7168, 5))
#: The default: the row with the least memory. OWASP rates the rows equal; their CPU cost is
#: alike (memory × passes 38, 36, 36, 35 MiB) and measured alike here, so the smallest memory
#: per check bounds the service's memory best (2 slots × 7 MiB). docs/passwords-and-memory.md.
DEFAULT_ARGON2ID = (7168, 5)
#: A sane upper bound of parameters a campus may configure (1 GiB, 64 passes).
MAX_MEMORY_KIB = 1024 * 1024
MAX_PASSES = 64
_WERKZEUG = ("scrypt:", "pbkdf2:")
_ARGON2 = ("$argon2id$", "$argon2i$", "$argon2d$")


class HashBusy(TooFrequent):
    """Too many requests already wait for a hash slot: answered like any "too frequent"."""


@dataclass(frozen=True)
class Method:
    """A parsed ``FOOF_PASSWORD_HASH_METHOD``: Argon2id parameters or a werkzeug method."""

    text: str
    argon2: PasswordHasher | None = None
    #: The werkzeug method as werkzeug writes it into a hash (defaults filled in).
    werkzeug: str = ""

    def make(self, password: str) -> str:
        if self.argon2 is not None:
            return self.argon2.hash(password)
        return generate_password_hash(password, method=self.werkzeug)

    def is_current(self, stored: str) -> bool:
        """Whether ``stored`` was made by this method with these parameters."""
        if self.argon2 is not None:
            if not stored.startswith(_ARGON2):
                return False
            try:
                return not self.argon2.check_needs_rehash(stored)
            except (InvalidHashError, ValueError):
                return False
        return stored.startswith(self.werkzeug + "$")


def parse_method(text: Any) -> Method:
    """The method named by ``text``, or :class:`ValueError` saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("FOOF_PASSWORD_HASH_METHOD must name a method, e.g. 'argon2id'")
    text = text.strip()
    name, _, args = text.partition(":")
    if name == ARGON2ID:
        return _parse_argon2(text, args)
    if name == "scrypt":
        return Method(text, werkzeug=_parse_scrypt(text, args))
    if name == "pbkdf2":
        return Method(text, werkzeug=_parse_pbkdf2(text, args))
    raise ValueError(
        f"FOOF_PASSWORD_HASH_METHOD {text!r}: unknown method; use 'argon2id' "
        "(or 'argon2id:m=<KiB>,t=<passes>,p=<lanes>'), 'scrypt[:N:r:p]' or 'pbkdf2[:hash[:iterations]]'"
    )


def _parse_argon2(text: str, args: str) -> Method:
    memory, passes = DEFAULT_ARGON2ID
    lanes = 1
    if args:
        given: dict[str, int] = {}
        for part in args.split(","):
            key, sep, value = part.strip().partition("=")
            if not sep or key not in ("m", "t", "p") or key in given or not value.isdigit():
                raise ValueError(
                    f"FOOF_PASSWORD_HASH_METHOD {text!r}: expected 'argon2id:m=<KiB>,t=<passes>,p=<lanes>'"
                )
            given[key] = int(value)
        memory, passes, lanes = given.get("m", memory), given.get("t", passes), given.get("p", lanes)
    if not any(memory >= m and passes >= t for m, t in OWASP_ARGON2ID) or lanes < 1:
        rows = ", ".join(f"m={m},t={t}" for m, t in OWASP_ARGON2ID)
        raise ValueError(f"FOOF_PASSWORD_HASH_METHOD {text!r}: below OWASP's Argon2id minimum (one of {rows}, p>=1)")
    if memory > MAX_MEMORY_KIB or passes > MAX_PASSES or lanes > 16 or memory < 8 * lanes:
        raise ValueError(f"FOOF_PASSWORD_HASH_METHOD {text!r}: parameters out of range")
    hasher = PasswordHasher(time_cost=passes, memory_cost=memory, parallelism=lanes, type=Type.ID)
    return Method(f"argon2id:m={memory},t={passes},p={lanes}", argon2=hasher)


def _parse_scrypt(text: str, args: str) -> str:
    if not args:
        return "scrypt:32768:8:1"
    parts = args.split(":")
    if len(parts) != 3 or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ValueError(f"FOOF_PASSWORD_HASH_METHOD {text!r}: expected 'scrypt:<N>:<r>:<p>'")
    n, r, p = (int(part) for part in parts)
    if n < 2 or n & (n - 1):
        raise ValueError(f"FOOF_PASSWORD_HASH_METHOD {text!r}: scrypt's N must be a power of 2")
    return f"scrypt:{n}:{r}:{p}"


def _parse_pbkdf2(text: str, args: str) -> str:
    parts = args.split(":") if args else []
    if len(parts) > 2:
        raise ValueError(f"FOOF_PASSWORD_HASH_METHOD {text!r}: expected 'pbkdf2:<hash>:<iterations>'")
    digest = parts[0] if parts else "sha256"
    if digest not in hashlib.algorithms_guaranteed:
        raise ValueError(f"FOOF_PASSWORD_HASH_METHOD {text!r}: unknown hash {digest!r}")
    iterations = DEFAULT_PBKDF2_ITERATIONS
    if len(parts) == 2:
        if not parts[1].isdigit() or int(parts[1]) < 1:
            raise ValueError(f"FOOF_PASSWORD_HASH_METHOD {text!r}: iterations must be a positive integer")
        iterations = int(parts[1])
    return f"pbkdf2:{digest}:{iterations}"


# --- the hash threads ------------------------------------------------------------------


def default_slots() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return max(1, count() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Job:
    __slots__ = ("work", "done", "result", "error", "state", "queued_at")

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
        self.queued_at = time.monotonic()
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.state = "queued"  # then "running" or "dropped" (its request stopped waiting)


#: Other requests seen within this many seconds...
BUSY_WINDOW = 0.5
#: ...at least this many of them (20 a second): the service is busy, spare hash threads pause.
BUSY_REQUESTS = 10
#: How often a paused hash thread looks again.
PAUSE_POLL = 0.05
#: A paused thread takes a job anyway once the oldest has waited this long: logins are slowed
#: by other traffic, never starved into "too frequent" by it (FOOF_HASH_WAIT is 10 s).
PAUSE_AT_MOST = 1.0


class Traffic:
    """A cheap, approximate count of the requests that did not hash (counted per
    ``BUSY_WINDOW``): :meth:`note` from every such request (Flask's, and the hot reads the I/O
    thread answers), :meth:`busy` from the spare hash threads. Unlocked on purpose: a lost
    count under a race only shifts the moment a spare thread pauses or resumes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.start = time.monotonic() - 2 * BUSY_WINDOW  # as after a quiet while
        self.count = 0
        self.last = 0

    def note(self) -> None:
        now = time.monotonic()
        if now - self.start >= BUSY_WINDOW:
            self.last = self.count if now - self.start < 2 * BUSY_WINDOW else 0
            self.start, self.count = now, 0
        self.count += 1

    def busy(self) -> bool:
        age = time.monotonic() - self.start
        if age >= 2 * BUSY_WINDOW:
            return False  # nothing for a whole window
        if age >= BUSY_WINDOW:
            return self.count >= BUSY_REQUESTS  # the window just ended
        return max(self.last, self.count) >= BUSY_REQUESTS


#: The process's count (one service per process; tests reset it).
traffic = Traffic()
_request_state = threading.local()


def begin_request() -> None:
    _request_state.hashed = False


def end_request() -> None:
    """A request that did not hash counts as other traffic."""
    if not getattr(_request_state, "hashed", False):
        traffic.note()


class HashPool:
    """``slots`` daemon threads that run hash jobs one at a time each, in arrival order.

    :meth:`run` hands a job over and waits for it. At most ``slots`` jobs run at once
    (one per thread), so at most ``slots × m`` KiB of Argon2 memory is in use. With
    ``yielding``, threads after the first take a job only while :data:`traffic` is not busy.
    """

    def __init__(self, slots: int, nice: int, yielding: bool = False) -> None:
        self.slots = slots
        self.nice = nice
        self.yielding = yielding
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: collections.deque[_Job] = collections.deque()
        self._threads: dict[int, threading.Thread] = {}
        #: Jobs handed over and not yet finished or dropped (running + waiting).
        self.pending = 0
        self.running = 0
        #: The most jobs ever running at once (read by tests).
        self.peak = 0

    def run(self, work: Callable[[], Any], waiting: int, wait: float | None) -> Any:
        """``work()`` on a hash thread; :class:`HashBusy` when ``waiting`` jobs already wait,
        or when it has not started after ``wait`` seconds (None: no cap, no limit)."""
        job = _Job(work)
        _request_state.hashed = True
        with self._lock:
            if self.pending >= self.slots + waiting:
                raise HashBusy()
            self.pending += 1
            # A forked child has none of its parent's threads (they read as not alive).
            self._threads = {index: thread for index, thread in self._threads.items() if thread.is_alive()}
            for index in range(self.slots):  # index 0, the thread that never pauses, first
                if index not in self._threads:
                    thread = threading.Thread(target=self._work, args=(index,), name=f"foof-hash-{index}", daemon=True)
                    self._threads[index] = thread
                    thread.start()
            self._queue.append(job)
            self._ready.notify_all()  # a spare thread may decline it: the first must hear too
        if not job.done.wait(wait):
            with self._lock:
                if job.state == "queued":  # never started: take it back, answer busy
                    job.state = "dropped"
                    self._queue.remove(job)
                    self.pending -= 1
                    raise HashBusy()
            job.done.wait()  # running: one hash more, not worth abandoning
        if job.error is not None:
            raise job.error
        return job.result

    def _may_take(self, index: int) -> bool:
        if index == 0 or not self.yielding or not traffic.busy():
            return True
        return time.monotonic() - self._queue[0].queued_at > PAUSE_AT_MOST  # waited long enough

    def _work(self, index: int) -> None:
        if self.nice > 0 and sys.platform.startswith("linux"):
            # On Linux the nice value belongs to the thread (man 2 setpriority, BUGS): only the
            # hash threads yield to the request threads. Raising it needs no privilege.
            try:
                me = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + self.nice))
            except OSError:
                pass
        while True:
            with self._lock:
                while not (self._queue and self._may_take(index)):
                    self._ready.wait(PAUSE_POLL if self._queue else None)
                job = self._queue.popleft()
                job.state = "running"
                self.running += 1
                self.peak = max(self.peak, self.running)
            try:
                job.result = job.work()
            except BaseException as error:  # handed to the waiting request thread
                job.error = error
            finally:
                with self._lock:
                    self.running -= 1
                    self.pending -= 1
                job.done.set()


#: Hash pools shared by every app of the process with the same threads and priority (tests
#: make hundreds of apps; each would otherwise start its own threads).
_pools: dict[tuple[int, int, bool], HashPool] = {}
_pools_lock = threading.Lock()


def _pool(slots: int, nice: int, yielding: bool) -> HashPool:
    with _pools_lock:
        pool = _pools.get((slots, nice, yielding))
        if pool is None:
            pool = _pools[(slots, nice, yielding)] = HashPool(slots, nice, yielding)
        return pool


@dataclass(frozen=True)
class Hashing:
    """An app's hashing: its method, and the pool and limits its hashes run under."""

    method: Method
    pool: HashPool
    waiting: int
    wait: float

    def run(self, work: Callable[[], Any]) -> Any:
        """A login's check: bounded waiting, :class:`HashBusy` beyond it."""
        return self.pool.run(work, self.waiting, self.wait)

    def run_unbounded(self, work: Callable[[], Any]) -> Any:
        """A new hash (registration, reset, change): waits its turn on a hash thread however
        long; never :class:`HashBusy`. The legacy register, reset and modify routes do not
        answer "too frequent", and these requests are already limited (SMS codes, a login)."""
        return self.pool.run(work, sys.maxsize, None)


def _int_setting(config: Any, key: str, low: int) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{key} must be an integer >= {low}, not {value!r}")
    return value


def configure(config: Any) -> Hashing:
    """The hashing a configuration asks for, or :class:`ValueError` naming the bad key."""
    method = parse_method(config.get("FOOF_PASSWORD_HASH_METHOD"))
    slots = _int_setting(config, "FOOF_HASH_SLOTS", 0) or default_slots()
    nice = _int_setting(config, "FOOF_HASH_NICE", 0)
    if nice > 19:
        raise ValueError(f"FOOF_HASH_NICE must be from 0 to 19, not {nice!r}")
    waiting = _int_setting(config, "FOOF_HASH_WAITING", 0)
    wait = config.get("FOOF_HASH_WAIT")
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 < wait <= 600:
        raise ValueError(f"FOOF_HASH_WAIT must be a number of seconds from 0 to 600, not {wait!r}")
    yielding = config.get("FOOF_HASH_YIELD", True)
    if not isinstance(yielding, bool):
        raise ValueError(f"FOOF_HASH_YIELD must be true or false, not {yielding!r}")
    return Hashing(method, _pool(slots, nice, yielding), waiting, float(wait))


def init_app(app: Flask) -> None:
    """Check the hashing settings when the app is created (a clear error, not a failed login)."""
    app.extensions["foof.passwords"] = configure(app.config)
    app.before_request(begin_request)

    @app.after_request
    def _count_traffic(response: Any) -> Any:
        end_request()
        return response


def _hashing() -> Hashing:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    hashing = app.extensions.get("foof.passwords")
    if hashing is None:  # an app made without init_app
        hashing = app.extensions["foof.passwords"] = configure(app.config)
    return hashing  # type: ignore[no-any-return]


# --- the domain's calls ----------------------------------------------------------------


def hash_password(password: str) -> str:
    """A new hash of ``password`` by the configured method (on a hash thread)."""
    hashing = _hashing()
    return hashing.run_unbounded(lambda: hashing.method.make(password))  # type: ignore[no-any-return]


def is_hashed(stored: str) -> bool:
    """Whether ``stored`` is a hash (werkzeug's or Argon2's), not a legacy clear value."""
    return (stored.startswith(_WERKZEUG) and stored.count("$") == 2) or stored.startswith(_ARGON2)


def _verify(stored: str, password: str) -> bool:
    if stored.startswith(_ARGON2):
        try:
            extract_parameters(stored)  # refuses a malformed hash before the C library sees it
            return bool(PasswordHasher().verify(stored, password))
        except (VerificationError, InvalidHashError, ValueError):
            return False
    try:
        return check_password_hash(stored, password)
    except (ValueError, TypeError, OverflowError, MemoryError):  # a damaged row: no login
        return False


def check(stored: str, password: str) -> tuple[bool, str | None]:
    """``(ok, new_hash)``: ``new_hash`` is set after a correct password whose stored form is
    not the configured method with its parameters (clear text, scrypt, pbkdf2, other Argon2
    parameters), for the caller to store. The check and the new hash run on one hash thread."""
    hashing = _hashing()
    method = hashing.method

    def work() -> tuple[bool, str | None]:
        if is_hashed(stored):
            ok = _verify(stored, password)
        else:  # the old server's rows hold the client's string as it came
            ok = hmac.compare_digest(stored.encode("utf-8", "surrogatepass"), password.encode("utf-8", "surrogatepass"))
        if not ok:
            return False, None
        return True, (None if method.is_current(stored) else method.make(password))

    return hashing.run(work)  # type: ignore[no-any-return]
