"""The embedded search backend: two Whoosh indexes in ``FOOF_SEARCH_INDEX``.

Layout: ``<root>/CURRENT`` names the live generation directory (``gen-…``), which holds the
``goods`` and ``users`` indexes. ``reindex`` builds a new generation from the database and
swaps ``CURRENT`` atomically (write + rename), so searches never see a half-built index.

Writes: request threads only *enqueue* the id of a row that changed (after its commit). One
writer thread per process drains the queue in batches, re-reads each row from the database
and updates or deletes its document, then commits once per batch. Because the row is read
at apply time, a late batch can never write stale text, and no request ever waits for, or
fails on, Whoosh's write lock. Several server processes each have a writer thread; they
take turns on the lock (the writer retries until it gets it), so no update is lost.

Reads: each thread keeps its searchers and refreshes them when the index changed.
"""

from __future__ import annotations

import heapq
import logging
import os
import queue
import secrets
import shutil
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import select
from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, Index, LockError
from whoosh.query import And, AndMaybe, Or, Query, Term
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from foof.extensions import db
from foof.models import Item, User
from foof.search.analyzer import chinese_analyzer, query_terms
from foof.search.backend import Hit, SearchBackend

log = logging.getLogger(__name__)

_T = TypeVar("_T")
#: The version of an index that cached answers belong to: (generation dir, kind, commit).
Version = tuple[Any, ...]
#: A document's stored fields → the ``_source`` a hit shows.
Source = Callable[[Mapping[str, Any]], dict[str, Any]]

ON_SALE = (1, -1)
TITLE_BOOST = 3.0
#: A listing that matches every word of a multi-word query gets this much again on top of
#: its score (an ``And`` of the words beside their ``Or``). Without it one word in a title
#: outranked all the words in a note: for ``考研数学`` a ``求购考研408资料`` came before
#: ``张宇高数18讲 — 考研数学用书``.
ALL_WORDS_BOOST = 1.0
#: ... but only over the rarest words whose postings add up to at most this many: the bonus
#: reads those postings a second time, and words as common as 全新 or 二手 say little about
#: relevance anyway. Keeps a query like 几乎全新 at 100k listings as fast as without it.
ALL_WORDS_MAX_POSTINGS = 1000
#: The head noun of a rare compound word is looked for too (蓝牙耳机 → 耳机), but only while
#: the word itself and its equal names match fewer than this many listings: with enough
#: listings of the exact thing the broader word only costs time (its postings are long).
HEAD_BELOW = 50
BATCH = 500
IDLE_SEARCHERS = 2
COMMON_MIN = 1000
COMMON_RATIO = 0.02
RESULTS = 2048
TERM_SETS = 256


def goods_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=chinese_analyzer(), stored=True, field_boost=TITLE_BOOST),
        note=TEXT(analyzer=chinese_analyzer(), stored=True),
        # Stored only: never searched, and NUMERIC would index each value at many
        # precisions (two thirds of all postings written at 100k listings).
        price=STORED(),
        type=STORED(),
        sold=STORED(),
    )


def users_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        username=TEXT(analyzer=chinese_analyzer(), stored=True, field_boost=2.0),
        info=TEXT(analyzer=chinese_analyzer(), stored=True),
        address=TEXT(analyzer=chinese_analyzer(), stored=True),
        score=STORED(),
    )


SCHEMAS = {"goods": goods_schema, "users": users_schema}
FIELDS = {"goods": ("title", "note"), "users": ("username", "info", "address")}
BOOSTS = {"title": TITLE_BOOST, "username": 2.0}


def goods_doc(item: Item) -> dict[str, Any]:
    return {
        "id": str(item.itemid),
        "title": item.title,
        "note": item.note,
        "price": float(item.price),
        "type": int(item.type),
        "sold": int(item.sold),
    }


def users_doc(user: User) -> dict[str, Any]:
    return {
        "id": str(user.uuid),
        "username": user.username,
        "info": user.info or "",
        "address": user.address,
        "score": int(user.score),
    }


def goods_source(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"note": fields.get("note", ""), "price": fields.get("price"), "title": fields.get("title", "")}


