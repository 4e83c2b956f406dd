"""Search relevance on a fixed corpus, through the legacy route ``POST /item/search``.

The corpus (:mod:`tests.search_corpus`, 226 listings on sale or wanted plus 10 hidden rows)
is inserted as rows and the index rebuilt; every query then goes through the HTTP route with
``method=good`` exactly as the mobile app sends it.

Judgements. Each query lists, by corpus key,

* ``expected``: what a student typing the query is clearly looking for. Every one of them
  must be among the first 10 hits (recall@10 = 1).
* ``acceptable``: listings that are on topic and fine to show, though not what the query
  names (another brand's mouse for ``罗技鼠标``, a want post ``求购…`` for the same thing,
  a stationery notebook for ``笔记本``). They are not required, but they count as relevant.

Everything else counts as irrelevant, including accessories of the thing searched for (a
bike lock is not a bike, a laptop stand not a laptop); the one exception is the iPhone 13
case, acceptable for the iPhone queries because its title names the phone.

The judgements were written with the corpus, before looking at any result. After the first
run they were reviewed once for "only what the words say" bias, before the search was
changed: that made them stricter (every laptop is expected for 笔记本, every earphone for
耳机, the road bike for 自行车, 张宇高数18讲 for 考研资料) and widened two acceptable lists for
consistency (all other earphones for 索尼耳机, all other laptops for 联想笔记本). None was
changed afterwards to make a query pass.

Precision@5. With ``R = expected ∪ acceptable`` and ``top5`` the first five hits::

    P@5 = |top5 ∩ R| / min(5, |R|)

so when at least five relevant listings exist, at least 4 of the first 5 hits must be relevant
(P@5 ≥ 0.8); when fewer exist (``|R| < 5``), the first five hits must contain all of them
(for ``|R| ≤ 4`` any miss drops P@5 to 0.75 or lower). Irrelevant hits after the relevant
ones are not penalised in that case. Every query must reach P@5 ≥ 0.8, and the mean over all
queries too. Hidden rows (sold, reserved, deleted, finished want posts) must never be returned.

One app and one index serve each test: building the corpus takes about 0.3 s on SQLite and
0.6 s on MariaDB, so a test per query would cost half a minute; instead one test runs every
query and reports all failing queries in a single assertion message, with the whole table.
Run with ``-s`` to see the per-query table when everything passes.
"""

import json
from collections import namedtuple

import pytest

from foof.extensions import db
from foof.models import Item
from tests.search_corpus import CORPUS, HIDDEN, KEYS

Query = namedtuple("Query", "text expected acceptable")


def q(text, expected, acceptable=()):
    return Query(text, tuple(expected), tuple(acceptable))


BIKES = ("giant_mtb", "phoenix_bike", "forever_bike", "folding_bike", "merida_road")
IPHONES = ("iphone13", "iphone13pro", "iphone12mini", "iphone11", "iphonexr", "iphonese2", "iphone14promax")
LAPTOPS = (
    "lenovo_laptop",
    "lenovo_y9000p",
    "dell_laptop",
    "hp_laptop",
    "huawei_matebook",
    "thinkpad_x1",
    "macbook_air",
    "macbook_pro",
)
LOGITECH_MICE = ("logi_g304", "logi_m330", "logi_mx3")
KAOYAN = ("ky_math", "ky_english", "ky_politics", "ky_408", "ky_full_set", "ky_vocab", "gaoshu_zhangyu")
EARPHONES = ("huawei_freebuds", "mi_earbuds", "airpods2", "airpods_pro", "airpods_pro2", "sony_xm4")
POWER_BANKS = ("mi_powerbank", "mi_powerbank3", "anker_powerbank", "romoss_powerbank", "magsafe_powerbank")
EBIKES = ("yadea", "niu_n1s", "aima")

