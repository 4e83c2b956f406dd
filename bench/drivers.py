"""MySQL/MariaDB driver comparison: primary-key reads of ``items`` on raw DB-API cursors.

    .venv/bin/python bench/drivers.py --database foof_bench [--threads 1,8] [--seconds 5]
                                      [--host 127.0.0.1] [--port 3306] [--user root]

Each candidate driver that imports runs ``threads`` threads, each with its own connection,
each reading one random row of ``items`` by primary key (all columns, like
``GET /item/<id>``) for a fixed time. Printed: reads/s, the client's CPU time per read
(the process's user+system time over the reads: what the driver costs the service's
CPU, shared with the server on one machine) and the CPU stolen by the host. No SQLAlchemy,
no HTTP: the driver and the round trip only. The database must hold a seeded ``items``
table (``flask seed-demo`` or ``bench/http.py --keep``); nothing is written.

Candidates: PyMySQL (pure Python), mysqlclient (``MySQLdb``, C over libmariadb; the
``mysqlclient-static`` wheel needs no system package), mysql-connector-python with its C
extension, text protocol and server-side prepared statements (binary protocol), and
without it (pure Python). A driver that does not import is reported as absent.
"""

import argparse
import os
import random
import threading
import time


def steal_counters():
    try:
        with open("/proc/stat") as fh:
            return [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def steal_share(before):
    after = steal_counters()
    if before is None or after is None:
        return None
    spent = [now - then for now, then in zip(after, before)]
    return spent[7] / sum(spent) if len(spent) > 7 and sum(spent) else None


SQL_FORMAT = (
    "SELECT itemid, uuid, title, type, price, imgurl, depreciatione, note, sold, `to` FROM items WHERE itemid = %s"
)
SQL_QMARK = SQL_FORMAT.replace("%s", "?")


def candidates(args):
    """name -> (connect(), read(connection, id) -> row)."""
    found = {}
    common = {"host": args.host, "port": args.port, "user": args.user}

    try:
        import pymysql

        def connect_pymysql():
            return pymysql.connect(database=args.database, charset="utf8mb4", autocommit=True, **common)

        found["PyMySQL " + pymysql.__version__] = (connect_pymysql, _read_text)
    except ImportError:
        found["PyMySQL"] = None

    try:
        import MySQLdb

        def connect_mysqldb():
            return MySQLdb.connect(db=args.database, charset="utf8mb4", autocommit=True, **common)

        version = ".".join(str(part) for part in MySQLdb.version_info[:3])
        found["mysqlclient " + version] = (connect_mysqldb, _read_text)
    except ImportError:
        found["mysqlclient"] = None

    try:
        import mysql.connector

        version = mysql.connector.__version__

        def connector(use_pure):
            def connect():
                return mysql.connector.connect(
                    database=args.database, charset="utf8mb4", autocommit=True, use_pure=use_pure, **common
                )

            return connect

        if getattr(mysql.connector, "HAVE_CEXT", False):
            found[f"mysql-connector {version} C, text"] = (connector(False), _read_text)
            found[f"mysql-connector {version} C, prepared"] = (connector(False), _read_prepared)
        else:
            found[f"mysql-connector {version} C"] = None
        found[f"mysql-connector {version} pure"] = (connector(True), _read_text)
    except ImportError:
        found["mysql-connector-python"] = None
    return found


def _read_text(connection, itemid, state):
    cursor = state.get("cursor")
    if cursor is None:
        cursor = state["cursor"] = connection.cursor()
    cursor.execute(SQL_FORMAT, (itemid,))
    return cursor.fetchone()


def _read_prepared(connection, itemid, state):
    cursor = state.get("cursor")
    if cursor is None:
        cursor = state["cursor"] = connection.cursor(prepared=True)
    cursor.execute(SQL_QMARK, (itemid,))
    return cursor.fetchone()


def measure(connect, read, threads, seconds, top):
    connections = [connect() for _ in range(threads)]
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def work(slot):
        rng, state, connection = random.Random(slot), {}, connections[slot]
        read(connection, 1, state)
        start.wait()
        done = 0
        while time.monotonic() < stop_at[0]:
            if read(connection, rng.randint(1, top), state) is None:
                raise SystemExit("a read found no row: is items seeded?")
            done += 1
        counts[slot] = done

    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    stop_at[0] = time.monotonic() + seconds + 0.05
    cpu0, wall0 = time.process_time(), time.monotonic()
    start.wait()
    for worker in workers:
        worker.join()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    for connection in connections:
        connection.close()
    reads = sum(counts)
    return reads / wall, cpu / reads * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--threads", default="1,8")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole comparison")
    args = parser.parse_args()
    thread_counts = [int(n) for n in args.threads.split(",")]
    found = candidates(args)
    for name, entry in found.items():
        if entry is None:
            print(f"{name:42} not importable here")
    usable = {name: entry for name, entry in found.items() if entry is not None}
    probe = next(iter(usable.values()))[0]()
    cursor = probe.cursor()
    cursor.execute("SELECT MAX(itemid) FROM items")
    top = cursor.fetchone()[0]
    probe.close()
    print(f"{top} items; {args.seconds:g} s per measurement; pid {os.getpid()}")
    before = steal_counters()
    for round_number in range(args.rounds):
        for threads in thread_counts:
            for name, (connect, read) in usable.items():
                rate, cpu_us = measure(connect, read, threads, args.seconds, top)
                print(
                    f"round {round_number + 1} {name:40} {threads} thread(s): {rate:7.0f} reads/s, "
                    f"{cpu_us:5.0f} µs client CPU per read"
                )
    stolen = steal_share(before)
    if stolen is not None:
        print(f"CPU stolen by the host during the run: {stolen:.1%}")


if __name__ == "__main__":
    main()
