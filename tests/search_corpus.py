"""A fixed, hand-written corpus of campus second-hand listings for the search relevance tests.

Every listing has a stable ``key`` (tests refer to listings by key, never by row id), a
category ``type`` (1 电子产品, 2 服饰鞋包, 3 交通工具, 4 美妆个护, 5 日常用品, 6 图书文具,
7 运动健身, 8 其他), a ``price``, a ``title`` and a ``note`` written the way students write
them (brand + model + condition, mixed Chinese/Latin, pickup details), and a ``sold`` state:
``1`` on sale, ``-1`` a want post (``求购…``), and in :data:`HIDDEN` rows in every other state
(sold, reserved, deleted, finished want posts) that the search must never return.
"""

from collections import namedtuple

Listing = namedtuple("Listing", "key type price title note sold")


def on_sale(key, type_, price, title, note):
    return Listing(key, type_, price, title, note, 1)


def wanted(key, type_, price, title, note):
    return Listing(key, type_, price, title, note, -1)


ELECTRONICS = [
    # power banks, chargers, bands
    on_sale("mi_powerbank", 1, 35, "小米充电宝10000mAh 移动电源", "用了半年，电量显示正常，带原装线。东门自提"),
    on_sale("mi_powerbank3", 1, 59, "小米充电宝3代 20000毫安 快充", "九成新，支持18W快充，西区宿舍楼下面交"),
    on_sale(
        "anker_powerbank", 1, 69, "Anker安克充电宝 PowerCore 10000", "出国买的几乎没用过，送收纳袋，图书馆门口自提"
    ),
    on_sale("romoss_powerbank", 1, 30, "罗马仕充电宝 20000mAh 带数显", "外壳有点划痕不影响使用，南门自提"),
    on_sale("magsafe_powerbank", 1, 380, "苹果MagSafe磁吸充电宝", "原装正品，iPhone12以上可以吸，北门面交"),
    on_sale("apple_charger", 1, 45, "苹果20W充电器 原装", "换手机多出来的，没怎么用，送一根数据线。东门自提"),
    on_sale("anker_charger", 1, 80, "安克65W氮化镓充电器", "可以同时给笔记本和手机充电，出门就带这一个，宿舍自提"),
    on_sale("baseus_cable", 1, 15, "倍思Type-C数据线 两根", "全新未拆，买多了，一起出"),
    on_sale("mi_band6", 1, 99, "小米手环6 NFC版", "续航两周，表带有点旧了，再送一根新表带，东门自提"),
    on_sale("mi_band7", 1, 139, "小米手环7", "九成新，屏幕无划痕，西区面交"),
    on_sale("apple_watch", 1, 1300, "Apple Watch S6 44mm GPS版", "电池88%，送两条表带，图书馆面交"),
    # phones
    on_sale("iphone13", 1, 3200, "iPhone13 128G 粉色 国行", "电池健康89%，无拆无修，带壳带膜，东门自提，可小刀"),
    on_sale("iphone13pro", 1, 4800, "苹果 iPhone 13 Pro 256G 远峰蓝", "自用一年半，成色很新，配件齐全，南门面交"),
    on_sale("iphone12mini", 1, 2100, "iPhone 12 mini 64G 白色", "小屏党福音，电池82%，屏幕有细划痕，图书馆自提"),
    on_sale(
        "iphone11", 1, 1500, "iPhone11 128G 黑色", "高中用到现在，功能都正常，换新机了出，送一个充电宝，宿舍楼下面交"
    ),
    on_sale("iphonexr", 1, 800, "iPhone XR 64G 红色 备用机", "换过电池，面容正常，适合当备用机，北门自提"),
    on_sale("iphonese2", 1, 1100, "iPhone SE 第二代 128G", "单手操作很舒服，边框有磕碰，东门自提"),
    on_sale("iphone14promax", 1, 6500, "iPhone14 Pro Max 256G 暗紫色", "国行在保，电池96%，送原装充电器，可以当面验机"),
    on_sale("iphone13_case", 1, 10, "iPhone13手机壳 透明防摔", "买错型号了，全新，两个一起出"),
    on_sale("huawei_p40", 1, 1300, "华为P40 8+128G", "成色一般，后盖有小磕，功能正常，西门自提"),
    on_sale("huawei_mate40", 1, 2600, "华为Mate40 Pro 手机", "曲面屏，拍照很好，配件全，图书馆面交"),
    on_sale("redmi_k50", 1, 1500, "Redmi K50 12+256", "打游戏不发烫，送钢化膜，东门自提"),
    on_sale("mi_12s", 1, 2300, "小米12S 8+256G", "徕卡影像，拍照很好看，二教门口面交"),
    # laptops and accessories
    on_sale(
        "lenovo_laptop",
        1,
        3200,
        "联想笔记本电脑 小新Pro13 i5 16G",
        "大一买的，写论文打游戏都够用，电池续航5小时左右，附赠电脑包，东门自提",
    ),
    on_sale(
        "lenovo_y9000p", 1, 6000, "联想拯救者Y9000P 游戏本", "16寸游戏笔记本，RTX3060玩3A流畅，带原装电源，宿舍面交"
    ),
    on_sale("dell_laptop", 1, 1800, "戴尔笔记本 灵越14", "办公轻薄，键盘有点油光，送一个鼠标，南门自提"),
    on_sale("hp_laptop", 1, 2200, "惠普笔记本电脑 战66", "系统已经重装，无暗病，西区面交"),
    on_sale("thinkpad_x1", 1, 3500, "ThinkPad X1 Carbon 2019", "14寸轻薄笔记本，i7 16G 512G，键盘手感好，北门自提"),
    on_sale("macbook_air", 1, 4200, "MacBook Air M1 8+256", "苹果笔记本，循环次数120，无磕碰，带原装充电器，东门自提"),
    on_sale("macbook_pro", 1, 4500, "MacBook Pro 2019 13寸", "电池需要换了其它正常，剪视频入门够用，图书馆面交"),
    on_sale("huawei_matebook", 1, 3600, "华为MateBook 14 笔记本电脑", "2K触屏，多屏协同很方便，九成新，西门自提"),
    on_sale("laptop_stand", 1, 25, "笔记本电脑支架 铝合金", "可以升降，宿舍桌子矮用着很方便，东门自提"),
    on_sale("laptop_sleeve", 1, 20, "13寸电脑内胆包", "适合MacBook，全新没用过"),
    # mice and keyboards
    on_sale("logi_g304", 1, 99, "罗技G304无线游戏鼠标", "手感很好，送一节电池，宿舍自提"),
    on_sale("logi_m330", 1, 50, "罗技M330静音鼠标", "图书馆用不吵人，用了三个月，东门自提"),
    on_sale("logi_mx3", 1, 380, "罗技MX Master 3 鼠标", "办公神器，侧滚轮很好用，带接收器，南门面交"),
    on_sale("logi_k380", 1, 99, "罗技K380蓝牙键盘", "可以连三台设备，配iPad打字很舒服，西区面交"),
    on_sale("logi_g610", 1, 260, "罗技G610机械键盘 红轴", "有背光，键帽有点打油，东门自提"),
    on_sale("razer_mouse", 1, 60, "雷蛇蝰蛇标准版鼠标", "有线游戏鼠标，用了一年，功能正常"),
    on_sale("mi_mouse", 1, 25, "小米无线鼠标 便携版", "装一节5号电池就能用，宿舍面交"),
    on_sale("cherry_keyboard", 1, 350, "Cherry樱桃机械键盘 MX3.0S 茶轴", "打字手感好，送拔键器，北门自提"),
    on_sale("ikbc_keyboard", 1, 150, "ikbc C87机械键盘 青轴", "青轴比较吵，宿舍慎用，图书馆门口面交"),
    # audio
    on_sale("airpods_pro", 1, 500, "AirPods Pro 一代", "降噪正常，左耳有轻微电流声，已消毒，东门自提"),
    on_sale("airpods_pro2", 1, 1400, "AirPods Pro二代 全新未拆", "年会抽奖中的，国行正品，可以查序列号"),
    on_sale("airpods2", 1, 300, "AirPods 2代 有线充电盒", "苹果蓝牙耳机，续航还可以，送硅胶保护套，南门自提"),
    on_sale("huawei_freebuds", 1, 200, "华为FreeBuds 4i 蓝牙耳机", "降噪还行，续航很长，西门面交"),
    on_sale("sony_xm4", 1, 1200, "索尼WH-1000XM4 头戴式降噪耳机", "考研党自习神器，降噪效果一流，带收纳盒，图书馆自提"),
    on_sale("mi_earbuds", 1, 60, "小米蓝牙耳机Air2 SE", "用了半年，充电盒有划痕，东门自提"),
    on_sale("jbl_speaker", 1, 400, "JBL蓝牙音箱 Flip5", "音质很好，防水，宿舍小声放放歌"),
    # games, tablets, readers
    on_sale("switch_v2", 1, 1600, "任天堂Switch 续航版 游戏机", "日版，送两张游戏卡带和收纳包，宿舍面交"),
    on_sale("switch_oled", 1, 2000, "switch OLED 白色 国行", "几乎全新，屏幕贴了膜，北门自提"),
    on_sale("switch_zelda", 1, 200, "switch游戏卡 塞尔达旷野之息", "卡带无划痕，也可以换其他游戏"),
    on_sale("switch_pro", 1, 280, "Switch Pro手柄", "原装手柄，摇杆无漂移，东门自提"),
    on_sale("ps4_slim", 1, 1000, "PS4 Slim 500G 游戏机", "带两个手柄，送几张光盘，宿舍面交"),
    on_sale("ipad_air4", 1, 2400, "iPad Air4 64G 天蓝色 WiFi版", "上网课买的，贴了类纸膜，送保护壳，东门自提"),
    on_sale("ipad_air5", 1, 4000, "iPad Air5 256G 紫色", "九五新，配Apple Pencil二代一起出，西区面交"),
    on_sale("ipad_air3", 1, 1600, "苹果 iPad Air 3 64G", "电池还行，看网课记笔记够用，南门自提"),
    on_sale("ipad_9", 1, 1700, "iPad 第九代 64G", "记笔记看剧都可以，送电容笔，图书馆面交"),
    on_sale("ipad_pro", 1, 3600, "iPad Pro 11寸 2020 128G", "屏幕完美，没有磕碰，北门自提"),
    on_sale("apple_pencil", 1, 550, "Apple Pencil 二代", "原装正品，笔尖新换的"),
    on_sale("kindle_pw4", 1, 500, "Kindle Paperwhite 4 8G", "看书护眼，送保护套，东门自提"),
    on_sale("kindle_basic", 1, 250, "Kindle 青春版 入门款", "吃灰比看书多，屏幕无坏点"),
    on_sale("kindle_case", 1, 15, "kindle保护套 pw4适用", "全新，买错颜色了"),
    on_sale("ireader", 1, 300, "掌阅iReader 墨水屏阅读器", "比kindle便宜，看PDF也可以，西门面交"),
    # monitors, cameras, misc
    on_sale("aoc_monitor", 1, 500, "AOC 24寸显示器 IPS", "宿舍外接用，无坏点，带HDMI线，东门自提"),
    on_sale("dell_monitor", 1, 1100, "戴尔27寸 2K显示器", "色彩准，适合修图，毕业出，北门自提"),
    on_sale("canon_200d", 1, 3500, "佳能200D二代 单反相机 18-55套机", "快门数8000，送相机包和64G卡，图书馆面交"),
    on_sale("fuji_xt30", 1, 4800, "富士XT30 微单相机", "复古好看，直出色彩好，南门自提"),
    on_sale("instax_mini11", 1, 300, "拍立得mini11 粉色", "送两盒相纸，宿舍面交"),
    on_sale("dji_mini2", 1, 2000, "大疆无人机 Mini2", "飞了十几次，电池三块，学校附近别乱飞"),
    on_sale("samsung_t7", 1, 600, "三星移动硬盘 T7 1TB", "读写很快，资料已清空"),
    on_sale("mi_router", 1, 50, "小米路由器4A", "宿舍用信号很稳，西门自提"),
]