def users_source(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "username": fields.get("username", ""),
        "info": fields.get("info", ""),
        "address": fields.get("address", ""),
        "score": fields.get("score"),
    }


SOURCES: dict[str, Source] = {"goods": goods_source, "users": users_source}


def _load(kind: str, keys: Sequence[int]) -> dict[int, dict[str, Any] | None]:
    """Current documents for ``keys``: ``{key: doc or None}`` (None = not indexable)."""
    if kind == "goods":
        rows = db.session.execute(select(Item).where(Item.itemid.in_(keys))).scalars()
        found = {row.itemid: goods_doc(row) for row in rows if row.sold in ON_SALE}
    else:
        rows = db.session.execute(select(User).where(User.uuid.in_(keys))).scalars()
        found = {row.uuid: users_doc(row) for row in rows}
    return {key: found.get(key) for key in keys}


def _os_random_name(size: int = 28) -> str:
    return "".join(secrets.choice(_IDCHARS) for _ in range(size))


_IDCHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _use_os_random_names() -> None:
    """Whoosh names new segments with the global ``random`` module. Anything that seeds it
    (forked workers inheriting one state, a test framework) makes two segments share a name
    and the commit fails, losing the update; the OS generator cannot repeat like that."""
    import whoosh.codec.base
    import whoosh.filedb.compound
    import whoosh.filedb.filestore
    import whoosh.writing

    module: Any
    for module in (whoosh.codec.base, whoosh.filedb.compound, whoosh.filedb.filestore, whoosh.writing):
        module.random_name = _os_random_name


