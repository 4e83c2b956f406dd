"""HTTP benchmark of the real service under waitress against a bare waitress ceiling.

    .venv/bin/python bench/http.py [--db sqlite|mysql] [--driver auto|mysqldb|pymysql]
                                   [--seconds 5] [--rounds 3] [--only item,login,...]
                                   [--users 10000] [--items 100000] [--messages 200000]
                                   [--env FOOF_X=value ...] [--keep | --reuse FOLDER]

Seeds a throw-away database (``seed-demo``), starts ``python wsgi.py`` (waitress, 8 threads)
and a bare waitress app returning a fixed JSON body, drives each with the same load
generator (wrk from Debian's packages if present, else a Python keep-alive client) at 16
connections for a fixed time, and prints req/s, p50/p99 latency, errors and the ratio to
the ceiling, the service's idle and peak RSS per route, and the CPU time the host stole.
Each route is measured in rounds, each right after a fresh ceiling measurement, and the
median round is shown: on a shared VM the speed of the machine drifts during a run.

Routes: the three hot reads (``GET /item/<id>``, ``GET /user/<uuid>``, the empty
``fetchnew`` poll), ``POST /fav/query`` (a user with as many favourites as the 90th
percentile of the seeded users), ``GET /products`` (first page), ``POST /item/search``,
the two logins with the demo accounts' correct password (``POST /user/login``,
``POST /users/sessions``; 64 accounts in turn), and a mixed run: ``GET /item/<id>`` on 8
connections alone, then again while 16 connections log in, giving the GET's share of its
solo throughput. Targets (issue #13) are marked PASS/MISS.

Everything runs on 127.0.0.1 and stops by itself. ``--db mysql`` uses a fresh database on
the local MariaDB (root, no password) reached by ``mysql://`` (FOOF's choice of driver:
mysqlclient when installed, else PyMySQL) or the ``--driver`` named. ``--keep`` keeps the
seeded folder and database and prints the folder; ``--reuse FOLDER`` measures on it
again without seeding (and without dropping it). ``--env`` passes settings to the service
(e.g. ``--env FOOF_INLINE_READS=always``).
"""

import os
import sys

# This file is named http.py: drop its folder from the path so "http.client" is the stdlib's.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
CONNECTIONS = 16
MIXED_GET_CONNECTIONS = 8
LOGIN_ACCOUNTS = 64

# Issue #13's targets.
HOT_RATIO, HOT_P99_MS = 0.80, 20.0
LIST_RATIO = 0.30
LOGIN_RATE, LOGIN_P99_MS, LOGIN_RSS_MB = 70.0, 400.0, 150.0
MIXED_SHARE = 0.50

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

CEILING_APP = r"""
import sys
from waitress import serve
BODY = b'{"itemid":1,"uuid":1,"title":"ceiling","type":1,"price":1,"imgurl":"image/item/default.jpg","depreciatione":1,"note":"x","sold":1,"to":0,"status":"success"}'
def app(environ, start_response):
    if environ.get("CONTENT_LENGTH"):
        environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    start_response("200 OK", [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(BODY)))])
    return [BODY]
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8)
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def seed(env, users, items, messages):
    started = time.perf_counter()
    command = [sys.executable, "-m", "flask", "--app", "foof", "seed-demo"]
    command += ["--users", str(users), "--items", str(items), "--messages", str(messages)]
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


FIXTURES = r"""
import hashlib, json
from foof import create_app
from foof.domain import tokens
from foof.extensions import db
from foof.models import Chat, Favourite, Item, User
from foof.seed import DEMO_PASSWORD
from sqlalchemy import select, func
app = create_app()
with app.app_context():
    counts = sorted(db.session.execute(select(func.count()).select_from(Favourite).group_by(Favourite.uuid)).scalars())
    favourites = counts[int(len(counts) * 0.9)] if counts else 0
    fan = db.session.execute(
        select(Favourite.uuid).group_by(Favourite.uuid).having(func.count() == favourites).order_by(Favourite.uuid).limit(1)
    ).scalar()
    uuid = db.session.execute(select(Chat.to).group_by(Chat.to).order_by(func.count().desc()).limit(1)).scalar()
    itemid = db.session.execute(select(Item.itemid).where(Item.sold == 1).limit(1).offset(500)).scalar()
    phones = db.session.execute(
        select(User.phonenumber).where(User.phonenumber.like("130%")).order_by(User.uuid).limit(LIMIT)
    ).scalars().all()
    print(json.dumps({
        "token": tokens.login_token(uuid), "uuid": uuid, "itemid": itemid,
        "fan_token": tokens.login_token(fan or uuid), "favourites": favourites,
        "phones": phones, "password": DEMO_PASSWORD,
        "api_password": hashlib.sha1(DEMO_PASSWORD.encode()).hexdigest(),
    }))