CLOTHES = [
    on_sale("nike_af1", 2, 450, "Nike Air Force 1 空军一号 白色 42码", "只穿过两次，偏大半码，东门自提"),
    on_sale("nike_basketball_shoes", 2, 380, "耐克篮球鞋 Zoom Freak 43码", "实战穿过几次，鞋底还很新，体育馆面交"),
    on_sale("nike_hoodie", 2, 150, "耐克卫衣 黑色 L码", "穿过几次，洗过一次，宿舍楼下面交"),
    on_sale("adidas_ultraboost", 2, 350, "阿迪达斯UltraBoost跑鞋 41码", "跑步很舒服，鞋面有点脏可以刷"),
    on_sale("aj1", 2, 1200, "AJ1 芝加哥 篮球鞋 42.5码", "正品有鉴定证书，盒子都在"),
    on_sale("lining_wade", 2, 500, "李宁韦德之道9 篮球鞋 44码", "只打过几次球，缓震很好"),
    on_sale("converse", 2, 150, "匡威帆布鞋 高帮 37码", "女生款，只穿过一次，东门自提"),
    on_sale("vans", 2, 120, "Vans经典款帆布鞋 低帮 40码", "鞋头有点磨损，不介意的来"),
    on_sale("newbalance_574", 2, 200, "新百伦NB574 运动鞋 39码", "女生穿过几次，很舒适"),
    on_sale("martens", 2, 500, "马丁靴 8孔 38码", "Dr.Martens正品，有磨脚期"),
    on_sale("uniqlo_down", 2, 200, "优衣库羽绒服 男款L 黑色", "冬天穿了一季，很保暖，图书馆面交"),
    on_sale("bosideng_down", 2, 400, "波司登羽绒服 长款 女M", "九成新，很暖和，毕业清仓"),
    on_sale("northface", 2, 600, "北面TheNorthFace冲锋衣 XL", "防风防水，爬山穿过几次"),
    on_sale("hanfu", 2, 180, "汉服 齐胸襦裙 全套", "拍照穿过一次，S码，送发饰"),
    on_sale("jk_skirt", 2, 60, "JK制服裙 格子百褶裙", "M码，只试穿过"),
    on_sale("mi_backpack", 2, 70, "小米双肩包 电脑包", "可以放15.6寸笔记本，防泼水，东门自提"),
    on_sale("jansport", 2, 80, "JanSport双肩包 书包", "用了一学期，拉链完好"),
    on_sale("coach_bag", 2, 800, "Coach斜挎包 女款", "专柜购入有小票，九成新"),
    on_sale("cardigan", 2, 40, "针织开衫 米白色", "女M，稍微起了一点球"),
    on_sale("white_shirt", 2, 50, "白衬衫 面试正装 男175", "面试穿过一次，和西装一起买更便宜"),
    on_sale("suit", 2, 250, "西装套装 男 藏青色", "答辩面试用，175/92A，干洗过"),
    on_sale("floral_dress", 2, 70, "碎花连衣裙 夏季", "S码，拍毕业照穿过"),
    on_sale("levis_501", 2, 150, "Levi's 501牛仔裤 W30", "经典款，穿过几次"),
    on_sale("mlb_cap", 2, 90, "MLB棒球帽 NY", "全新带吊牌"),
    on_sale("wool_scarf", 2, 40, "羊毛围巾 格子", "冬天戴过，无起球"),
]