class WhooshBackend(SearchBackend):
    def __init__(self, app: Flask) -> None:
        _use_os_random_names()
        self.app = app
        root = app.config.get("FOOF_SEARCH_INDEX") or os.path.join(app.instance_path, "index")
        self.root = root
        self.queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(IDLE_SEARCHERS)
        self._idle: dict[str, list[tuple[str | None, Searcher]]] = {}
        # Answers and per-term document sets, valid while the index version is unchanged
        # (every commit makes a new version, so nothing stale is ever served).
        self._results: OrderedDict[Any, tuple[int, list[Hit]]] = OrderedDict()
        self.cache_answers = app.config.get("FOOF_SEARCH_CACHE", True)
        self._term_ids: OrderedDict[Any, array[int]] = OrderedDict()
        self._warned_missing = False

    # -- locations ---------------------------------------------------------------------
    def current_dir(self) -> str | None:
        try:
            with open(os.path.join(self.root, "CURRENT"), encoding="ascii") as fh:
                name = fh.read().strip()
        except FileNotFoundError:
            return None
        path = os.path.join(self.root, name)
        return path if name and os.path.isdir(path) else None

    def exists(self) -> bool:
        return self.current_dir() is not None

    def _open(self, kind: str, path: str | None = None) -> Index | None:
        path = path or self.current_dir()
        if path is None or not whoosh_index.exists_in(path, indexname=kind):
            return None
        # Without mmap: mapped index files count fully against the process's memory once
        # touched; plain reads keep only what a search needs.
        return FileStorage(path, supports_mmap=False).open_index(indexname=kind)

    # -- writing -----------------------------------------------------------------------
    def enqueue(self, kind: str, key: int) -> None:
        self.queue.put((kind, int(key)))
        self._ensure_writer()

    def _ensure_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._writer_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._drain_forever, name="foof-search-writer", daemon=True)
                self._writer.start()

    def flush(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 10) -> None:
        """Apply what is queued, then stop the writer thread (app shutdown, tests)."""
        if self._writer is not None and self._writer.is_alive():
            self.queue.put(None)
            self._writer.join(timeout)
        with self._pool_lock:
            pooled = [searcher for idle in self._idle.values() for _, searcher in idle]
            self._idle.clear()
        for searcher in pooled:
            searcher.close()

    def _drain_forever(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                self.queue.task_done()
                return
            batch = [first]
            stop = False
            while len(batch) < BATCH:
                try:
                    change = self.queue.get_nowait()
                except queue.Empty:
                    break
                if change is None:
                    self.queue.task_done()
                    stop = True
                    break
                batch.append(change)
            try:
                self._apply(batch)
            except Exception:
                log.exception("search index update failed for %d change(s); run 'flask --app foof reindex'", len(batch))
            finally:
                for _ in batch:
                    self.queue.task_done()
            if stop:
                return

    def _apply(self, batch: list[tuple[str, int]]) -> None:
        with self.app.app_context():
            for kind in ("goods", "users"):
                keys = sorted({key for k, key in batch if k == kind})
                if not keys:
                    continue
                writer = self._lock_writer(kind)
                if writer is None:
                    if not self._warned_missing:
                        log.warning("search index missing at %s: run 'flask --app foof reindex'", self.root)
                        self._warned_missing = True
                    continue
                try:
                    # The rows are read only once the index lock is held: of two processes
                    # updating the same listing (the server, and `disable-user` from the
                    # command line), the one that commits last has read the row last.
                    docs = _load(kind, keys)
                    db.session.remove()
                    for key, doc in docs.items():
                        if doc is None:
                            writer.delete_by_term("id", str(key))
                        else:
                            writer.update_document(**doc)
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()  # a failed commit releases the lock itself

    def _lock_writer(self, kind: str, patience: float = 600.0) -> IndexWriter | None:
        """A writer on the live generation's ``kind`` index (None when there is no index),
        waiting for another writer to finish if need be.

        A rebuild holds the live generation's locks from before it reads the first row until
        the new generation is live and the old one moved away, so a change is applied either
        before the rebuild reads it or, after the swap, to the new generation; never to a
        generation that is about to disappear (whose files vanishing mid-commit lost the
        change and left Whoosh's half-written segment file open)."""
        deadline = time.monotonic() + patience
        waited = False
        while True:
            path = self.current_dir()
            try:
                ix = None if path is None else self._open(kind, path)
                if ix is None:
                    if self.current_dir() != path:
                        continue  # swapped between the two reads
                    return None
                writer = ix.writer(timeout=1.0)
            except LockError:
                if time.monotonic() > deadline:
                    raise
                if not waited:
                    log.info("search index is locked by another writer or a rebuild; waiting")
                    waited = True
                continue
            except (FileNotFoundError, EmptyIndexError, OSError):
                # The generation was moved away under us (a rebuild swapped): open the new one.
                if self.current_dir() == path:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)  # not a swap: do not spin on a broken folder
                continue
            if self.current_dir() == path:
                return writer
            writer.cancel()  # a rebuild swapped generations while this writer waited

    # -- rebuilding --------------------------------------------------------------------
    def rebuild(self, progress: Callable[[str, int], object] | None = None, batch: int = 2000) -> dict[str, int]:
        """Build every index into a new generation and swap it in; ``{kind: count}``.

        The live generation's write locks are held throughout (see ``_lock_writer``): every
        writer, in this process or another, waits, then applies its changes to the new one."""
        os.makedirs(self.root, exist_ok=True)
        rebuilding = self._one_rebuild_at_a_time()
        try:
            held = self._hold_live_locks()
            try:
                # A fresh snapshot once the writers wait (MySQL's REPEATABLE READ would keep the
                # one a count before the locks began, missing what committed meanwhile).
                db.session.rollback()
                counts, old = self._build_and_swap(progress, batch)
                if old:
                    # Moved away while still locked: a waiting writer's next try finds no folder
                    # and opens the new generation (never a half-deleted one).
                    os.replace(old, os.path.join(self.root, "trash-" + os.path.basename(old)))
            finally:
                for lock in held:
                    lock.release()
            for leftover in os.listdir(self.root):  # this one's, and any a killed rebuild left
                if leftover.startswith("trash-"):
                    shutil.rmtree(os.path.join(self.root, leftover), ignore_errors=True)
        finally:
            rebuilding.release()
        return counts

    def _one_rebuild_at_a_time(self) -> Any:
        """The index folder's rebuild lock (another process's `reindex` finishes first)."""
        lock = FileStorage(self.root).lock("REBUILD")
        told = False
        while not lock.acquire():
            if not told:
                log.info("another rebuild of the search index is running; waiting for it")
                told = True
            time.sleep(0.2)
        return lock

    def _build_and_swap(
        self, progress: Callable[[str, int], object] | None, batch: int
    ) -> tuple[dict[str, int], str | None]:
        """A new generation filled from the database and made live: ``(counts, the folder of
        the one it replaced or None)``."""
        old = self.current_dir()
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        path = os.path.join(self.root, name)
        os.makedirs(path)
        counts: dict[str, int] = {}
        try:
            for kind in ("goods", "users"):
                ix = whoosh_index.create_in(path, SCHEMAS[kind](), indexname=kind)
                writer = ix.writer(limitmb=768)  # less spilling to disk while sorting postings
                counts[kind] = self._fill(kind, writer, progress, batch)
                writer.commit(optimize=True)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        pointer = os.path.join(self.root, "CURRENT")
        with open(pointer + ".tmp", "w", encoding="ascii") as fh:
            fh.write(name)
        os.replace(pointer + ".tmp", pointer)
        self._warned_missing = False
        return counts, old

    def _hold_live_locks(self, patience: float = 120.0) -> list[Any]:
        """The live generation's write locks (none when there is no index yet), taken once the
        writer that holds one has committed. Only a rebuild swaps the generation, and this
        runs under the rebuild lock, so the generation cannot change while it waits."""
        path = self.current_dir()
        if path is None:
            return []
        storage = FileStorage(path)
        deadline = time.monotonic() + patience
        held: list[Any] = []
        try:
            for kind in ("goods", "users"):
                lock = storage.lock(f"{kind}_WRITELOCK")
                while not lock.acquire():
                    if time.monotonic() > deadline:
                        raise LockError(
                            f"the search index at {path} stayed locked by another writer for {patience:.0f} s"
                        )
                    time.sleep(0.05)
                held.append(lock)
        except BaseException:
            for lock in held:
                lock.release()
            raise
        return held

    @staticmethod
    def _fill(kind: str, writer: IndexWriter, progress: Callable[[str, int], object] | None, batch: int) -> int:
        model: Any
        key: Any
        make: Callable[[Any], dict[str, Any]]
        model, key, make = (Item, Item.itemid, goods_doc) if kind == "goods" else (User, User.uuid, users_doc)
        stmt = select(model).order_by(key)
        if kind == "goods":
            stmt = stmt.where(Item.sold.in_(ON_SALE))
        count, last = 0, None
        while True:
            page = stmt.limit(batch) if last is None else stmt.where(key > last).limit(batch)
            rows = db.session.execute(page).scalars().all()
            if not rows:
                break
            for row in rows:
                writer.add_document(**make(row))
            count += len(rows)
            last = getattr(rows[-1], key.key)
            db.session.expunge_all()
            if progress:
                progress(kind, len(rows))
        return count

    # -- searching ---------------------------------------------------------------------
    def _borrow(self, kind: str) -> tuple[str | None, Searcher | None]:
        """A searcher of the live index from a small shared pool (None without an index).

        A few searchers serve every thread: a searcher per thread kept one copy of the
        index's mapped files per thread in memory. Searchers are replaced, not refreshed:
        ``Searcher.refresh()`` reuses the readers of unchanged segments and then misses
        deletions made in them (an updated document showed its old text).
        """
        current = self.current_dir()
        # At most IDLE_SEARCHERS searches run at once: each open searcher maps the index
        # files, and under the GIL more of them add memory, not speed.
        self._slots.acquire()
        with self._pool_lock:
            idle = self._idle.setdefault(kind, [])
            while idle:
                where, searcher = idle.pop()
                if where == current and searcher.up_to_date():
                    return where, searcher
                searcher.close()
        try:
            ix = self._open(kind)
            if ix is None:
                self._slots.release()
                if not self._warned_missing:
                    log.warning("search index missing at %s: run 'flask --app foof reindex'", self.root)
                    self._warned_missing = True
                return current, None
            return current, ix.searcher(weighting=scoring.BM25F())
        except BaseException:
            self._slots.release()
            raise

    def _give_back(self, kind: str, where: str | None, searcher: Searcher) -> None:
        try:
            with self._pool_lock:
                idle = self._idle.setdefault(kind, [])
                if len(idle) < IDLE_SEARCHERS:
                    idle.append((where, searcher))
                    return
            searcher.close()
        finally:
            self._slots.release()

    def _cached(self, cache: OrderedDict[Any, Any], key: Any, make: Callable[[], _T], limit: int) -> _T:
        with self._pool_lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = make()
        with self._pool_lock:
            cache[key] = value
            while len(cache) > limit:
                cache.popitem(last=False)
        return value

    def _ids(self, searcher: Searcher, version: Version, query: Query) -> frozenset[int]:
        """Document numbers matching ``query`` (a tree of Term/And/Or), deletions included.

        Sets of document numbers per term, cached while the index does not change, answer
        counting and common-word queries several times faster than stepping Whoosh's
        matchers through every match in Python.
        """
        reader = searcher.reader()

        def term_ids(field: str, text: str) -> array[int]:
            # Kept as a compact array (4 bytes a document, a tenth of a set's size), so many
            # common terms stay cached; turning one into a set is cheap next to reading it.
            if (field, text) not in reader:  # type: ignore[operator]  # IndexReader.__contains__
                return array("i")
            return array("i", reader.postings(field, text).all_ids())

        def ids(q: Query) -> frozenset[int]:
            if isinstance(q, Term):
                key = (version, q.fieldname, q.text)
                return frozenset(self._cached(self._term_ids, key, lambda: term_ids(q.fieldname, q.text), TERM_SETS))
            parts = sorted((ids(sub) for sub in q.subqueries), key=len)  # type: ignore[attr-defined]  # And/Or
            if isinstance(q, And):
                return frozenset.intersection(*parts) if parts else frozenset()
            return frozenset().union(*parts)

        return ids(query)

    def _count(self, searcher: Searcher, version: Version, query: Query) -> int:
        """Exact number of live documents matching ``query`` (``len(results)`` would run the
        whole query a second time)."""
        matched = self._ids(searcher, version, query)
        reader = searcher.reader()
        if reader.has_deletions():
            return sum(1 for docnum in matched if not reader.is_deleted(docnum))
        return len(matched)

    def _newest(
        self,
        searcher: Searcher,
        version: Version,
        query: Query,
        fields: Sequence[str],
        words: Sequence[str],
        offset: int,
        size: int,
        make: Source,
    ) -> tuple[int, list[Hit]]:
        """``(total, hits)`` for a query of only very common words: the newest listings
        matching ``query`` (from the cached document sets that also give the total), each
        scored (BM25F, as elsewhere) for the page only.

        For words this common the scores differ only by text length, and newest first is
        what a buyer browsing "九成新" wants; it needs no pass over every match.
        """
        reader = searcher.reader()
        matched: Collection[int] = self._ids(searcher, version, query)
        if reader.has_deletions():
            matched = [d for d in matched if not reader.is_deleted(d)]
        page = heapq.nlargest(offset + size, matched)[offset:]
        scores = dict.fromkeys(page, 0.0)
        # One forward walk per term over the page's documents in ascending order (a matcher
        # per document re-walked the whole posting list each time).
        for field in fields:
            for word in words:
                if (field, word) not in reader:  # type: ignore[operator]  # IndexReader.__contains__
                    continue
                matcher = searcher.postings(field, word)
                for docnum in sorted(page):
                    if not matcher.is_active():
                        break
                    if matcher.id() < docnum:
                        matcher.skip_to(docnum)
                    if matcher.is_active() and matcher.id() == docnum:
                        scores[docnum] += matcher.score() * BOOSTS.get(field, 1.0)
        hits = []
        for docnum in page:
            stored = searcher.stored_fields(docnum)  # type: ignore[attr-defined]  # the reader's
            hits.append((stored["id"], round(scores[docnum], 6), make(stored)))
        return len(matched), hits

    def search(self, method: str, words: Sequence[str], offset: int, size: int) -> tuple[int, list[Hit]]:
        kind = "goods" if method == "good" else "users"
        if not words:
            return 0, []
        where, searcher = self._borrow(kind)
        if searcher is None:
            return 0, []
        try:
            # The index version: the generation directory and its commit generation.
            version = (where, kind, searcher.ixreader.generation())
            key = (version, tuple(words), offset, size)
            if not self.cache_answers:
                return self._search(kind, searcher, version, words, offset, size)
            return self._cached(
                self._results, key, lambda: self._search(kind, searcher, version, words, offset, size), RESULTS
            )
        finally:
            self._give_back(kind, where, searcher)

    def _search(
        self, kind: str, searcher: Searcher, version: Version, words: Sequence[str], offset: int, size: int
    ) -> tuple[int, list[Hit]]:
        fields = FIELDS[kind]

        def clause(field: str, terms: Sequence[str], boost: float) -> Query:
            if len(terms) == 1:
                return Term(field, terms[0], boost=boost)
            return And([Term(field, t) for t in terms], boost=boost)

        def listings_with(term: str) -> int:  # a term-info lookup, no postings read
            return sum(searcher.doc_frequency(f, term) for f in fields)  # type: ignore[attr-defined]  # the reader's

        def any_of(clauses: list[Query]) -> Query:
            return clauses[0] if len(clauses) == 1 else Or(clauses)

        def word_query(word: str) -> tuple[Query, Query, int]:
            # A word looks for itself and its expansions (analyzer.query_terms). The word and
            # its equal names are looked for in every field, the other expansions (kinds of
            # the thing, the parts of a fused word like iphone13, the head noun) in the title
            # only: in a note they are mostly asides ("送充电宝"), and every field read costs
            # its postings. The head noun only comes in while the word itself is rare. Scores
            # add up, so a listing saying the word itself ranks first.
            # Returns (the word's query, the query for the word alone, its listing count).
            alts = query_terms(word)
            exact = [alt for alt in alts if alt.source in ("word", "equal")]
            rare = sum(listings_with(alt.terms[0]) for alt in exact) < HEAD_BELOW
            clauses, own = [], []
            for alt in alts:
                if alt.source == "head" and not rare:
                    continue
                for f in fields if alt in exact else fields[:1]:
                    clauses.append(clause(f, alt.terms, BOOSTS.get(f, 1.0) * alt.weight))
                    if alt.source == "word":
                        own.append(clauses[-1])
            return any_of(clauses), any_of(own), listings_with(word)

        built = [word_query(w) for w in words]
        # Common words (in more than COMMON_RATIO of the listings, and at least COMMON_MIN),
        # like Elasticsearch's cutoff_frequency: a query that also has rarer words matches
        # on the rare ones, and the common words only add to the score of those matches
        # (title only). Stepping through tens of thousands of "九成新"/"自提" postings for
        # every query was most of the time at 100k listings; on a small market nothing is
        # common and the query is the plain OR below.
        common_at = max(COMMON_MIN, COMMON_RATIO * searcher.doc_count())
        rare = [b for b in built if b[2] <= common_at]
        common_words = [w for w, b in zip(words, built) if b[2] > common_at]
        title = fields[0]
        scoring: Query
        if rare and common_words:
            required = any_of([q for q, _, _ in rare])
            optional = any_of([Term(title, w, boost=BOOSTS.get(title, 1.0)) for w in common_words])
            scoring, counting, bonus_from = AndMaybe(required, optional), required, rare
        elif common_words:
            # Only common words: the newest listings that have one of them anywhere (the
            # same set on every page and in the total, so paging stays consistent).
            counting = any_of([q for q, _, _ in built])
            return self._newest(searcher, version, counting, fields, common_words, offset, size, SOURCES[kind])
        else:
            scoring = counting = any_of([q for q, _, _ in built])
            bonus_from = built
        # The all-words bonus (an And beside the Or) checks the words themselves, not their
        # expansions, and only the rarest words within ALL_WORDS_MAX_POSTINGS.
        coordinated, budget = [], ALL_WORDS_MAX_POSTINGS
        for _, own, count in sorted((b for b in bonus_from if b[2]), key=lambda b: b[2]):
            if count > budget:
                break
            coordinated.append(own)
            budget -= count
        if len(coordinated) > 1:
            scoring = Or([scoring, And(coordinated, boost=ALL_WORDS_BOOST)])
        # size 0 asks only for the total (as Elasticsearch answers it); Whoosh wants a limit >= 1.
        results = searcher.search(scoring, limit=max(1, offset + size))
        total = self._count(searcher, version, counting)
        make = SOURCES[kind]
        hits = [(hit["id"], round(hit.score, 6), make(hit.fields())) for hit in results[offset : offset + size]]
        return total, hits