QUERIES = [
    # the contract's own example and the brief's must-haves
    q("充电宝", POWER_BANKS),
    q("小米充电宝", ("mi_powerbank", "mi_powerbank3"), POWER_BANKS[2:]),
    q("二手自行车", BIKES, ("want_bike",)),
    q("自行车", BIKES, ("want_bike",)),
    q("捷安特自行车", ("giant_mtb",), BIKES[1:] + ("want_bike",)),
    q("考研资料", KAOYAN, ("want_408",)),
    q("考研数学", ("ky_math", "gaoshu_zhangyu"), ("ky_full_set",)),
    q("iPhone", IPHONES, ("iphone13_case",)),
    q("iPhone13", ("iphone13", "iphone13pro"), ("iphone13_case",)),
    q("iphone 13", ("iphone13", "iphone13pro"), ("iphone13_case",)),
    q("罗技鼠标", LOGITECH_MICE, ("razer_mouse", "mi_mouse")),
    q("罗技", LOGITECH_MICE + ("logi_k380", "logi_g610")),
    q("罗技G304", ("logi_g304",)),
    q("笔记本", LAPTOPS, ("a5_notebook", "muji_notebook")),
    q("笔记本电脑", LAPTOPS),
    q("联想笔记本", LAPTOPS[:2], LAPTOPS[2:]),
    q("MacBook", ("macbook_air", "macbook_pro")),
    q("ThinkPad", ("thinkpad_x1",)),
    # audio, games, tablets, readers: mixed Chinese/Latin
    q("AirPods Pro", ("airpods_pro", "airpods_pro2"), ("airpods2",)),
    q("AirPods", ("airpods_pro", "airpods_pro2", "airpods2")),
    q("蓝牙耳机", EARPHONES),
    q("耳机", EARPHONES),
    q("索尼耳机", ("sony_xm4",), EARPHONES[:5]),
    q("机械键盘", ("logi_g610", "cherry_keyboard", "ikbc_keyboard")),
    q("键盘", ("logi_g610", "cherry_keyboard", "ikbc_keyboard", "logi_k380")),
    q("switch游戏机", ("switch_v2", "switch_oled"), ("switch_zelda", "switch_pro", "ps4_slim")),
    q("switch", ("switch_v2", "switch_oled", "switch_zelda", "switch_pro")),
    q("iPad Air", ("ipad_air4", "ipad_air5", "ipad_air3"), ("ipad_9", "ipad_pro")),
    q("iPad Air4", ("ipad_air4",), ("ipad_air5", "ipad_air3")),
    q("iPad", ("ipad_air4", "ipad_air5", "ipad_air3", "ipad_9", "ipad_pro")),
    q("Kindle", ("kindle_pw4", "kindle_basic"), ("kindle_case", "ireader")),
    q("显示器", ("aoc_monitor", "dell_monitor")),
    q("相机", ("canon_200d", "fuji_xt30"), ("instax_mini11",)),
    q("华为手机", ("huawei_p40", "huawei_mate40")),
    q("小米手环", ("mi_band6", "mi_band7")),
    # clothes and shoes
    q("耐克", ("nike_basketball_shoes", "nike_hoodie", "nike_af1")),
    q("Nike", ("nike_af1", "nike_basketball_shoes", "nike_hoodie")),
    q("阿迪达斯", ("adidas_ultraboost", "adidas_football")),
    q("篮球鞋", ("nike_basketball_shoes", "aj1", "lining_wade")),
    q("羽绒服", ("uniqlo_down", "bosideng_down")),
    q("帆布鞋", ("converse", "vans")),
    q("双肩包", ("mi_backpack", "jansport")),
    # vehicles
    q("电动车", EBIKES, ("want_ebike",)),
    q("雅迪电动车", ("yadea",), EBIKES[1:] + ("want_ebike",)),
    q("滑板车", ("mi_scooter", "ninebot")),
    # beauty
    q("口红", ("ysl_lipstick", "dior_999", "mac_chili"), ("armani_405",)),
    q("精华", ("lancome_serum", "estee_serum")),
    q("电动牙刷", ("philips_toothbrush", "oralb_toothbrush", "mi_toothbrush")),
    q("飞利浦", ("philips_toothbrush", "philips_shaver")),
    q("吹风机", ("dyson_dryer", "flyco_dryer")),
    q("戴森吹风机", ("dyson_dryer",), ("flyco_dryer",)),
    q("香水", ("jomalone", "chanel_sample"), ("want_perfume",)),
    # daily use
    q("台灯", ("mi_lamp", "benq_lamp", "clip_lamp"), ("want_lamp",)),
    q("护眼台灯", ("mi_lamp", "benq_lamp", "clip_lamp"), ("want_lamp",)),
    q("电饭煲", ("midea_cooker",)),
    q("美的", ("midea_cooker", "midea_fan")),
    q("床帘", ("bed_curtain",)),
    # books and stationery
    q("高等数学", ("gaoshu_tongji",), ("gaoshu_zhangyu",)),
    q("英语四级", ("cet4",)),
    q("雅思", ("ielts_cambridge", "ielts_vocab")),
    q("三体", ("three_body",)),
    q("计算器", ("casio_calculator",)),
    q("钢笔", ("pilot_pen", "lamy_pen")),
    # sports
    q("羽毛球拍", ("yonex_racket", "lining_racket", "victor_racket")),
    q("尤尼克斯羽毛球拍", ("yonex_racket",), ("lining_racket", "victor_racket")),
    q("瑜伽垫", ("yoga_mat", "tpe_yoga_mat")),
    q("篮球", ("spalding", "molten"), ("nike_basketball_shoes", "aj1", "lining_wade")),
    # other
    q("吉他", ("yamaha_guitar", "electric_guitar"), ("want_guitar",)),
    q("求购", ("want_bike", "want_ebike", "want_perfume", "want_lamp", "want_408", "want_guitar")),
]

HIDDEN_KEYS = {listing.key for listing in HIDDEN}
MIN_PRECISION = 0.8


def precision_at_5(top, relevant):
    return len(set(top[:5]) & relevant) / min(5, len(relevant))


