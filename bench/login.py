"""Logins under load (issue #13): logins/s, p99, the server's RSS, and what a login storm
leaves of GET /item.

Builds a throw-away instance (SQLite, or a fresh MariaDB database with ``--db mysql``), seeds
it with ``flask seed-demo`` (every account's password is the demo one, hashed once by the
configured method), serves it with ``python wsgi.py`` and drives it with wrk:

1. ``GET /item/<id>`` alone (16 connections);
2. ``POST /user/login`` alone, correct passwords, 16 connections rotating over 200 accounts
   (one account's guesses are limited, 10 at once); only ``"status":"success"`` answers count;
3. both at once: 16 login connections and 16 on ``GET /item``.

Prints per phase the rate, p50/p99, the answers that were not successes, the server's peak
RSS in the phase (VmHWM reset between phases through ``/proc/<pid>/clear_refs``), the CPU
share the host stole, the cores the server process kept busy (its user + system time over
the phase) and the load average (other processes on a shared machine). Usage::

    .venv/bin/python bench/login.py [--db sqlite|mysql] [--seconds 10] [--threads 8] [--env K=V ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNTS = 200
CONNECTIONS = 16

LUA = r"""
local bodies = %(bodies)s
local turn = 0
ok = 0
other = 0
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) turn = math.random(#bodies > 0 and #bodies or 1) end
function request()
  if #bodies == 0 then return wrk.format() end
  turn = turn %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[turn])
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"status":"success"', 1, true) then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, t in ipairs(threads) do good = good + t:get("ok"); bad = bad + t:get("other") end
  io.write(string.format("FOOF %%d %%d %%d %%f %%f %%d\n", good, bad, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as fh:
        fh.write("5")  # VmHWM := VmRSS (Linux 4.0+)


def cpu() -> list[int]:
    with open("/proc/stat") as fh:
        return [int(x) for x in fh.readline().split()[1:]]


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def steal(before: list[int], after: list[int]) -> float:
    delta = [b - a for a, b in zip(before, after)]
    return delta[7] / max(1, sum(delta))


def wrk(url: str, method: str, bodies: list[str], seconds: float, workdir: str, name: str) -> subprocess.Popen:
    script = os.path.join(workdir, f"{name}.lua")
    with open(script, "w") as fh:
        fh.write(LUA % {"method": method, "bodies": "{" + ", ".join(json.dumps(b) for b in bodies) + "}"})
    return subprocess.Popen(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--latency", "-s", script, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def result(proc: subprocess.Popen) -> dict[str, float]:
    out, _ = proc.communicate(timeout=600)
    match = re.search(r"FOOF (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    good, bad, duration, p50, p99, errors = match.groups()
    seconds = int(duration) / 1e6
    return {
        "rate": int(good) / seconds,
        "other": int(bad) + int(errors),
        "p50": float(p50) / 1000,
        "p99": float(p99) / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "mysql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8, help="FOOF_THREADS of the server")
    parser.add_argument("--env", action="append", default=[], help="K=V for the server (e.g. FOOF_HASH_NICE=0)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="foof-login-")
    database = None
    env = dict(os.environ, FOOF_INSTANCE_PATH=os.path.join(workdir, "instance"), FOOF_LOG_LEVEL="WARNING")
    env.pop("FOOF_PASSWORD_HASH_METHOD", None)
    if args.db == "mysql":
        database = f"foof_login_{int(time.time())}_{os.getpid()}"
        subprocess.run(
            ["mysql", "-h127.0.0.1", "-uroot", "-e", f"CREATE DATABASE {database} CHARACTER SET utf8mb4"], check=True
        )
        env["FOOF_DATABASE_URL"] = f"mysql+pymysql://root@127.0.0.1:3306/{database}?charset=utf8mb4"
    for pair in args.env:
        key, _, value = pair.partition("=")
        env[key] = value
    server = None
    try:
        flask = [sys.executable, "-m", "flask", "--app", "foof"]
        subprocess.run(flask + ["init-db"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run(
            flask + ["seed-demo", "--users", str(ACCOUNTS), "--items", "2000", "--messages", "0"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        port = free_port()
        server_env = dict(env, FOOF_HOST="127.0.0.1", FOOF_PORT=str(port), FOOF_THREADS=str(args.threads))
        server = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "wsgi.py")], env=server_env, cwd=ROOT, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        time.sleep(1)
        idle = status_kb(server.pid, "VmRSS") / 1024
        password = hashlib.sha1(b"demo123").hexdigest()
        phones = [str(13000000001 + n) for n in range(ACCOUNTS)]
        logins = [f"phonenumber={phone}&password={password}" for phone in phones]
        # one login per account first: seed-demo's hash is current, nothing to upgrade
        print(
            f"\nFOOF login benchmark: {args.db}, {ACCOUNTS} accounts, waitress {args.threads} threads, "
            f"{CONNECTIONS} connections per load, {args.seconds:.0f} s per phase; idle RSS {idle:.1f} MB"
        )
        print(
            f"{'phase':40s} {'ok/s':>7s} {'p50 ms':>7s} {'p99 ms':>7s} {'not ok':>6s} {'peak MB':>7s} "
            f"{'steal':>6s} {'cpu/s':>6s} {'load':>5s}"
        )
        phases = [
            ("GET /item/1 alone", [("GET", "/item/1", [])]),
            ("POST /user/login alone", [("POST", "/user/login", logins)]),
            ("GET /item/1 + logins", [("GET", "/item/1", []), ("POST", "/user/login", logins)]),
        ]
        solo_item = None
        for name, loads in phases:
            reset_peak(server.pid)
            before = cpu()
            used = server_cpu(server.pid)
            procs = [
                wrk(base + path, method, bodies, args.seconds, workdir, f"{name[:4]}{i}")
                for i, (method, path, bodies) in enumerate(loads)
            ]
            results = [result(proc) for proc in procs]
            stolen = steal(before, cpu())
            busy = (server_cpu(server.pid) - used) / args.seconds  # cores the server kept busy
            load = os.getloadavg()[0]
            peak = status_kb(server.pid, "VmHWM") / 1024
            for (method, path, _), got in zip(loads, results):
                label = f"{name} [{method} {path}]" if len(loads) > 1 else name
                print(
                    f"{label:40s} {got['rate']:7.1f} {got['p50']:7.1f} {got['p99']:7.1f} {got['other']:6d} "
                    f"{peak:7.1f} {stolen:6.1%} {busy:6.2f} {load:5.1f}"
                )
            if name == "GET /item/1 alone":
                solo_item = results[0]["rate"]
            elif len(loads) > 1 and solo_item:
                print(f"  GET /item keeps {results[0]['rate'] / solo_item:.0%} of its solo rate during logins")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if database:
            subprocess.run(["mysql", "-h127.0.0.1", "-uroot", "-e", f"DROP DATABASE {database}"], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
