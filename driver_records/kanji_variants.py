"""Variant kanji (異体字) a holder's name may be written in, each folded to one form for search.

A clerk types 「高橋」 for a holder registered as 髙橋, 「斎藤」 for 齋藤: the search key folds
both sides with this table. It is a search aid only: the name itself is kept as registered.

Why a table of our own: the packages on PyPI were tried and none serves a name search.
ja-cvu-normalizer (0.2.10) folds only characters outside JIS X 0208 (髙 → 高,
but 齋, 邊, 濱, 澤, 國 stay as they are) and maps 﨑 to 埼, another kanji; ja-itaiji (1.0.2) relates
characters that are different names (濱 ~ 頻, 澤 ~ 途, 圓 ~ 元, 田 ~ 佃), not an equivalence
to fold by; jaconv, neologdn and mojimoji convert widths only (NFKC does that here); pykakasi's internal
variant table folds for reading, with slips a search cannot take (擧 → 拳, 歐 → 嘔, 壱 → 一).

Each pair is (variant, the form it is folded to). Sources:
- JOYO: 常用漢字表 (平成22年内閣告示第2号), the traditional forms (康熙字典体) it prints in
  parentheses beside the standard forms, where NFKC does not already fold them (the ones encoded
  as CJK compatibility ideographs, e.g. 神 U+FA19, NFKC folds itself);
- JINMEI: 戸籍法施行規則 別表第二 一 (人名用漢字), the older or popular forms of another kanji
  that names carry beside it (嶋/島, 冨/富, 峯/峰, 舘/館 ...);
- NAMES: forms outside JIS X 0208 that registers of names carry (JIS X 0213 and the 戸籍統一文字:
  髙, 邉, 濵, 嶌, 𠮷) and 﨑 (U+FA11, one of the compatibility ideographs NFKC leaves alone);
- SURNAMES: forms the counter treats as one surname although the tables keep them apart:
  斎 齋 齊 斉 齎 (さいとう is written with each).
Cross-checked when written: every pair but 𠮷/吉 and 齎/斎 is related by ja-itaiji or by
pykakasi's variant table (tests/driver_records/test_search_key.py checks the names the issue cites).
"""

from __future__ import annotations

JOYO = """
亞亜 惡悪 壓圧 圍囲 醫医 爲為 壹壱 隱隠 榮栄 營営 衞衛 驛駅 圓円 鹽塩 緣縁 艷艶 應応 歐欧 毆殴 櫻桜 奧奥 橫横 溫温 穩穏
假仮 價価 畫画 會会 壞壊 懷懐 繪絵 槪概 擴拡 殼殻 覺覚 學学 嶽岳 樂楽 渴渇 罐缶 陷陥 卷巻 勸勧 寬寛 關関 歡歓 觀観
氣気 旣既 歸帰 龜亀 僞偽 戲戯 犧犠 舊旧 據拠 擧挙 虛虚 峽峡 挾挟 狹狭 鄕郷 曉暁 區区 驅駆 勳勲 薰薫
徑径 莖茎 惠恵 揭掲 溪渓 經経 螢蛍 輕軽 繼継 鷄鶏 藝芸 擊撃 缺欠 硏研 縣県 儉倹 劍剣 險険 圈圏 檢検 獻献 權権 顯顕
驗験 嚴厳 廣広 效効 恆恒 黃黄 鑛鉱 號号 國国 黑黒 碎砕 濟済 齋斎 劑剤 雜雑 參参 棧桟 蠶蚕 慘惨 贊賛 殘残
絲糸 齒歯 兒児 辭辞 濕湿 實実 寫写 釋釈 壽寿 收収 從従 澁渋 獸獣 縱縦 肅粛 處処 緖緒 敍叙 將将 稱称 涉渉 燒焼
證証 奬奨 條条 狀状 乘乗 淨浄 剩剰 疊畳 繩縄 壤壌 孃嬢 讓譲 釀醸 觸触 囑嘱 眞真 寢寝 愼慎 盡尽 圖図 粹粋 醉酔
隨随 穗穂 髓髄 樞枢 數数 瀨瀬 聲声 齊斉 靜静 竊窃 攝摂 專専 淺浅 戰戦 踐践 錢銭 潛潜 纖繊 禪禅 雙双 壯壮 爭争
莊荘 搜捜 插挿 巢巣 曾曽 瘦痩 裝装 總総 騷騒 增増 藏蔵 臟臓 卽即 屬属 續続 墮堕 對対 體体 帶帯 滯滞 臺台 瀧滝
擇択 澤沢 擔担 單単 膽胆 團団 斷断 彈弾 遲遅 癡痴 蟲虫 晝昼 鑄鋳 廳庁 徵徴 聽聴 敕勅 鎭鎮 遞逓 鐵鉄 點点 轉転
傳伝 燈灯 當当 黨党 盜盗 稻稲 鬪闘 德徳 獨独 讀読 屆届 貳弐 惱悩 腦脳 霸覇 拜拝 廢廃 賣売 麥麦 發発 髮髪 拔抜
晚晩 蠻蛮 祕秘 濱浜 甁瓶 拂払 佛仏 倂併 竝並 餠餅 邊辺 變変 辨弁 瓣弁 辯弁 步歩 寶宝 豐豊 襃褒 飜翻 每毎 萬万
滿満 麵麺 默黙 彌弥 譯訳 藥薬 與与 豫予 餘余 譽誉 搖揺 樣様 謠謡 來来 賴頼 亂乱 覽覧 龍竜 兩両 獵猟 綠緑 淚涙
壘塁 禮礼 勵励 戾戻 靈霊 齡齢 曆暦 歷歴 戀恋 鍊錬 爐炉 勞労 郞郎 樓楼 錄録 灣湾
"""

JINMEI = """
薗園 駈駆 嶋島 盃杯 冨富 峯峰 埜野 凉涼 舘館 渕淵 槇槙 桧檜 篭籠 曻昇 栁柳
"""

NAMES = """
髙高 﨑崎 嵜崎 邉辺 濵浜 嶌島 𠮷吉 圀国 鷗鴎
"""

SURNAMES = """
齎斎 斉斎
"""


def _folding() -> dict[int, str]:
    pairs = [p for table in (JOYO, JINMEI, NAMES, SURNAMES) for p in table.split()]
    direct: dict[str, str] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"a variant pair is two characters: {pair!r}")
        variant, standard = pair[0], pair[1]
        if direct.get(variant, standard) != standard:
            raise ValueError(f"{variant} is folded to two forms")
        direct[variant] = standard

    def final(ch: str) -> str:  # 齊 → 斉 → 斎: a chain folds to its last form
        seen = {ch}
        while ch in direct:
            ch = direct[ch]
            if ch in seen:
                raise ValueError(f"variant table loops at {ch}")
            seen.add(ch)
        return ch

    return {ord(v): final(v) for v in direct}


FOLDING: dict[int, str] = _folding()


def variants_fold(text: str) -> str:
    """`text` with each variant kanji of the table replaced by its folded form."""
    return text.translate(FOLDING)
