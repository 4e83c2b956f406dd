"""A Chinese analyzer for Whoosh built on jieba segmentation (the Rust jieba, ``rjieba``).

Indexing uses jieba's search-engine mode, which also emits the shorter words inside long
ones, so ``笔记本`` finds ``联想笔记本电脑``; queries use the precise mode, so a query is not
diluted by its own sub-words. Latin text is lower-cased, and mixed letter/digit runs also
yield their parts when indexing (``iphone13`` → ``iphone``, ``13``). Punctuation and spaces
are dropped.

``rjieba`` is used rather than pure-Python jieba because it segments about ten times faster
and loads its dictionary without jieba's one-second start-up, with the same dictionary.

Query expansion (:func:`query_terms`): each query word also looks for the names students
use for the same thing (``耐克``/``Nike``, ``高数``/``高等数学``), for kinds of it that
listings name without naming it (``笔记本`` → ``ThinkPad``, ``游戏本``), for the parts of a
fused letter/digit word (``iphone13`` → ``iphone`` + ``13``, so ``iPhone 13 Pro`` is found)
and, for a rare compound, for its head noun at a lower weight (``蓝牙耳机`` → ``耳机``). The
tables are small and hand-written; they were prompted by misses in the relevance tests
(tests/test_search_relevance.py) but hold only what is true on any campus market.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import namedtuple
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import LowercaseFilter, Token, Tokenizer
from whoosh.analysis.analyzers import CompositeAnalyzer

#: Campus-market words the stock dictionary splits (it has 充电 + 宝, 考 + 研 ...).
#: Added since the relevance tests: 轻薄本, 移动电源, 拍立得 (拍 + 立得), 唇釉 (唇 + 釉) and
#: 尤克里里 (尤 + 克里 + 里), which the stock dictionary cuts into pieces that match nothing
#: useful; whole, they can be searched for and expanded to (see RELATED); and the brands
#: 尤尼克斯 (尤 + 尼克斯) and 威尔胜 (威尔 + 胜), so EQUIVALENTS can map them, and the
#: 考研 book 恋练有词 (恋练 + 有 + 词) for RELATED; and 平板电脑, which whole is a tablet
#: (split, its 电脑 matched every 电脑包 first). Changing this list
#: changes indexing: run ``flask --app foof reindex`` after an upgrade.
CAMPUS_WORDS = (
    "充电宝",
    "考研",
    "二手",
    "九成新",
    "八成新",
    "七成新",
    "九五新",
    "羽毛球拍",
    "自行车",
    "山地自行车",
    "公路车",
    "电动车",
    "蓝牙耳机",
    "降噪耳机",
    "机械键盘",
    "无线鼠标",
    "游戏本",
    "电热水壶",
    "宿舍",
    "面交",
    "自提",
    "四级",
    "六级",
    "雅思",
    "托福",
    "轻薄本",
    "移动电源",
    "拍立得",
    "唇釉",
    "尤克里里",
    "尤尼克斯",
    "威尔胜",
    "恋练有词",
    "平板电脑",
)

#: Names students write either way: brands in Chinese or in Latin letters, and the usual
#: abbreviations. A query word in a group also looks for the others at full weight, so
#: ``耐克`` finds ``Nike Air Force 1`` and ``Nike`` finds ``耐克卫衣``. A name with a space is
#: looked for as all of its words (``new balance``). Names that are ordinary words on a
#: campus too (九号 = building 9, 樱桃 = cherries) are left out on purpose.
EQUIVALENTS = (
    ("耐克", "nike"),
    ("阿迪达斯", "阿迪", "adidas"),
    ("苹果", "apple"),
    ("华为", "huawei"),
    ("小米", "xiaomi"),
    ("罗技", "logitech"),
    ("索尼", "sony"),
    ("任天堂", "nintendo"),
    ("戴森", "dyson"),
    ("佳能", "canon"),
    ("尼康", "nikon"),
    ("富士", "fujifilm"),
    ("联想", "lenovo"),
    ("戴尔", "dell"),
    ("惠普", "hp"),
    ("三星", "samsung"),
    ("大疆", "dji"),
    ("雷蛇", "razer"),
    ("优衣库", "uniqlo"),
    ("匡威", "converse"),
    ("新百伦", "new balance"),
    ("李宁", "li ning", "lining"),
    ("安踏", "anta"),
    ("斯伯丁", "spalding"),
    ("威尔胜", "wilson"),
    ("尤尼克斯", "yonex"),
    ("雅马哈", "yamaha"),
    ("乐高", "lego"),
    ("飞利浦", "philips"),
    ("兰蔻", "lancome"),
    ("雅诗兰黛", "estee lauder"),
    ("迪奥", "dior"),
    ("香奈儿", "chanel"),
    ("阿玛尼", "armani"),
    ("北面", "thenorthface", "the north face"),
    ("美的", "midea"),
    ("安克", "anker"),
    ("卡西欧", "casio"),
    ("捷安特", "giant"),
    ("美利达", "merida"),
    ("雅迪", "yadea"),
    ("充电宝", "移动电源"),
    ("自行车", "单车"),
    ("电动车", "电瓶车"),
    ("高数", "高等数学"),
    ("线代", "线性代数"),
    ("笔记本电脑", "手提电脑"),
)

#: Kinds of a thing that listings name without naming the thing: a laptop listing says
#: ``ThinkPad X1`` or ``游戏本``, a camera listing ``拍立得``. A query for the key also looks
#: for these, at RELATED_WEIGHT: a ThinkPad is as much a 笔记本 as a listing saying so
#: (the backend looks for them in titles only, where they name the thing for sale). Only
#: specific words belong here: 电脑 is left out, since 平板电脑 is split into 平板 + 电脑.
RELATED = {
    # 考研 books go by their authors and nicknames (王道 is left out: "性价比才是王道")
    "考研": ("张宇", "李永乐", "汤家凤", "肖秀荣", "徐涛", "天勤", "黄皮书", "恋练有词"),
    # On a second-hand market 笔记本 is mostly a laptop: a title saying 笔记本电脑 (which
    # also holds 笔记本) counts twice, above the stationery notebooks that match once.
    "笔记本": ("笔记本电脑", "游戏本", "轻薄本", "macbook", "thinkpad", "matebook"),
    "笔记本电脑": ("笔记本", "游戏本", "轻薄本", "macbook", "thinkpad", "matebook"),
    "耳机": ("airpods", "freebuds"),
    "手机": ("iphone",),
    "平板": ("ipad", "matepad"),
    "平板电脑": ("平板", "ipad", "matepad"),
    "游戏机": ("switch", "ps4", "ps5", "xbox"),
    "相机": ("单反", "微单", "拍立得", "卡片机"),
    "自行车": ("山地车", "公路车", "折叠车"),
    "口红": ("唇釉", "唇膏"),
    "球鞋": ("篮球鞋", "跑鞋", "运动鞋"),
}
RELATED_WEIGHT = 1.0
#: The head noun of a compound query word (the last part of ``蓝牙耳机``, ``机械键盘``,
#: ``电热水壶``; Chinese compounds put the head last) is looked for at this weight, so a
#: search for ``蓝牙耳机`` also finds ``降噪耳机``, below the listings that say 蓝牙耳机.
HEAD_WEIGHT = 0.5
_WORD = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_RUNS = re.compile(r"[A-Za-z]+|[0-9]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_setup_lock = threading.Lock()
_jieba: Any = None


def _setup() -> Any:
    """The segmenter, loaded on the first text to segment (a search or an index update).

    Memory: importing ``rjieba`` builds its dictionary (350k words) at once, 33 MB of the
    service's resident memory (measured: RSS of a fresh interpreter, 10.9 → 44.2 MB). A
    server that has neither searched nor indexed yet does not need it, so the import is
    here rather than at the top (docs/passwords-and-memory.md).
    """
    global _jieba
    if _jieba is not None:
        return _jieba
    with _setup_lock:
        if _jieba is None:
            import rjieba

            for word in CAMPUS_WORDS:
                rjieba.add_word(word, None, None)
            _jieba = rjieba
    return _jieba


def segment(text: str, mode: str = "search") -> list[tuple[str, int, int]]:
    """``(word, start, end)`` triples of meaningful words (char offsets)."""
    jieba = _setup()
    out = []
    for word, start, end in jieba.tokenize(text, mode=mode):
        if not _WORD.search(word):
            continue
        out.append((word, start, end))
        if mode == "search" and word.isascii() and len(word) > 1:
            runs = _RUNS.findall(word)
            if len(runs) > 1:
                offset = start
                for run in runs:
                    at = text.find(run, offset, end)
                    out.append((run, at, at + len(run)))
                    offset = at + len(run)
    return out


class ChineseTokenizer(Tokenizer):
    """Whoosh tokenizer over :func:`segment` (picklable: Whoosh stores it in the schema)."""

    def __init__(self, mode: str = "search") -> None:
        self.mode = mode

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.mode == self.mode

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value  # type: ignore[attr-defined]
            token.boost, token.stopped = 1.0, False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for index, (word, start, end) in enumerate(segment(value, self.mode)):
            token.original = token.text = word  # type: ignore[attr-defined]
            token.boost, token.stopped = 1.0, False
            if keeporiginal:
                token.original = word  # type: ignore[attr-defined]
            if positions:
                token.pos = start_pos + index
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def chinese_analyzer(mode: str = "search") -> CompositeAnalyzer:
    return ChineseTokenizer(mode) | LowercaseFilter()


def query_words(text: str) -> list[str]:
    """The distinct lower-cased words of a query, in order (precise mode)."""
    seen: dict[str, None] = {}
    for word, _, _ in segment(text, mode="default"):
        seen.setdefault(word.lower(), None)
    return list(seen)


def _equivalents() -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    table: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for group in EQUIVALENTS:
        names = [tuple(name.lower().split()) for name in group]
        for name in names:
            table.setdefault(name, []).extend(other for other in names if other != name)
    return table


_EQUAL = _equivalents()
Alternative = namedtuple("Alternative", "terms weight source")


def _head(word: str) -> str | None:
    """The last part of a compound Chinese query word, or None.

    The word must split completely into dictionary words of two or more characters (so
    ``阿迪达斯`` with its stray sub-word ``达斯`` does not count as a compound); the split
    with the fewest parts wins (``笔记本电脑`` → 笔记本 + 电脑, not 笔记 + …).
    """
    if len(word) < 4 or not _HAN.fullmatch(word):
        return None
    pieces = {(start, end) for w, start, end in segment(word) if 2 <= end - start < len(word)}
    best: dict[int, tuple[tuple[int, int], ...]] = {0: ()}  # end offset -> fewest pieces covering word[:end]
    for end in range(2, len(word) + 1):
        options = [best[start] + ((start, end),) for start in range(end) if start in best and (start, end) in pieces]
        if options:
            best[end] = min(options, key=len)
    cover = best.get(len(word))
    if not cover:
        return None
    start, end = cover[-1]
    return word[start:end]


@functools.lru_cache(maxsize=4096)
def query_terms(word: str) -> tuple[Alternative, ...]:
    """What to look for for one query word: a tuple of ``Alternative(terms, weight, source)``.

    ``terms`` is a tuple of index terms that must all occur (one term, or the parts of a
    fused letter/digit word or of a multi-word Latin name); ``weight`` scales its score;
    ``source`` says where it comes from: ``"word"`` (the word itself, first), ``"equal"``
    (an equal name), ``"parts"`` (the parts of a fused word), ``"related"`` (a kind of the
    thing) or ``"head"`` (the head noun of a compound, or an expansion of it). A backend may
    treat the last three as weaker evidence, and the head noun as a fallback for rare words.
    """
    found: dict[tuple[str, ...], Alternative] = {}
    rank = {"word": 0, "equal": 1, "parts": 2, "related": 3, "head": 4}

    def add(terms: tuple[str, ...], weight: float, source: str) -> None:
        old = found.get(terms)
        if old is None or (weight, -rank[source]) > (old.weight, -rank[old.source]):
            found[terms] = Alternative(terms, weight, source)

    def expand(text: str, weight: float, head: bool) -> None:
        other: Any  # an equal name (a tuple of words), then a related word
        add((text,), weight, "head" if head else "word")
        runs = _RUNS.findall(text) if text.isascii() else ()
        # iphone13 also as iphone + 13, to find "iPhone 13" (the index has both forms of a
        # fused word). Not when a letter run is a single letter (g304, 256g, x1): nobody
        # writes "G 304", and the postings of a lone letter are long.
        if len(runs) > 1 and all(len(run) > 1 for run in runs if run.isalpha()):
            add(tuple(runs), weight, "head" if head else "parts")
        for other in _EQUAL.get((text,), ()):
            add(other, weight, "head" if head else "equal")
        for other in RELATED.get(text, ()):
            add((other,), weight * RELATED_WEIGHT, "head" if head else "related")

    word = word.lower()
    expand(word, 1.0, False)
    head = _head(word)
    if head:
        expand(head, HEAD_WEIGHT, True)
    return tuple(sorted(found.values(), key=lambda alt: (rank[alt.source], -alt.weight)))
