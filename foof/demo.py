"""Realistic demo data: Chinese campus listings across the 8 categories.

Used by ``flask --app foof seed-demo`` and by the search benchmark, so both see the same
kind of text. Deterministic for a given seed.
"""

import random

CONDITIONS = ["全新", "九成新", "九五新", "八成新", "七成新", "几乎全新", "自用", "闲置", "二手", "低价转让"]
PLACES = [
    "东门",
    "西门",
    "南门",
    "图书馆门口",
    "一食堂",
    "二食堂",
    "梅园宿舍楼下",
    "桃园快递点",
    "橘园",
    "教学楼A座",
    "体育馆",
    "九龙湖校区",
    "四牌楼校区",
    "丁家桥校区",
    "研究生公寓",
]
TIMES = ["晚上七点后", "周末全天", "中午十二点", "下课后", "随时", "工作日晚上", "周三下午"]
CATALOGUE = {
    1: [
        ("小米", ["充电宝", "手环", "蓝牙耳机", "路由器", "手机"]),
        ("华为", ["平板电脑", "手机", "蓝牙耳机", "智能手表"]),
        ("Apple", ["iPhone 13", "iPhone 12", "iPad", "AirPods", "MacBook Air"]),
        ("联想", ["笔记本电脑", "拯救者游戏本", "小新笔记本电脑", "显示器"]),
        ("罗技", ["鼠标", "无线鼠标", "机械键盘", "G304鼠标"]),
        ("索尼", ["降噪耳机", "相机", "PS5手柄"]),
        ("Kindle", ["电子书阅读器", "Paperwhite"]),
        ("戴尔", ["显示器", "笔记本电脑"]),
    ],
    2: [
        ("优衣库", ["羽绒服", "卫衣", "牛仔裤", "衬衫"]),
        ("耐克", ["运动鞋", "篮球鞋", "双肩包"]),
        ("阿迪达斯", ["运动外套", "板鞋", "卫衣"]),
        ("无印良品", ["帆布包", "托特包"]),
        ("", ["学士服", "冬季棉服", "雨靴", "行李箱"]),
    ],
    3: [
        ("捷安特", ["山地自行车", "公路车", "自行车"]),
        ("永久", ["二手自行车", "折叠自行车"]),
        ("小牛", ["电动车", "电动车电池"]),
        ("", ["滑板车", "自行车锁", "头盔", "电动车充电器"]),
    ],
    4: [
        ("兰蔻", ["粉水", "小黑瓶精华"]),
        ("雅诗兰黛", ["眼霜", "小棕瓶"]),
        ("飞利浦", ["电动牙刷", "剃须刀"]),
        ("戴森", ["吹风机"]),
        ("", ["防晒霜", "洗面奶", "口红", "香水小样"]),
    ],
    5: [
        ("美的", ["电热水壶", "小风扇", "台灯"]),
        ("小熊", ["电煮锅", "酸奶机"]),
        ("宜家", ["书架", "收纳箱", "懒人沙发"]),
        ("", ["床帘", "衣架", "晾衣架", "保温杯", "插线板", "床垫", "宿舍小冰箱"]),
    ],
    6: [
        (
            "",
            [
                "考研资料",
                "考研数学全书",
                "英语四级真题",
                "六级词汇书",
                "高等数学教材",
                "线性代数课本",
                "大学物理笔记",
                "雅思真题",
                "托福词汇",
                "计算器",
                "C语言程序设计",
                "数据结构教材",
                "马原复习资料",
                "考研政治肖四肖八",
            ],
        )
    ],
    7: [
        ("李宁", ["羽毛球拍", "篮球"]),
        ("尤尼克斯", ["羽毛球拍", "羽毛球"]),
        ("迪卡侬", ["瑜伽垫", "哑铃", "登山包"]),
        ("斯伯丁", ["篮球"]),
        ("", ["健身卡", "跳绳", "乒乓球拍", "滑板", "游泳镜"]),
    ],
    8: [
        (
            "",
            [
                "电影票",
                "演唱会门票",
                "二手吉他",
                "尤克里里",
                "绿植",
                "手办",
                "拼图",
                "桌游",
                "考研自习室座位",
                "驾校名额转让",
            ],
        )
    ],
}
PRICE_RANGE = {
    1: (30, 6000),
    2: (10, 500),
    3: (20, 1500),
    4: (10, 400),
    5: (5, 300),
    6: (2, 80),
    7: (10, 400),
    8: (5, 500),
}
NOTES = [
    "{place}自提，{time}可以面交。",
    "买来没用几次，{condition}，功能完好，{place}面交。",
    "毕业清仓，价格可小刀，{time}在{place}。",
    "有发票和包装盒，{place}附近可送货上门。",
    "因为换了新的所以出，{condition}，不议价，{place}自取。",
    "实物拍摄，{time}{place}见，先到先得。",
]
WANT_NOTES = ["求一个{what}，{condition}即可，{place}面交，价格好商量。", "收{what}，预算有限，最好{place}附近。"]
NAMES = [
    "小明",
    "阿杰",
    "晓雨",
    "东大学子",
    "梅园小王",
    "桃园李同学",
    "九龙湖居民",
    "研二老张",
    "图书馆常客",
    "爱骑车的猫",
    "考研人",
    "毕业生清仓",
]
CHAT_LINES = [
    "你好，请问还在吗？",
    "可以便宜一点吗？",
    "今晚可以面交吗？",
    "在东门等你",
    "好的，谢谢！",
    "东西收到了，很好用",
    "请问有发票吗？",
    "能再看看实物图吗？",
]


def listing(rng, uuid):
    """One listing as column values (title, type, price, depreciatione, note, sold)."""
    kind = rng.randint(1, 8)
    brand, products = rng.choice(CATALOGUE[kind])
    product = rng.choice(products)
    condition = rng.choice(CONDITIONS)
    want = rng.random() < 0.1
    place, time = rng.choice(PLACES), rng.choice(TIMES)
    low, high = PRICE_RANGE[kind]
    price = round(rng.uniform(low, high) / (1 if rng.random() < 0.5 else 10) * 10) / 10 or 1.0
    # Latin brand before a Latin product name gets a space, as people type it ("Apple iPhone 13").
    name = f"{brand} {product}" if brand[-1:].isascii() and product[:1].isascii() and brand else brand + product
    if want:
        title = f"求购{name}"
        note = rng.choice(WANT_NOTES).format(what=name, condition=condition, place=place)
    else:
        title = f"{condition}{name}"
        note = rng.choice(NOTES).format(place=place, time=time, condition=condition)
    return {
        "uuid": uuid,
        "title": title[:255],
        "type": kind,
        "price": float(price),
        "depreciatione": rng.choice([70, 80, 85, 90, 95, 99]),
        "note": note[:255],
        "sold": -1 if want else 1,
        "to": 0,
        "imgurl": "image/item/default.jpg",
    }


def listings(count, users, seed=7):
    """``count`` listings spread over uuids ``1..users``."""
    rng = random.Random(seed)
    for _ in range(count):
        yield listing(rng, rng.randint(1, max(1, users)))
