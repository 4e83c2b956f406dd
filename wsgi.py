"""WSGI entry point: ``app`` for any WSGI server; ``python wsgi.py`` serves with waitress.

Before listening, ``python wsgi.py`` checks that the database answers and holds every table
(:mod:`foof.ops.startup`) and that the port is free; otherwise it prints one line saying what
is wrong and exits with status 2 (systemd then shows that line, not a traceback per request).
"""

import errno
import logging
import os
import sys

from foof import create_app


def _limit_malloc_arenas(arenas=2):
    """At most ``arenas`` glibc malloc arenas (M_ARENA_MAX), before any worker thread starts:
    by default glibc gives each busy thread its own arena, and 8 waitress threads plus the hash
    threads then keep tens of MB each has freed (measured on MariaDB: the fetchnew run 105 ->
    85 MB, search 137 -> 120 MB, logins 151 -> 140 MB). ``MALLOC_ARENA_MAX`` in the
    environment wins; elsewhere than glibc this does nothing."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, arenas)  # -8 = M_ARENA_MAX
    except (OSError, AttributeError):
        pass


_limit_malloc_arenas()
app = create_app()


def fail(message):
    """One line on stderr and exit status 2."""
    print(f"foof: not starting: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def main():
    from foof import serving
    from foof.ops import startup

    host = os.environ.get("FOOF_HOST", "0.0.0.0")
    try:
        port = int(os.environ.get("FOOF_PORT", "4000"))
        threads = int(os.environ.get("FOOF_THREADS", "8"))
    except ValueError as exc:
        fail(f"FOOF_PORT and FOOF_THREADS must be whole numbers ({exc})")
    # The search index is not required to start: a missing one is rebuilt by init-db/reindex,
    # and /readyz reports it.
    problems = startup.problems(app, search=False)
    if problems:
        fail(problems[0])
    # The foof loggers already have a handler (create_app); give waitress's the same format.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    waitress_log = logging.getLogger("waitress")
    waitress_log.addHandler(handler)
    waitress_log.setLevel(logging.INFO)
    waitress_log.propagate = False
    # waitress warns "Task queue depth is N" on every burst; a busy hour would flood the log.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        serving.serve(app, host=host, port=port, threads=threads)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fail(f"cannot listen on {host}:{port}: the address is already in use (another FOOF? set FOOF_PORT)")
        if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            fail(f"cannot listen on {host}:{port}: {exc.strerror}")
        raise


if __name__ == "__main__":
    main()
