"""Slow clients against the real service: can a normal request still get in?

    .venv/bin/python bench/slow_clients.py [--attackers 400] [--limit 100] [--requests 20]

Starts ``python wsgi.py`` on a throw-away SQLite instance with ``FOOF_CONNECTION_LIMIT`` =
``--limit``, then opens ``--attackers`` connections that each send an unfinished request
header and nothing more, and open a new one as soon as the server closes one (the worst
case for eviction: the slots refill at once). Meanwhile a normal client sends
``GET /user/1`` on a fresh connection every 0.1 s; prints its median and worst latency and
how many attacker connections the server closed. Everything runs on 127.0.0.1.
"""

import os
import sys

# bench/http.py would shadow the stdlib's http package: drop this folder from the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
ROOT = os.path.dirname(_HERE)
sys.path.insert(0, ROOT)

import argparse  # noqa: E402
import http.client  # noqa: E402
import selectors  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from foof import create_app  # noqa: E402
from foof.cli import create_schema  # noqa: E402
from foof.domain import accounts  # noqa: E402


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(folder, limit):
    url = f"sqlite:///{folder}/bench.db"
    app = create_app(
        {"FOOF_INSTANCE_PATH": f"{folder}/instance", "FOOF_DATABASE_URL": url, "FOOF_LOG_LEVEL": "WARNING"}
    )
    with app.app_context():
        create_schema()
        accounts.create_user("13800000001", "pw")
    port = free_port()
    env = dict(
        os.environ,
        FOOF_HOST="127.0.0.1",
        FOOF_PORT=str(port),
        FOOF_INSTANCE_PATH=f"{folder}/instance",
        FOOF_DATABASE_URL=url,
        FOOF_LOG_LEVEL="WARNING",
        FOOF_CONNECTION_LIMIT=str(limit),
    )
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "wsgi.py")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the service did not start")


class Attackers(threading.Thread):
    def __init__(self, port, count):
        super().__init__(daemon=True)
        self.port, self.count, self.closed, self.stopping = port, count, 0, False
        self.selector = selectors.DefaultSelector()

    def open_one(self):
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(b"GET /user/1 HTTP/1.1\r\nHost: bench\r\nX-Slow: a")
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ)

    def run(self):
        for _ in range(self.count):
            self.open_one()
        while not self.stopping:
            for key, _ in self.selector.select(0.1):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self.selector.unregister(sock)
                    sock.close()
                    self.closed += 1
                    self.open_one()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, default=400)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="foof-slow-")
    proc, port = start(folder, args.limit)
    attackers = Attackers(port, args.attackers)
    try:
        attackers.start()
        time.sleep(1)
        latencies = []
        for _ in range(args.requests):
            started = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/user/1")
                reply = conn.getresponse()
                reply.read()
                conn.close()
                latencies.append((time.monotonic() - started) * 1000 if reply.status == 200 else float("inf"))
            except OSError:
                latencies.append(float("inf"))
            time.sleep(0.1)
        latencies.sort()
        print(
            f"{args.attackers} slow-header connections (reopened when closed), limit {args.limit}: "
            f"GET /user/1 median {latencies[len(latencies) // 2]:.0f} ms, worst {latencies[-1]:.0f} ms "
            f"({sum(1 for x in latencies if x == float('inf'))} failed); "
            f"the server closed {attackers.closed} attacker connections"
        )
    finally:
        attackers.stopping = True
        proc.terminate()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
