"""Search benchmark: build time, index size, memory and query latency of the embedded search.

Run by hand (it prints numbers; it is not a test)::

    .venv/bin/python bench/search.py                  # 100,000 listings, 1,000 queries
    .venv/bin/python bench/search.py --items 20000 --queries 500
    .venv/bin/python bench/search.py --profile        # also cProfile the slowest query
    .venv/bin/python bench/search.py --profile 小米充电宝

What it does, all in a throw-away instance under the system temp dir (its own SQLite file and
index directory; nothing is written into the repository, and the directory is removed at exit):

1. creates the schema, bulk-inserts users and N listings from ``foof.demo.listings`` (the
   generator ``flask --app foof seed-demo`` uses), then builds the index with the real
   ``WhooshBackend.rebuild()``: build seconds, index size on disk, peak RSS;
2. runs a fixed, seeded mix of Q realistic queries through ``foof.domain.search.find`` (the
   whole request path: validation, analysis, search, ES-shaped answer) after an untimed
   warm-up pass: p50/p95/p99/max latency;
3. builds a naive baseline from the same rows: jieba's stock Whoosh ``ChineseAnalyzer`` on
   title and note (both stored), default Whoosh settings, one OR query over both fields from
   ``MultifieldParser``, ``searcher.search(q, limit=10)`` plus ``len(results)`` (the legacy
   response carries the total);
4. prints the targets (build <= 60 s at 100k items, scaled linearly for other sizes;
   p95 <= 20 ms; p99 <= 50 ms) with PASS/MISS.

Progress goes to stderr, results to stdout.
"""

import os
import sys

# ``python bench/search.py`` puts bench/ first on sys.path, where bench/http.py would shadow the
# stdlib's http package (Flask and Werkzeug import it): drop that folder, add the project root.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from importlib import metadata  # noqa: E402

# Narrowly silence the third-party noise (deprecations, unclosed files, invalid escapes at
# compile time) raised from jieba or whoosh modules; everything else still warns.
_NOISY = r"(.*[\\/])?(jieba|whoosh)([\\/.]|$)"
for _category in (DeprecationWarning, PendingDeprecationWarning, SyntaxWarning, ResourceWarning, UserWarning):
    warnings.filterwarnings("ignore", category=_category, module=_NOISY)
# jieba < 0.43 imports pkg_resources, whose deprecation warning is attributed to the importer.
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated", category=UserWarning)

import jieba  # noqa: E402
from jieba.analyse import ChineseAnalyzer  # noqa: E402

jieba.setLogLevel(logging.WARNING)  # "Building prefix dict ...", "Loading model cost ..."

from flask import current_app  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402
from whoosh.fields import ID, TEXT, Schema  # noqa: E402
from whoosh.qparser import MultifieldParser, OrGroup  # noqa: E402

from foof import create_app, demo  # noqa: E402
from foof.cli import create_schema  # noqa: E402
from foof.domain.search import find  # noqa: E402
from foof.extensions import db  # noqa: E402
from foof.models import Item, User  # noqa: E402
from foof.seed import batches  # noqa: E402

BUILD_TARGET_S_PER_100K = 60.0
P95_TARGET_MS = 20.0
P99_TARGET_MS = 50.0
INSERT_BATCH = 5000
READ_BATCH = 2000
MIX_SEED = 20240601
ON_SALE = (1, -1)