VEHICLES = [
    on_sale("giant_mtb", 3, 800, "捷安特山地自行车 ATX 27速", "骑了一年，刹车灵敏，送车锁，东门自提"),
    on_sale("phoenix_bike", 3, 200, "凤凰自行车 26寸 通勤", "代步很方便，链条新上过油，北门自提"),
    on_sale("forever_bike", 3, 180, "永久自行车 复古款 带车筐", "女生骑的，车筐可以放书包，西区宿舍楼下"),
    on_sale("folding_bike", 3, 260, "折叠自行车 20寸", "可以折起来放宿舍，很轻便，南门自提"),
    on_sale("merida_road", 3, 1500, "美利达公路车 斯特拉", "禧玛诺变速，骑行社团出，图书馆自提"),
    on_sale("bike_lock", 3, 25, "自行车锁 U型锁", "防盗，带两把钥匙"),
    on_sale("bike_light", 3, 20, "自行车前灯 USB充电", "夜骑很亮，全新"),
    on_sale("cycling_helmet", 3, 60, "骑行头盔 M码", "公路车山地车都能戴，戴过几次"),
    on_sale("pump", 3, 15, "打气筒 自行车电动车都能用", "便携，宿舍自提"),
    on_sale("yadea", 3, 1500, "雅迪电动车 48V 冠能", "续航40公里，电池去年换的，带充电器，北门自提"),
    on_sale("niu_n1s", 3, 2800, "小牛电动车 N1s", "锂电续航60公里，有牌照，毕业出"),
    on_sale("aima", 3, 900, "爱玛电动车 小型 女士", "适合校内代步，有点旧但很好骑，东门面交"),
    on_sale("ebike_battery", 3, 200, "电动车电瓶 48V20AH", "用了一年，还能跑30公里"),
    on_sale("ebike_helmet", 3, 35, "电动车头盔 3C认证", "买了两个，出一个，全新"),
    on_sale("mi_scooter", 3, 1100, "小米电动滑板车 1S", "续航25公里，折叠方便，南门自提"),
    on_sale("ninebot", 3, 1300, "九号滑板车 E22", "平衡好，适合通勤，西门面交"),
    on_sale("longboard", 3, 200, "长板滑板 舞板", "入门款，轮子很顺"),
    wanted("want_bike", 3, 300, "求购二手自行车 代步用", "预算300以内，能骑就行，本部校区"),
    wanted("want_ebike", 3, 1500, "求购电动车 续航好一点的", "预算1500左右，东区"),
]

