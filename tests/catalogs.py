"""Catalogs the tests generate: multilingual, reproducible, any size."""

from __future__ import annotations

import json
import random
from pathlib import Path

# (language, product nouns, qualifiers) — real words, so analyzers have something to do
VOCABULARY: dict[str, tuple[list[str], list[str]]] = {
    "en": (["headphones", "kettle", "backpack", "running shoes", "coffee grinder", "desk lamp"],
           ["wireless", "stainless steel", "waterproof", "lightweight", "rechargeable", "foldable"]),
    "es": (["auriculares", "hervidor", "mochila", "zapatillas", "molinillo de café", "lámpara de escritorio"],
           ["inalámbricos", "de acero inoxidable", "impermeable", "ligeras", "recargable", "plegable"]),
    "fr": (["casque", "bouilloire", "sac à dos", "chaussures de course", "moulin à café", "lampe de bureau"],
           ["sans fil", "en acier inoxydable", "imperméable", "légères", "rechargeable", "pliable"]),
    "de": (["Kopfhörer", "Wasserkocher", "Rucksack", "Laufschuhe", "Kaffeemühle", "Schreibtischlampe"],
           ["kabellose", "aus Edelstahl", "wasserdichter", "leichte", "wiederaufladbare", "faltbare"]),
    "id": (["headset", "teko listrik", "tas ransel", "sepatu lari", "penggiling kopi", "lampu meja"],
           ["nirkabel", "stainless", "anti air", "ringan", "isi ulang", "lipat"]),
    "ja": (["ヘッドホン", "電気ケトル", "リュック", "ランニングシューズ", "コーヒーミル", "デスクライト"],
           ["ワイヤレス", "ステンレス", "防水", "軽量", "充電式", "折りたたみ"]),
    "zh": (["耳机", "电热水壶", "双肩包", "跑步鞋", "咖啡磨豆机", "台灯"],
           ["无线", "不锈钢", "防水", "轻便", "可充电", "折叠"]),
    "ko": (["헤드폰", "전기 주전자", "백팩", "러닝화", "커피 그라인더", "책상 램프"],
           ["무선", "스테인리스", "방수", "경량", "충전식", "접이식"]),
    "ar": (["سماعات", "غلاية", "حقيبة ظهر", "حذاء جري", "مطحنة قهوة", "مصباح مكتب"],
           ["لاسلكية", "من الفولاذ", "مقاومة للماء", "خفيفة", "قابلة للشحن", "قابلة للطي"]),
    "ru": (["наушники", "чайник", "рюкзак", "кроссовки", "кофемолка", "настольная лампа"],
           ["беспроводные", "из нержавеющей стали", "водонепроницаемый", "лёгкие", "аккумуляторная", "складная"]),
}
BRANDS = ["Acme", "Nordik", "Sora", "Kumo", "Vento", "Orca"]


def product(i: int, rng: random.Random) -> dict:
    lang = list(VOCABULARY)[i % len(VOCABULARY)]
    nouns, qualifiers = VOCABULARY[lang]
    noun, qualifier = rng.choice(nouns), rng.choice(qualifiers)
    title = f"{noun} {qualifier}" if lang in ("es", "fr", "id", "ar") else f"{qualifier} {noun}"
    record = {"id": f"gen-{i:06d}", "title": f"{title} {rng.choice(['S', 'M', 'L', 'XL', '2024', 'Pro'])} {i}",
              "brand": rng.choice(BRANDS), "price": round(rng.uniform(5, 500), 2), "currency": "EUR",
              "category": "Home > Gadgets", "attributes": {"sku": f"SKU-{i:06d}"}}
    if i % 7:  # every seventh record leaves its language to detection
        record["lang"] = lang
    return record


def write_catalog(path: Path, count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    records = [product(i, rng) for i in range(count)]
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return records