#: The query mix: (group, weight of each query in the group, queries). Weights roughly follow
#: what a campus market sees: short brand/product words dominate, rare queries are few.
QUERY_GROUPS = [
    (
        "brand",
        3,
        [
            "小米",
            "华为",
            "Apple",
            "apple",
            "罗技",
            "联想",
            "索尼",
            "耐克",
            "优衣库",
            "捷安特",
            "戴森",
            "宜家",
            "李宁",
            "尤尼克斯",
            "Kindle",
            "美的",
            "飞利浦",
            "阿迪达斯",
        ],
    ),
    (
        "product",
        3,
        [
            "充电宝",
            "蓝牙耳机",
            "自行车",
            "电动车",
            "羽毛球拍",
            "显示器",
            "台灯",
            "吹风机",
            "机械键盘",
            "鼠标",
            "行李箱",
            "篮球",
            "吉他",
            "瑜伽垫",
            "笔记本电脑",
            "手机",
            "平板电脑",
            "电热水壶",
            "收纳箱",
            "保温杯",
            "耳机",
            "键盘",
            "书架",
            "床垫",
        ],
    ),
    (
        "category",
        2,
        ["数码", "电子产品", "衣服", "书", "教材", "化妆品", "运动", "家电", "门票", "生活用品", "交通工具"],
    ),
    ("condition", 2, ["九成新", "全新", "八成新", "闲置", "低价转让", "几乎全新", "毕业清仓"]),
    (
        "mixed",
        2,
        [
            "iPhone 13",
            "iphone13",
            "iPhone",
            "iPad",
            "AirPods",
            "MacBook Air",
            "PS5手柄",
            "G304",
            "ipad air",
            "C语言",
            "Kindle Paperwhite",
            "iPhone 12 九成新",
        ],
    ),
    (
        "two-word",
        3,
        [
            "二手自行车",
            "考研资料",
            "罗技鼠标",
            "小米充电宝",
            "华为手机",
            "联想笔记本",
            "降噪耳机",
            "考研数学",
            "英语四级",
            "雅思真题",
            "电动车电池",
            "山地自行车",
            "宿舍小冰箱",
            "索尼相机",
            "耐克运动鞋",
            "无线鼠标",
            "戴森吹风机",
            "优衣库羽绒服",
        ],
    ),
    (
        "long",
        1,
        [
            "求购二手自行车 东门自提",
            "毕业清仓 低价转让 显示器",
            "九成新 iPhone 13 可小刀",
            "小米蓝牙耳机 九龙湖校区 面交",
            "考研政治肖四肖八 便宜出",
        ],
    ),
    (
        "rare/none",
        1,
        [
            "单反相机镜头",
            "二手钢琴",
            "显卡 3080",
            "无人机",
            "天文望远镜",
            "Switch游戏卡",
            "xyzzy",
            "量子力学",
            "萨克斯",
            "汉服",
            "Nintendo",
            "机械表",
        ],
    ),
]


# -- small helpers -----------------------------------------------------------------------------
class Progress:
    """A percentage on stderr: redrawn in place on a terminal, one line per 10% otherwise."""

    def __init__(self, label, total):
        self.label, self.total, self.done = label, max(1, total), 0
        self.tty = sys.stderr.isatty()
        self.shown = -1
        self.started = time.perf_counter()
        self._show()

    def update(self, n=1):
        self.done += n
        self._show()

    def _show(self):
        pct = min(100, int(self.done * 100 / self.total))
        step = pct if self.tty else pct // 10 * 10
        if step == self.shown:
            return
        self.shown = step
        elapsed = time.perf_counter() - self.started
        text = f"{self.label}: {step:3d}% ({self.done:,}/{self.total:,}, {elapsed:.0f} s)"
        if self.tty:
            sys.stderr.write("\r" + text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self):
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def disk_mb(path):
    """Disk usage of ``path`` like ``du -s`` (allocated blocks), in MB."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            st = os.stat(os.path.join(folder, name))
            total += st.st_blocks * 512
    return total / 1e6


def reset_peak_rss():
    """Reset the kernel's high-water mark (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def rss_mb(field="VmRSS"):
    """Current (``VmRSS``) or peak (``VmHWM``) resident set size in MB; None if unknown."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb():
    """The process's peak RSS (since the last reset, where resets work)."""
    peak = rss_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def latency_summary(times_ms):
    ordered = sorted(times_ms)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def verdict(ok):
    return "PASS" if ok else "MISS"


def version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def load_average():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def code_fingerprint():
    """A short hash of foof/search/*.py, to tell which version of the search code was measured."""
    folder = os.path.join(os.path.dirname(_HERE), "foof", "search")
    digest = hashlib.sha1()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as fh:
                digest.update(name.encode() + b"\0" + fh.read())
    return digest.hexdigest()[:12]


def query_mix(count, seed=MIX_SEED):
    """``count`` (group, query) pairs, the same for a given count and seed."""
    pool = [(group, query) for group, _, queries in QUERY_GROUPS for query in queries]
    weights = [weight for _, weight, queries in QUERY_GROUPS for _ in queries]
    return random.Random(seed).choices(pool, weights=weights, k=count)


# -- phases ------------------------------------------------------------------------------------
def make_app(workdir):
    return create_app(
        {
            "FOOF_INSTANCE_PATH": workdir,
            "FOOF_DATABASE_URL": "sqlite:///" + os.path.join(workdir, "bench.db"),
            "FOOF_SEARCH_INDEX": os.path.join(workdir, "index"),
            "FOOF_MEDIA_ROOT": os.path.join(workdir, "media"),
            "FOOF_SECRET_KEY": "bench",
            "FOOF_JWT_SECRET": "bench-jwt-secret-not-for-production-use-x",
            "FOOF_LOG_LEVEL": "WARNING",
        }
    )