BEAUTY = [
    on_sale("ysl_lipstick", 4, 150, "YSL口红 小金条21", "只试色一次，消毒过，专柜正品"),
    on_sale("dior_999", 4, 160, "迪奥999口红", "正红色，用过两三次，有小票"),
    on_sale("mac_chili", 4, 90, "MAC口红 chili", "秋冬色，剩大半"),
    on_sale("armani_405", 4, 200, "阿玛尼红管唇釉 405", "全新，朋友送的色号不适合我"),
    on_sale("lancome_serum", 4, 500, "兰蔻小黑瓶精华 50ml", "全新未拆，买多了，有小票"),
    on_sale("estee_serum", 4, 250, "雅诗兰黛小棕瓶 精华 30ml", "剩一半多，保质期到明年"),
    on_sale("sk2", 4, 600, "SK-II神仙水 230ml", "代购买的，用了三分之一"),
    on_sale("freeplus", 4, 80, "芙丽芳丝洗面奶", "全新，敏感肌友好"),
    on_sale("anessa", 4, 90, "安耐晒防晒霜 小金瓶", "军训买的，只用了一次"),
    on_sale("philips_toothbrush", 4, 150, "飞利浦电动牙刷 HX6730", "送两个新刷头，已消毒"),
    on_sale("oralb_toothbrush", 4, 300, "欧乐B电动牙刷 iO3", "用了两个月，刷头已换新"),
    on_sale("mi_toothbrush", 4, 60, "小米电动牙刷T300", "全新未拆，活动送的"),
    on_sale("dyson_dryer", 4, 1800, "戴森吹风机 HD08", "国行正品，风力大，宿舍注意功率"),
    on_sale("flyco_dryer", 4, 30, "飞科吹风机 大功率", "宿舍用有时会跳闸，慎重"),
    on_sale("curling_iron", 4, 60, "卷发棒 32mm", "戴森平替，加热快"),
    on_sale("jomalone", 4, 350, "祖玛珑香水 蓝风铃 30ml", "剩大半瓶，香味很清新"),
    on_sale("chanel_sample", 4, 80, "香奈儿香水 5ml 小样", "可可小姐，全新"),
    on_sale("eyeshadow", 4, 50, "眼影盘 九宫格", "用过两次，颜色很日常"),
    on_sale("philips_shaver", 4, 180, "飞利浦剃须刀 S5000", "男士用，刀头干净"),
    on_sale("face_mask", 4, 40, "面膜 一盒10片", "保质期到明年，全新"),
    wanted("want_perfume", 4, 50, "求购香水小样", "想要木质调的，价格好说"),
]

