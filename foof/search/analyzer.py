"""A Chinese analyzer for Whoosh built on jieba segmentation (the Rust jieba, ``rjieba``).

Indexing uses jieba's search-engine mode, which also emits the shorter words inside long
ones, so ``笔记本`` finds ``联想笔记本电脑``; queries use the precise mode, so a query is not
diluted by its own sub-words. Latin text is lower-cased, and mixed letter/digit runs also
yield their parts when indexing (``iphone13`` → ``iphone``, ``13``). Punctuation and spaces
are dropped.

``rjieba`` is used rather than pure-Python jieba because it segments about ten times faster
and loads its dictionary without jieba's one-second start-up, with the same dictionary.
"""
import re
import threading

import rjieba
from whoosh.analysis import LowercaseFilter, Token, Tokenizer

#: Campus-market words the stock dictionary splits (it has 充电 + 宝, 考 + 研 ...).
CAMPUS_WORDS = ("充电宝", "考研", "二手", "九成新", "八成新", "七成新", "九五新", "羽毛球拍", "自行车",
                "山地自行车", "公路车", "电动车", "蓝牙耳机", "降噪耳机", "机械键盘", "无线鼠标",
                "游戏本", "电热水壶", "宿舍", "面交", "自提", "四级", "六级", "雅思", "托福")
_WORD = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_RUNS = re.compile(r"[A-Za-z]+|[0-9]+")
_setup_lock = threading.Lock()
_ready = False


def _setup():
    global _ready
    if _ready:
        return
    with _setup_lock:
        if not _ready:
            for word in CAMPUS_WORDS:
                rjieba.add_word(word, None, None)
            _ready = True


def segment(text, mode="search"):
    """``(word, start, end)`` triples of meaningful words (char offsets)."""
    _setup()
    out = []
    for word, start, end in rjieba.tokenize(text, mode=mode):
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

    def __init__(self, mode="search"):
        self.mode = mode

    def __eq__(self, other):
        return type(other) is type(self) and other.mode == self.mode

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost, token.stopped = 1.0, False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for index, (word, start, end) in enumerate(segment(value, self.mode)):
            token.original = token.text = word
            token.boost, token.stopped = 1.0, False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + index
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def chinese_analyzer(mode="search"):
    return ChineseTokenizer(mode) | LowercaseFilter()


def query_words(text):
    """The distinct lower-cased words of a query, in order (precise mode)."""
    seen = {}
    for word, _, _ in segment(text, mode="default"):
        seen.setdefault(word.lower(), None)
    return list(seen)