def insert_rows(items, users, seed):
    user_rows = (
        {
            "password": "bench-not-a-hash",
            "username": demo.NAMES[n % len(demo.NAMES)] + str(n + 1),
            "phonenumber": str(13000000001 + n),
            "idcard": f"2131{n:05d}",
            "studentid": str(71120000 + n),
            "address": demo.PLACES[n % len(demo.PLACES)],
            "avatarurl": "image/avatar/default.jpg",
            "verified": int(n % 3 == 0),
            "score": 5 + n % 96,
            "info": "这个人很懒，什么也没有留下",
        }
        for n in range(users)
    )
    for batch in batches(user_rows, INSERT_BATCH):
        db.session.execute(insert(User), batch)
    db.session.commit()
    # Fresh database: the users are uuids 1..users, which is what demo.listings draws from.
    bar = Progress("inserting listings", items)
    for batch in batches(demo.listings(items, users, seed), INSERT_BATCH):
        db.session.execute(insert(Item), batch)
        db.session.commit()
        bar.update(len(batch))
    bar.close()
    db.session.remove()


def build_ours(backend):
    totals = {
        "goods": db.session.execute(select(func.count()).select_from(Item).where(Item.sold.in_(ON_SALE))).scalar(),
        "users": db.session.execute(select(func.count()).select_from(User)).scalar(),
    }
    bar = Progress("building index (ours)", sum(totals.values()))
    before = rss_mb()
    reset = reset_peak_rss()
    started = time.perf_counter()
    counts = backend.rebuild(lambda kind, n: bar.update(n))
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    bar.close()
    path = backend.current_dir()
    sizes = {kind: disk_mb_of_index(path, kind) for kind in ("goods", "users")}
    return {
        "seconds": seconds,
        "counts": counts,
        "path": path,
        "size": disk_mb(path),
        "sizes": sizes,
        "peak": peak,
        "peak_reset": reset,
        "before": before,
    }


def disk_mb_of_index(path, indexname):
    """Disk usage of one named Whoosh index inside a shared directory."""
    total = 0
    for name in os.listdir(path):
        if name.startswith(f"_{indexname}_") or name.startswith(f"{indexname}_"):
            total += os.stat(os.path.join(path, name)).st_blocks * 512
    return total / 1e6


def run_ours(mix):
    """Timed latencies of the mix, totals per query, and the first-call latencies of the warm-up."""
    distinct = list(dict.fromkeys(query for _, query in mix))
    find("good", "", 0, 10)  # opens the searcher (an empty query still asks the backend)
    first = []
    for query in distinct:  # warm-up: first call of each distinct query (dictionaries, caches)
        started = time.perf_counter()
        find("good", query, 0, 10)
        first.append((time.perf_counter() - started) * 1000)
    # The timed pass searches every query: the answer cache (which would answer repeats in
    # microseconds) is off; per-term document sets stay cached as on a live server.
    backend = current_app.extensions["foof.search"]
    backend.cache_answers = False
    times, totals = [], {}
    bar = Progress("querying (ours)", len(mix))
    for _, query in mix:
        started = time.perf_counter()
        answer = find("good", query, 0, 10)
        times.append((time.perf_counter() - started) * 1000)
        totals[query] = answer["hits"]["total"]
        bar.update()
    bar.close()
    backend.cache_answers = True
    return times, totals, first


def baseline_schema():
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=ChineseAnalyzer()),
        note=TEXT(stored=True, analyzer=ChineseAnalyzer()),
    )


def build_baseline(path, total):
    """The same rows the real rebuild indexes (items on sale), read in key order in batches."""
    os.makedirs(path)
    jieba.initialize()  # jieba's one-off dictionary load is not part of the build
    bar = Progress("building index (baseline)", total)
    before = rss_mb()
    reset = reset_peak_rss()
    started = time.perf_counter()
    ix = whoosh_index.create_in(path, baseline_schema())
    writer = ix.writer()
    stmt = select(Item.itemid, Item.title, Item.note).where(Item.sold.in_(ON_SALE)).order_by(Item.itemid)
    last = None
    while True:
        page = stmt.limit(READ_BATCH) if last is None else stmt.where(Item.itemid > last).limit(READ_BATCH)
        rows = db.session.execute(page).all()
        if not rows:
            break
        for itemid, title, note in rows:
            writer.add_document(id=str(itemid), title=title, note=note)
        last = rows[-1][0]
        bar.update(len(rows))
    writer.commit()
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    bar.close()
    db.session.remove()
    return ix, {"seconds": seconds, "size": disk_mb(path), "peak": peak, "peak_reset": reset, "before": before}