DAILY = [
    on_sale("mi_lamp", 5, 80, "小米台灯1S 护眼", "可以调色温，晚上看书不累，东门自提"),
    on_sale("benq_lamp", 5, 400, "明基护眼台灯", "学习用，光线柔和，毕业出"),
    on_sale("clip_lamp", 5, 25, "夹子台灯 USB充电", "上铺用很方便"),
    on_sale("midea_cooker", 5, 120, "美的电饭煲 3L", "宿舍能用的小功率，九成新"),
    on_sale("bear_pot", 5, 60, "小熊电煮锅 宿舍小锅", "煮面煮火锅都可以，1.2L"),
    on_sale("kettle", 5, 35, "电热水壶 1.5L 不锈钢", "用了一学期，没有水垢"),
    on_sale("usb_fan", 5, 20, "USB小风扇 桌面", "静音，三档风"),
    on_sale("midea_fan", 5, 80, "美的落地扇", "夏天宿舍必备，毕业出，北门自提"),
    on_sale("humidifier", 5, 40, "加湿器 桌面款", "冬天开暖气太干，用了一个冬天"),
    on_sale("bed_curtain", 5, 50, "宿舍床帘 遮光 上下铺通用", "90*190的床可以用，带支架"),
    on_sale("mattress", 5, 80, "床垫 90x190 加厚", "宿舍床尺寸，干净无污渍"),
    on_sale("storage_box", 5, 30, "收纳箱 大号 三个", "毕业打包用，很结实"),
    on_sale("hangers", 5, 10, "植绒衣架 30个", "防滑不留印，一起带走"),
    on_sale("makeup_mirror", 5, 35, "化妆镜 带灯", "桌面款，三档灯光"),
    on_sale("thermos_cup", 5, 80, "膳魔师保温杯 500ml", "保温效果好，杯身有贴纸"),
    on_sale("hot_water_bottle", 5, 15, "暖水壶 开水瓶", "宿舍打开水用"),
    on_sale("ergonomic_chair", 5, 300, "人体工学椅 网布", "久坐不累，毕业搬不走，需要自提"),
    on_sale("bed_desk", 5, 30, "懒人桌 床上书桌", "可折叠，上铺看电脑用"),
    on_sale("desk_shelf", 5, 20, "桌面置物架", "宿舍桌面收纳，免安装"),
    on_sale("umbrella", 5, 20, "天堂伞 折叠", "全新"),
    on_sale("laundry_bucket", 5, 10, "洗衣桶 洗脚盆 两件套", "毕业清仓"),
    on_sale("mini_fridge", 5, 200, "小冰箱 宿舍用", "小功率，放饮料水果刚好"),
    on_sale("power_strip", 5, 30, "公牛插线板 带USB", "宿舍必备，没有破损"),
    on_sale("drying_rack", 5, 40, "落地晾衣架 折叠", "宿舍阳台用"),
    on_sale("latex_pillow", 5, 60, "乳胶枕", "买多了一个，全新"),
    wanted("want_lamp", 5, 50, "求购台灯", "要护眼的，宿舍用"),
]