@pytest.fixture
def search(app, client, make_user):
    """The corpus in the database and the index; ``search(text, size)`` → (keys, body)."""
    seller = make_user("13800000099", "pw")
    with app.app_context():
        rows = [
            Item(
                uuid=seller,
                title=listing.title,
                type=listing.type,
                price=listing.price,
                imgurl="image/item/default.jpg",
                depreciatione=90,
                note=listing.note,
                sold=listing.sold,
                to=0,
            )
            for listing in CORPUS
        ]
        db.session.add_all(rows)
        db.session.commit()
        key_of = {str(row.itemid): listing.key for row, listing in zip(rows, CORPUS)}
        counts = app.extensions["foof.search"].rebuild()
    assert counts["goods"] == len(CORPUS) - len(HIDDEN)

    def run(text, size=10):
        reply = client.post("/item/search", data={"method": "good", "query": text, "size": str(size)})
        assert reply.status_code == 200
        body = json.loads(reply.get_data(as_text=True))  # keeps the wire's key order
        return [key_of[hit["_id"]] for hit in body["hits"]["hits"]], body

    run.key_of = key_of
    return run


def test_judgements_are_well_formed():
    texts = [query.text for query in QUERIES]
    assert len(texts) >= 30 and len(set(texts)) == len(texts)
    for query in QUERIES:
        named = set(query.expected) | set(query.acceptable)
        assert named <= KEYS, (query.text, named - KEYS)
        assert not named & HIDDEN_KEYS, query.text
        assert not set(query.expected) & set(query.acceptable), query.text
        assert 1 <= len(query.expected) <= 10, query.text  # all of them must fit in the top 10


def test_relevance(search):
    rows, failures = [], []
    for query in QUERIES:
        keys, _ = search(query.text, size=100)
        top = keys[:10]
        relevant = set(query.expected) | set(query.acceptable)
        precision = precision_at_5(top, relevant)
        missing = [key for key in query.expected if key not in top]
        hidden = [key for key in keys if key in HIDDEN_KEYS]
        rows.append((query.text, precision, missing))
        if precision < MIN_PRECISION or missing or hidden:
            failures.append(
                f"{query.text!r}: P@5={precision:.2f} missing from top 10={missing} "
                f"hidden rows returned={hidden} top 10={top}"
            )
    mean = sum(precision for _, precision, _ in rows) / len(rows)
    table = "\n".join(
        f"  {text:<16} P@5={precision:.2f}{'  missing ' + str(missing) if missing else ''}"
        for text, precision, missing in rows
    )
    print(f"\n{len(rows)} queries, mean P@5 = {mean:.3f}\n{table}")
    assert not failures, (
        f"{len(failures)} of {len(rows)} queries below target (mean P@5 {mean:.3f}):\n"
        + "\n".join(failures)
        + "\nall queries:\n"
        + table
    )
    assert mean >= MIN_PRECISION, f"mean P@5 {mean:.3f} < {MIN_PRECISION}\n{table}"


def test_hidden_rows_are_never_found(search):
    titles = [listing.title for listing in HIDDEN]
    probes = titles + [listing.note for listing in HIDDEN]
    probes += ["小米", "iPhone12", "捷安特", "考研", "罗技", "iPad Air", "联想", "switch", "AirPods Pro", "瑜伽垫"]
    for text in probes:
        keys, body = search(text, size=100)
        assert not set(keys) & HIDDEN_KEYS, (text, keys)
        assert body["hits"]["total"] == len(keys) or len(keys) == 100, text
        if text in titles:  # the probe itself works: it finds the on-sale look-alikes
            assert keys, text


def test_response_is_the_es6_shape(search):
    _, body = search("充电宝", size=3)
    assert list(body) == ["took", "timed_out", "_shards", "hits"]
    assert isinstance(body["took"], int) and body["took"] >= 0
    assert body["timed_out"] is False
    assert body["_shards"] == {"total": 5, "successful": 5, "skipped": 0, "failed": 0}
    assert list(body["_shards"]) == ["total", "successful", "skipped", "failed"]
    hits = body["hits"]
    assert list(hits) == ["total", "max_score", "hits"]
    assert hits["total"] >= 5 and len(hits["hits"]) == 3  # five power banks + a note mention
    by_key = {listing.key: listing for listing in CORPUS}
    for hit in hits["hits"]:
        assert list(hit) == ["_index", "_type", "_id", "_score", "_source"]
        assert hit["_index"] == "index-goods" and hit["_type"] == "goods"
        assert isinstance(hit["_id"], str) and hit["_id"].isdigit()
        assert isinstance(hit["_score"], (int, float)) and hit["_score"] > 0
        assert list(hit["_source"]) == ["note", "price", "title"]
        listing = by_key[search.key_of[hit["_id"]]]
        # Numbers are rendered the JavaScript way (the legacy server's): 380.0 is written 380.
        assert hit["_source"] == {"note": listing.note, "price": listing.price, "title": listing.title}
    scores = [hit["_score"] for hit in hits["hits"]]
    assert hits["max_score"] == scores[0] == max(scores)
    assert scores == sorted(scores, reverse=True)

    _, empty = search("xyzzy 量子纠缠")  # no listing has any of these words
    assert empty["hits"] == {"total": 0, "max_score": None, "hits": []}