def run_baseline(ix, mix):
    parser = MultifieldParser(["title", "note"], ix.schema, group=OrGroup)
    searcher = ix.searcher()

    def one(query):
        results = searcher.search(parser.parse(query), limit=10)
        total = len(results)
        hits = [hit.fields() for hit in results]
        return total, hits

    try:
        distinct = list(dict.fromkeys(query for _, query in mix))
        for query in distinct:
            one(query)
        times, totals = [], {}
        bar = Progress("querying (baseline)", len(mix))
        for _, query in mix:
            started = time.perf_counter()
            total, _ = one(query)
            times.append((time.perf_counter() - started) * 1000)
            totals[query] = total
            bar.update()
        bar.close()
    finally:
        searcher.close()
    return times, totals


def profile_query(query, repeat=50, top=25):
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    find("good", query, 0, 10)
    profiler.enable()
    for _ in range(repeat):
        find("good", query, 0, 10)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- report ------------------------------------------------------------------------------------
def fmt_rss(result):
    if not result["peak_reset"]:
        return f"{result['peak']:.0f} MB (process peak so far; could not reset the high-water mark)"
    before = "" if result["before"] is None else f", RSS {result['before']:.0f} MB when it started"
    return f"{result['peak']:.0f} MB (peak during the build{before})"