BOOKS = [
    on_sale("ky_math", 6, 40, "考研数学全书 李永乐 复习全书", "数学一，有少量笔记，图书馆面交"),
    on_sale("ky_english", 6, 35, "考研英语真题 黄皮书 张剑", "2010-2023年，几乎没写，东门自提"),
    on_sale("ky_politics", 6, 20, "考研政治 肖秀荣1000题", "题没做完，答案本在"),
    on_sale("ky_408", 6, 80, "考研资料 408 王道四本", "数据结构、组成原理、操作系统、计算机网络全套，上岸了出，有笔记"),
    on_sale("ky_full_set", 6, 100, "考研全套资料 数学英语政治", "整理好的，打包带走，一共十几本"),
    on_sale("ky_vocab", 6, 15, "考研英语词汇 恋练有词", "朱伟的，书很新"),
    on_sale("gaoshu_zhangyu", 6, 20, "张宇高数18讲", "考研数学用书，做了一半"),
    on_sale("cet4", 6, 10, "英语四级真题 星火", "做了三套，答案完整"),
    on_sale("cet6_vocab", 6, 10, "新东方六级词汇 乱序版", "几乎全新"),
    on_sale("ielts_cambridge", 6, 120, "剑桥雅思真题4-18 全套", "有听力音频，雅思7分上岸"),
    on_sale("ielts_vocab", 6, 20, "雅思词汇真经 刘洪波", "书有划线"),
    on_sale("toefl_tpo", 6, 30, "托福TPO 全套", "打印版，装订好的"),
    on_sale("jiaozi", 6, 30, "教资资料 科目一二", "中学教资，粉笔的书，有笔记"),
    on_sale("law_exam", 6, 150, "法考资料 厚大 2023版", "全套，几乎没翻"),
    on_sale("civil_service", 6, 40, "公务员考试资料 行测申论", "粉笔的，有笔记"),
    on_sale("cpa", 6, 60, "注会CPA 会计教材", "2023年教材"),
    on_sale("gaoshu_tongji", 6, 20, "高等数学 同济第七版 上下册", "大一教材，有笔记，期末复习用得到"),
    on_sale("linear_algebra", 6, 10, "线性代数 同济第六版", "教材，书很新"),
    on_sale("c_language", 6, 10, "C语言程序设计 谭浩强", "大一课本，有笔记"),
    on_sale("college_physics", 6, 15, "大学物理 上下册", "课本，少量笔记"),
    on_sale("python_book", 6, 40, "Python编程 从入门到实践", "第二版，几乎全新"),
    on_sale("three_body", 6, 50, "三体 全套三册", "刘慈欣，书很新，东门自提"),
    on_sale("huozhe", 6, 12, "活着 余华", "看过一遍，书很新"),
    on_sale("byakuyakou", 6, 15, "东野圭吾 白夜行", "正版，有书封"),
    on_sale("casio_calculator", 6, 80, "卡西欧计算器 fx-991CN X", "考试能用的型号，送电池"),
    on_sale("pilot_pen", 6, 30, "百乐钢笔 78G", "送一盒墨囊"),
    on_sale("lamy_pen", 6, 150, "LAMY钢笔 狩猎者", "EF尖，写字很顺"),
    on_sale("a5_notebook", 6, 20, "A5活页笔记本 全新5本", "买多了，带活页夹，图书馆面交"),
    on_sale("muji_notebook", 6, 30, "无印良品笔记本 B5 十本", "全新未拆"),
    on_sale("highlighter", 6, 15, "斑马荧光笔 一套", "用过几次，颜色全"),
    wanted("want_408", 6, 50, "求购考研408资料", "王道天勤都可以，最好有笔记"),
]