"""


def fixtures(env):
    """Tokens, ids and demo accounts to aim the routes at."""
    code = FIXTURES.replace("LIMIT", str(LOGIN_ACCOUNTS))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def proc_status_mb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_peak(pid):
    """Start a new peak-RSS period (Linux: 5 into clear_refs resets VmHWM); False when the
    kernel refuses (the peak then counts from the start)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
OWN_PIDS = []  # the service, the ceiling and the database server: their CPU is the benchmark's


def _process_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def _own_seconds():
    """CPU seconds of this script, its finished children (wrk) and OWN_PIDS."""
    import resource

    spent = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        spent += usage.ru_utime + usage.ru_stime
    return spent + sum(_process_seconds(pid) for pid in OWN_PIDS)


def database_pid():
    """The local MariaDB/MySQL server's pid, or None."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() in ("mariadbd", "mysqld"):
                        return int(entry)
            except OSError:
                continue
    return None


def cpu_counters():
    """The machine's /proc/stat CPU counters and the benchmark's own CPU seconds, or None."""
    try:
        with open("/proc/stat") as fh:
            return [int(v) for v in fh.readline().split()[1:]], _own_seconds()
    except (OSError, ValueError):
        return None


def steal_since(before):
    """``(stolen, others)`` since ``before`` (cpu_counters()): the share of the machine's CPU
    time the host stole, and the share other processes on this machine used (not the
    service, the ceiling, the database server, wrk or this script: other work sharing the
    cores). None where /proc is missing."""
    after = cpu_counters()
    if before is None or after is None:
        return None
    spent = [now - then for now, then in zip(after[0], before[0])]
    total = sum(spent)
    if len(spent) <= 7 or not total:
        return None
    busy = total - spent[3] - spent[4]  # all but idle and iowait
    own = (after[1] - before[1]) * TICK
    return spent[7] / total, max(0.0, busy - spent[7] - own) / total


def share_text(shares):
    return "stolen ?, others ?" if shares is None else f"stolen {shares[0]:.0%}, others {shares[1]:.0%}"


IN_PROCESS = r"""
import io, json, sys, threading, time
from foof import create_app
app = create_app()
hot = app.extensions["foof.hot_path"]
method, path, body, seconds = sys.argv[1], sys.argv[2], sys.argv[3].encode(), float(sys.argv[4])

def answer():
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/x-www-form-urlencoded", "wsgi.input": io.BytesIO(body)}
    if hot.answer(environ, take=False) is None:
        raise SystemExit(f"{method} {path} was not answered by the hot path")

def rate(threads):
    counts, stop = [0] * threads, time.monotonic() + seconds
    def work(slot):
        while time.monotonic() < stop:
            answer()
            counts[slot] += 1
    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / seconds

answer()
print(json.dumps({"one": rate(1), "eight": rate(8)}))
"""


def in_process(env, method, path, body, seconds):
    """Requests/s of the hot path's answer called directly (the database read and rendering,
    no HTTP), from 1 and from 8 threads."""
    out = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, method, path, body or "", str(seconds)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- load generators ---------------------------------------------------------------------------
WRK_SCRIPT = r"""
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "%(ctype)s"
local bodies = %(bodies)s
local turn = 0
request = function()
  if #bodies == 0 then return wrk.format() end
  turn = turn %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[turn])