def fmt_lat(summary):
    return " / ".join(f"{summary[k]:.2f}" for k in ("p50", "p95", "p99", "max")) + " ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="listings to index (default 100000)")
    parser.add_argument("--queries", type=int, default=1000, help="queries in the timed mix (default 1000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of foof.demo.listings (default 7)")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="",
        default=None,
        metavar="QUERY",
        help="also cProfile QUERY (default: the slowest query of the mix) and print the top functions",
    )
    args = parser.parse_args(argv)
    if args.items < 1 or args.queries < 1:
        parser.error("--items and --queries must be positive")

    users = max(50, args.items // 100)
    build_target = BUILD_TARGET_S_PER_100K * args.items / 100_000
    workdir = tempfile.mkdtemp(prefix="foof-bench-")
    app = make_app(workdir)
    print(
        f"FOOF search benchmark: {args.items:,} listings, {users:,} users, {args.queries:,} queries "
        f"(data seed {args.seed}, mix seed {MIX_SEED})"
    )
    print(
        f"python {platform.python_version()}, whoosh3 {version('whoosh3')}, rjieba {version('rjieba')}, "
        f"jieba {version('jieba')}, SQLAlchemy {version('SQLAlchemy')}, {os.cpu_count()} CPUs"
    )
    print(f"foof/search code fingerprint {code_fingerprint()} (changes whenever foof/search/*.py does)")
    print(
        f"throw-away instance: {workdir} (removed at exit); load average {load_average()} "
        f"(other work on the machine skews every figure)"
    )
    try:
        with app.app_context():
            backend = app.extensions["foof.search"]
            create_schema()
            started = time.perf_counter()
            insert_rows(args.items, users, args.seed)
            seconds = time.perf_counter() - started
            print()
            print(
                f"data: inserted {users:,} users + {args.items:,} listings in {seconds:.1f} s "
                f"({args.items / seconds:,.0f} rows/s, batches of {INSERT_BATCH})"
            )

            ours = build_ours(backend)
            on_sale = ours["counts"]["goods"]
            print()
            print("ours: WhooshBackend.rebuild() (rjieba analyzer; goods + users indexes)")
            print(f"  documents          goods {ours['counts']['goods']:,}, users {ours['counts']['users']:,}")
            print(
                f"  build              {ours['seconds']:.1f} s ({on_sale / ours['seconds']:,.0f} docs/s)   "
                f"target <= {build_target:.1f} s: {verdict(ours['seconds'] <= build_target)}"
            )
            print(
                f"  index size         {ours['size']:.1f} MB (goods {ours['sizes']['goods']:.1f} MB, "
                f"users {ours['sizes']['users']:.1f} MB)"
            )
            print(f"  peak RSS           {fmt_rss(ours)}")

            mix = query_mix(args.queries)
            counts = {}
            for group, _ in mix:
                counts[group] = counts.get(group, 0) + 1
            distinct = len({query for _, query in mix})
            print()
            print(
                f"query mix: {len(mix):,} queries, {distinct} distinct: "
                + ", ".join(f"{group} {counts.get(group, 0)}" for group, _, _ in QUERY_GROUPS)
            )

            our_times, our_totals, first = run_ours(mix)
            our_lat = latency_summary(our_times)
            first_lat = latency_summary(first)
            print()
            print('ours: foof.domain.search.find("good", q, 0, 10), answer cache off, 1 thread')
            print(f"  p50 / p95 / p99 / max   {fmt_lat(our_lat)}   (mean {our_lat['mean']:.2f} ms)")
            print(
                f"  targets                 p95 <= {P95_TARGET_MS:.0f} ms: {verdict(our_lat['p95'] <= P95_TARGET_MS)}, "
                f"p99 <= {P99_TARGET_MS:.0f} ms: {verdict(our_lat['p99'] <= P99_TARGET_MS)}"
            )
            print(
                f"  warm-up, first call of each distinct query (not in the figures above): "
                f"p50 {first_lat['p50']:.2f}, p95 {first_lat['p95']:.2f}, max {first_lat['max']:.2f} ms"
            )
            by_group = {}
            for (group, _), ms in zip(mix, our_times):
                by_group.setdefault(group, []).append(ms)
            for group, _, _ in QUERY_GROUPS:
                if group in by_group:
                    lat = latency_summary(by_group[group])
                    print(
                        f"    {group:<10} n={len(by_group[group]):<4} p50 {lat['p50']:6.2f}  "
                        f"p95 {lat['p95']:6.2f}  max {lat['max']:6.2f} ms"
                    )
            per_query = {}
            for (_, query), ms in zip(mix, our_times):
                per_query.setdefault(query, []).append(ms)
            slowest = sorted(per_query, key=lambda q: statistics.median(per_query[q]), reverse=True)[:5]
            print(
                "  slowest queries (median ms, total hits): "
                + "; ".join(f"{q} {statistics.median(per_query[q]):.1f} ({our_totals[q]:,})" for q in slowest)
            )

            base_ix, base = build_baseline(os.path.join(workdir, "baseline"), on_sale)
            base_times, base_totals = run_baseline(base_ix, mix)
            base_lat = latency_summary(base_times)
            print()
            print("baseline: jieba ChineseAnalyzer, default Whoosh, MultifieldParser OR, search(limit=10) + len()")
            print(f"  build              {base['seconds']:.1f} s ({on_sale / base['seconds']:,.0f} docs/s; goods only)")
            print(f"  index size         {base['size']:.1f} MB")
            print(f"  peak RSS           {fmt_rss(base)}")
            print(f"  p50 / p95 / p99 / max   {fmt_lat(base_lat)}   (mean {base_lat['mean']:.2f} ms)")
            mean_ours = statistics.fmean(our_totals[q] for _, q in mix)
            mean_base = statistics.fmean(base_totals[q] for _, q in mix)
            print(f"  mean total hits per query: ours {mean_ours:,.0f}, baseline {mean_base:,.0f}")

            print()
            print("ratios (baseline / ours; > 1 means ours is faster)")
            print(f"  build time         {base['seconds'] / ours['seconds']:.2f}x")
            print(f"  p95 latency        {base_lat['p95'] / our_lat['p95']:.2f}x")

            print()
            print(f"load average at the end: {load_average()}")
            print()
            scaled = "" if args.items == 100_000 else f" (60 s at 100k, scaled to {args.items:,})"
            print("targets (ours)")
            print(
                f"  build <= {build_target:.1f} s{scaled}: {ours['seconds']:.1f} s   "
                f"{verdict(ours['seconds'] <= build_target)}"
            )
            print(
                f"  p95 <= {P95_TARGET_MS:.0f} ms: {our_lat['p95']:.2f} ms   {verdict(our_lat['p95'] <= P95_TARGET_MS)}"
            )
            print(
                f"  p99 <= {P99_TARGET_MS:.0f} ms: {our_lat['p99']:.2f} ms   {verdict(our_lat['p99'] <= P99_TARGET_MS)}"
            )
            sys.stdout.flush()

            if args.profile is not None:
                query = args.profile or slowest[0]
                print()
                print(f"profile: {query!r}, 50 warm calls of find(), cProfile")
                print(profile_query(query))
            close = getattr(backend, "close", None)
            if close:
                close()
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