SPORTS = [
    on_sale("yonex_racket", 7, 500, "尤尼克斯羽毛球拍 弓箭11", "正品，已穿线，送拍套"),
    on_sale("lining_racket", 7, 150, "李宁羽毛球拍 风刃500", "初学者友好，拍框有小掉漆"),
    on_sale("victor_racket", 7, 300, "胜利羽毛球拍 神速", "双打进攻拍，线是新拉的"),
    on_sale("shuttlecocks", 7, 80, "羽毛球 一桶12只", "亚狮龙7号，全新"),
    on_sale("yoga_mat", 7, 30, "瑜伽垫 加厚10mm", "在宿舍用过几次，已清洗"),
    on_sale("tpe_yoga_mat", 7, 40, "TPE瑜伽垫 防滑 紫色", "全新带绑带"),
    on_sale("dumbbells", 7, 150, "可调节哑铃 20kg 一对", "宿舍练练，毕业搬不走了"),
    on_sale("spalding", 7, 120, "斯伯丁篮球 7号", "室外水泥地打过，手感还不错"),
    on_sale("molten", 7, 200, "摩腾篮球 GG7X 室内", "比赛用球，很新"),
    on_sale("adidas_football", 7, 60, "阿迪达斯足球 5号", "踢过几次"),
    on_sale("pingpong", 7, 80, "红双喜乒乓球拍 两只", "送一盒球"),
    on_sale("wilson_tennis", 7, 200, "威尔胜网球拍", "入门拍，带拍包"),
    on_sale("jump_rope", 7, 15, "计数跳绳", "体测练习用"),
    on_sale("ab_wheel", 7, 20, "健腹轮", "练腹肌，几乎全新"),
    on_sale("massage_gun", 7, 150, "筋膜枪", "运动后放松，电池耐用"),
    on_sale("goggles", 7, 50, "速比涛泳镜", "防雾，带盒子"),
    on_sale("frisbee", 7, 30, "极限飞盘 175g", "社团用过"),
    on_sale("resistance_bands", 7, 25, "健身弹力带 一套", "五种阻力"),
]