end
done = function(summary, latency, requests)
  io.write(string.format("FOOF %%d %%d %%d %%d %%f %%f\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_strings(bodies):
    return "{" + ", ".join(json.dumps(body) for body in bodies) + "}"


def run_wrk(url, load, seconds, connections=CONNECTIONS):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(
            WRK_SCRIPT
            % {
                "method": load["method"],
                "ctype": load.get("ctype", FORM),
                "bodies": _lua_strings(load.get("bodies", [])),
            }
        )
        script = fh.name
    threads = 2 if connections >= 2 else 1
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={load.get('timeout', 2)}s"]
            + ["--latency", "-s", script, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script)
    match = re.search(r"FOOF (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    requests, status_errors, socket_errors, duration_us, p50, p99 = match.groups()
    seconds_taken = int(duration_us) / 1e6
    return {
        "rps": int(requests) / seconds_taken,
        "p50": float(p50) / 1000,
        "p99": float(p99) / 1000,
        "errors": int(status_errors) + int(socket_errors),
        "requests": int(requests),
    }


def run_python(url, load, seconds, connections=CONNECTIONS):
    """A keep-alive client per connection in threads (used when wrk is absent)."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    bodies = load.get("bodies") or [None]
    latencies, errors = [], [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(slot):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine, turn = [], slot
        headers = {"Content-Type": load.get("ctype", FORM)}
        while time.monotonic() < stop:
            turn += 1
            started = time.perf_counter()
            try:
                conn.request(load["method"], path, body=bodies[turn % len(bodies)], headers=headers)
                reply = conn.getresponse()
                reply.read()
                if reply.status >= 400:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                continue
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = time.monotonic() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")  # noqa: E731
    return {
        "rps": len(latencies) / taken,
        "p50": pick(0.5),
        "p99": pick(0.99),
        "errors": errors[0],
        "requests": len(latencies),
    }


def check_reply(port, load):
    """One request as the load sends it; the reply must be a success of its face (a wrong
    password answers 200 too), else the figures would measure a refusal."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = (load.get("bodies") or [None])[0]
        conn.request(load["method"], load["path"], body=body, headers={"Content-Type": load.get("ctype", FORM)})
        reply = conn.getresponse()
        text = reply.read().decode("utf-8", "replace")
    finally:
        conn.close()
    ok = reply.status == 200 and ('"status":"success"' in text or '"state":200' in text or load.get("any_body"))
    if not ok:
        raise RuntimeError(f"{load['method']} {load['path']} answered {reply.status} {text[:200]}")


def routes_for(aim):
    """name -> load: method, path, bodies, content type, kind (hot, list, login, other)."""
    token, fan = aim["token"], aim["fan_token"]
    phones = aim["phones"]
    return {
        "GET /item/<id>": {"method": "GET", "path": f"/item/{aim['itemid']}", "kind": "hot"},
        "GET /user/<uuid>": {"method": "GET", "path": f"/user/{aim['uuid']}", "kind": "hot"},
        "POST /user/chat/fetchnew": {
            "method": "POST",
            "path": "/user/chat/fetchnew",
            "bodies": [f"token={token}"],
            "kind": "hot",
        },
        "POST /fav/query": {"method": "POST", "path": "/fav/query", "bodies": [f"token={fan}"], "kind": "list"},
        "GET /products": {"method": "GET", "path": "/products", "kind": "list"},
        "POST /item/search": {
            "method": "POST",
            "path": "/item/search",
            "bodies": ["method=good&query=%E5%B0%8F%E7%B1%B3%E5%85%85%E7%94%B5%E5%AE%9D&size=10"],
            "kind": "other",
            "any_body": True,
        },
        "POST /user/login": {
            "method": "POST",
            "path": "/user/login",
            "bodies": [f"phonenumber={phone}&password={aim['api_password']}" for phone in phones],
            "kind": "login",
            "timeout": 10,  # a slow login counts in the latency, not as a socket error
        },
        "POST /users/sessions": {
            "method": "POST",
            "path": "/users/sessions",
            "ctype": JSON_TYPE,
            "bodies": [json.dumps({"username": phone, "password": aim["password"]}) for phone in phones],
            "kind": "login",
            "timeout": 10,
        },
    }


def median_round(pairs):
    pairs.sort(key=lambda pair: pair[0])
    return pairs[len(pairs) // 2]


def verdict(ok):
    return "PASS" if ok else "MISS"


def measure_route(name, load, args, drive, port, ceiling_port, service):
    """Rounds of (ceiling, route); the median round by ratio (by req/s for logins, which
    are measured without a ceiling: their target is absolute)."""
    ceiling_load = {"method": "GET"}
    check_reply(port, load)
    idle = proc_status_mb(service.pid, "VmRSS")
    reset = reset_peak(service.pid)
    steal_before = cpu_counters()
    pairs = []
    for _ in range(args.rounds):
        ceiling = None
        if load["kind"] != "login":
            ceiling = drive(f"http://127.0.0.1:{ceiling_port}/", ceiling_load, args.seconds)
        result = drive(f"http://127.0.0.1:{port}{load['path']}", load, args.seconds)
        ratio = result["rps"] / ceiling["rps"] if ceiling else result["rps"]
        pairs.append((ratio, result, ceiling))
    peak = proc_status_mb(service.pid, "VmHWM")
    shares = steal_since(steal_before)
    ratio, result, ceiling = median_round(pairs)
    errors = sum(pair[1]["errors"] for pair in pairs)
    kind = load["kind"]
    if kind == "hot":
        ok = ratio >= HOT_RATIO and result["p99"] <= HOT_P99_MS and errors == 0
        mark = f"target ≥ {HOT_RATIO:.0%}, p99 ≤ {HOT_P99_MS:g} ms: {verdict(ok)}"
    elif kind == "list":
        ok = ratio >= LIST_RATIO and errors == 0
        mark = f"target ≥ {LIST_RATIO:.0%}: {verdict(ok)}"
    elif kind == "login":
        ok = result["rps"] >= LOGIN_RATE and result["p99"] <= LOGIN_P99_MS and peak <= LOGIN_RSS_MB and errors == 0
        mark = f"target ≥ {LOGIN_RATE:g}/s, p99 ≤ {LOGIN_P99_MS:g} ms, peak RSS ≤ {LOGIN_RSS_MB:g} MB: {verdict(ok)}"
    else:
        ok, mark = None, ""
    if ceiling:
        spread = f"ceiling {ceiling['rps']:5.0f}  ratio {ratio:6.1%} (rounds {pairs[0][0]:.0%}–{pairs[-1][0]:.0%})"
    else:
        spread = f"(rounds {pairs[0][0]:.0f}–{pairs[-1][0]:.0f} req/s)"
    print(
        f"{name:26} {result['rps']:7.0f} req/s  p50 {result['p50']:6.1f} ms  p99 {result['p99']:6.1f} ms  "
        f"errors {errors}  {spread}  RSS idle {idle:4.0f} / peak {peak:4.0f} MB{'' if reset else ' (since start)'}  "
        f"CPU {share_text(shares)}  {mark}",
        flush=True,
    )
    return ok


def measure_mixed(loads, args, port, service):
    """GET /item on 8 connections alone, then while 16 connections log in: the GET's share
    of its solo throughput, round by round (median kept)."""
    get, login = loads["GET /item/<id>"], loads["POST /user/login"]
    url = f"http://127.0.0.1:{port}"
    steal_before = cpu_counters()
    reset_peak(service.pid)
    rounds = []
    for _ in range(args.rounds):
        solo = run_wrk(url + get["path"], get, args.seconds, MIXED_GET_CONNECTIONS)
        found = {}
        logins = threading.Thread(
            target=lambda: found.update(login=run_wrk(url + login["path"], login, args.seconds + 1, CONNECTIONS))
        )
        logins.start()
        time.sleep(0.5)  # the logins are under way before the GETs start, and end after them
        mixed = run_wrk(url + get["path"], get, args.seconds, MIXED_GET_CONNECTIONS)
        logins.join()
        rounds.append((mixed["rps"] / solo["rps"], solo, mixed, found["login"]))
    rounds.sort(key=lambda entry: entry[0])
    share, solo, mixed, login_result = rounds[len(rounds) // 2]
    errors = sum(entry[2]["errors"] for entry in rounds)
    login_errors = sum(entry[3]["errors"] for entry in rounds)
    shares = steal_since(steal_before)
    peak = proc_status_mb(service.pid, "VmHWM")
    ok = share >= MIXED_SHARE and errors == 0
    print(
        f"{'GET /item while logins run':26} {mixed['rps']:7.0f} req/s  p99 {mixed['p99']:6.1f} ms  alone "
        f"{solo['rps']:5.0f} req/s ({MIXED_GET_CONNECTIONS} connections): share {share:6.1%} "
        f"(rounds {rounds[0][0]:.0%}–{rounds[-1][0]:.0%}); logins meanwhile {login_result['rps']:5.1f}/s "
        f"p99 {login_result['p99']:6.1f} ms; errors {errors} (logins {login_errors}); peak RSS {peak:4.0f} MB; "
        f"CPU {share_text(shares)}  target ≥ {MIXED_SHARE:.0%}: {verdict(ok)}",
        flush=True,
    )
    return ok


def prepare(args, workdir):
    """The environment of the seeded instance in ``workdir`` (seeding it unless reused)."""
    env = dict(
        os.environ,
        FOOF_INSTANCE_PATH=os.path.join(workdir, "instance"),
        FOOF_MEDIA_ROOT=os.path.join(workdir, "media"),
        FOOF_UPLOAD_ROOT=os.path.join(workdir, "upload"),
        FOOF_LOG_LEVEL="WARNING",
        FOOF_JWT_SECRET="bench-secret-" + "x" * 32,
        FOOF_SECRET_KEY="bench",
    )
    saved = os.path.join(workdir, "bench.json")
    if args.reuse:
        with open(saved) as fh:
            kept = json.load(fh)
        args.db = kept["db"]
        database = kept.get("database")
    else:
        database = f"foof_bench_{os.getpid()}" if args.db == "mysql" else None
        if database:
            create = f"CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            subprocess.run(["mysql", "-uroot", "-h127.0.0.1", "-e", create], check=True)
        for folder in ("avatar", "item"):
            os.makedirs(os.path.join(workdir, "media", folder))
            source = os.path.join(ROOT, "static", "image", folder, "default.jpg")
            shutil.copy(source, os.path.join(workdir, "media", folder))
        with open(saved, "w") as fh:
            json.dump({"db": args.db, "database": database}, fh)
    if database:
        scheme = "mysql" if args.driver == "auto" else f"mysql+{args.driver}"
        env["FOOF_DATABASE_URL"] = f"{scheme}://root@127.0.0.1:3306/{database}?charset=utf8mb4"
    return env, database


def driver_of(env):
    """The DB-API module the service's URL resolves to (the dialect's driver name)."""
    code = (
        "from sqlalchemy.engine import make_url; from foof import create_app\n"
        "app = create_app()\n"
        "d = make_url(app.config['SQLALCHEMY_DATABASE_URI']).get_dialect()\n"
        "print(d.driver)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "mysql"], default="sqlite")
    parser.add_argument("--driver", choices=["auto", "mysqldb", "pymysql"], default="auto")
    parser.add_argument("--seconds", type=int, default=5, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="ceiling/route pairs per route (median kept)")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--items", type=int, default=100000)
    parser.add_argument("--messages", type=int, default=200000)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--only", default="", help="comma-separated words: routes whose name holds one, 'mixed'")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the service (repeatable)")
    parser.add_argument("--threads", type=int, default=8, help="the service's waitress threads")
    parser.add_argument("--keep", action="store_true", help="keep the seeded folder and database")
    parser.add_argument("--reuse", metavar="FOLDER", help="a folder kept by --keep: no seeding, nothing dropped")
    parser.add_argument("--no-direct", action="store_true", help="skip the in-process (no HTTP) figures")
    args = parser.parse_args()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    drive = run_wrk if use_wrk else run_python
    wanted = [word.strip().lower() for word in args.only.split(",") if word.strip()]

    workdir = args.reuse or tempfile.mkdtemp(prefix="foof-bench-")
    env, database = prepare(args, workdir)
    servers = []
    try:
        seeded = None
        if not args.reuse:
            print(f"seeding {args.users} users, {args.items} items, {args.messages} messages on {args.db} ...")
            seeded = seed(env, args.users, args.items, args.messages)
        aim = fixtures(env)
        driver = driver_of(env)
        port, ceiling_port = free_port(), free_port()
        service_env = dict(env, FOOF_HOST="127.0.0.1", FOOF_PORT=str(port), FOOF_THREADS=str(args.threads))
        for setting in args.env:
            key, _, value = setting.partition("=")
            service_env[key] = value
        service = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "wsgi.py")],
            cwd=ROOT,
            env=service_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ceiling = subprocess.Popen(
            [sys.executable, "-c", CEILING_APP, str(ceiling_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        servers = [service, ceiling]
        OWN_PIDS[:] = [service.pid, ceiling.pid] + ([database_pid()] if database else [])
        OWN_PIDS[:] = [pid for pid in OWN_PIDS if pid]
        wait_port(port, service)
        wait_port(ceiling_port, ceiling)
        loads = routes_for(aim)
        settings = " ".join(args.env) or "default settings"
        print(
            f"\nFOOF HTTP benchmark: {args.db} (driver {driver}), {settings}; {args.users} users / {args.items} items / "
            f"{args.messages} messages{'' if seeded is None else f' (seeded in {seeded:.0f} s)'}; waitress "
            f"{args.threads} threads, {CONNECTIONS} connections, client {'wrk' if use_wrk else 'python'}; per route "
            f"{args.rounds} rounds of {args.seconds} s on the ceiling (bare waitress, fixed JSON) then {args.seconds} s "
            f"on the route, median round shown; /fav/query lists {aim['favourites']} favourites"
        )
        print(f"{'service idle RSS':26} {proc_status_mb(service.pid, 'VmRSS'):7.0f} MB at start", flush=True)
        steal_before = cpu_counters()
        verdicts = {}
        for name, load in loads.items():
            if wanted and not any(word in name.lower() for word in wanted):
                continue
            verdicts[name] = measure_route(name, load, args, drive, port, ceiling_port, service)
        if use_wrk and (not wanted or "mixed" in wanted):
            verdicts["mixed"] = measure_mixed(loads, args, port, service)
        shares = steal_since(steal_before)
        if shares is not None:
            print(
                f"{'CPU of the run':26} stolen by the host {shares[0]:.1%}, used by other processes on this machine "
                f"{shares[1]:.1%} (figures drift with both)"
            )
        peak_total = proc_status_mb(service.pid, "VmHWM")
        print(
            f"{'service RSS at the end':26} {proc_status_mb(service.pid, 'VmRSS'):7.0f} MB (peak of the last period {peak_total:.0f} MB)"
        )
        if not args.no_direct:
            print(
                "without HTTP: the same answers computed in one process, the service's own work (database read\n"
                "and rendering), as a bound on what any server in front could reach:"
            )
            for name, load in loads.items():
                if load["kind"] == "hot" and (not wanted or any(word in name.lower() for word in wanted)):
                    body = (load.get("bodies") or [""])[0]
                    direct = in_process(env, load["method"], load["path"], body, args.seconds)
                    print(f"{name:26} {direct['one']:7.0f} /s from 1 thread, {direct['eight']:7.0f} /s from 8 threads")
        judged = [ok for ok in verdicts.values() if ok is not None]
        print(f"targets met: {sum(judged)} of {len(judged)}")
    finally:
        for proc in servers:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep or args.reuse:
            if not args.reuse:
                print(f"kept: --reuse {workdir}" + (f" (database {database})" if database else ""))
        else:
            if database:
                subprocess.run(["mysql", "-uroot", "-h127.0.0.1", "-e", f"DROP DATABASE IF EXISTS {database}"])
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