OTHER = [
    on_sale("yamaha_guitar", 8, 500, "雅马哈吉他 F310", "民谣吉他入门，送琴包和变调夹"),
    on_sale("ukulele", 8, 120, "尤克里里 23寸", "送教材和调音器"),
    on_sale("electric_guitar", 8, 1500, "芬达电吉他", "带音箱，乐队解散出"),
    on_sale("lego_911", 8, 800, "乐高 保时捷911", "拼好了，零件齐全，带盒子"),
    on_sale("miku_figure", 8, 300, "初音未来手办", "正版，盒子完好"),
    on_sale("digital_piano", 8, 2500, "雅马哈电钢琴 P125", "88键，带琴架"),
    on_sale("werewolf", 8, 20, "狼人杀卡牌", "社团活动用过"),
    on_sale("litter_box", 8, 30, "猫砂盆", "毕业了猫被领养，东西出"),
    on_sale("tent", 8, 150, "双人帐篷", "露营用过一次"),
    on_sale("mahjong", 8, 40, "便携麻将", "宿舍用"),
    on_sale("tea_set", 8, 60, "茶具 一套", "全新"),
    on_sale("succulents", 8, 15, "多肉植物 带盆", "养了两年了，毕业带不走"),
    on_sale("gym_card", 8, 600, "健身卡转让", "学校旁边的健身房，还剩8个月"),
    wanted("want_guitar", 8, 300, "求购吉他", "入门就行，预算300"),
]

#: Rows the search must never return: sold (2), reserved (3), deleted (4), finished (-2),
#: reserved (-3) and deleted (-4) want posts. Their titles collide with the queries on purpose.
HIDDEN = [
    Listing("sold_mi_powerbank", 1, 40, "小米充电宝 20000mAh", "已出", 2),
    Listing("deleted_iphone12", 1, 2500, "iPhone12 128G 绿色", "不卖了", 4),
    Listing("reserved_giant", 3, 700, "捷安特自行车 ATX660", "已有人预定", 3),
    Listing("deleted_ky_want", 6, 50, "考研资料 李永乐 全套", "删掉了", -4),
    Listing("done_want_mouse", 1, 50, "求购罗技鼠标", "已经买到了", -2),
    Listing("reserved_want_ipad", 1, 2000, "求购iPad Air", "谈好了", -3),
    Listing("sold_lenovo", 1, 5000, "联想笔记本电脑 拯救者", "已出", 2),
    Listing("deleted_switch", 1, 1500, "switch游戏机 续航版", "删了", 4),
    Listing("sold_airpods", 1, 900, "AirPods Pro 全新", "已出", 2),
    Listing("deleted_yoga_mat", 7, 20, "瑜伽垫", "删了", 4),
]

SEARCHABLE = ELECTRONICS + CLOTHES + VEHICLES + BEAUTY + DAILY + BOOKS + SPORTS + OTHER
CORPUS = SEARCHABLE + HIDDEN
KEYS = {listing.key for listing in CORPUS}

assert len(KEYS) == len(CORPUS), "duplicate listing key"
assert {listing.type for listing in CORPUS} == set(range(1, 9))
assert all(listing.sold in (1, -1) for listing in SEARCHABLE)
assert all(listing.sold not in (1, -1) for listing in HIDDEN)
