"""Ratings and catalog data: MovieLens 100k from the recbole wheel, or a customer's own tables.

Any data set of the same shape works (see docs/recommend.md):

- ratings: `user_id`, `item_id`, `rating` (a number), optional `timestamp` (a number; the order of
  the rows is used when it is missing);
- items: `item_id`, `title`, optional `year` (a number or empty), optional `genres` (names separated
  by `|`).

Ids are kept as strings, so numeric and text ids both work.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from shared.i18n import add, t
from shared.ui import UserError

add({
    "recommend.error.columns": ("The {table} table is missing the column(s) {missing}. It has: {columns}. "
                                "Expected: {expected}.",
                                "{table} 表缺少列 {missing}。现有列：{columns}。需要：{expected}。"),
    "recommend.error.types": ("Column '{column}' of the {table} table must hold numbers; rows {rows} do not "
                              "(for example {example!r}).",
                              "{table} 表的“{column}”列必须是数字；第 {rows} 行不是（例如 {example!r}）。"),
    "recommend.error.empty_table": ("The {table} table has no rows.", "{table} 表没有数据行。"),
    "recommend.error.unknown_items": ("{count} rating(s) refer to items missing from the items table "
                                      "(for example {examples}).",
                                      "有 {count} 条评分引用了物品表中不存在的物品（例如 {examples}）。"),
    "recommend.error.read": ("The {table} file {path} could not be read ({detail}).",
                             "无法读取 {table} 文件 {path}（{detail}）。"),
})


RATING_COLUMNS = ("user_id", "item_id", "rating")
ITEM_COLUMNS = ("item_id", "title")


@dataclass
class Dataset:
    """Ratings plus the item catalog, with dense indices (users 0..U-1, items 0..I-1)."""

    ratings: pd.DataFrame  # user_id, item_id, rating, timestamp, u, i
    items: pd.DataFrame  # item_id, title, year, genres (tuple), label, text
    name: str = "custom"
    users: pd.DataFrame | None = None
    user_index: dict = field(default_factory=dict)
    item_index: dict = field(default_factory=dict)
    checksum: str = ""

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def user_ids(self) -> np.ndarray:
        return self._user_ids

    def __post_init__(self):
        self.items = self.items.reset_index(drop=True)
        self.item_index = {iid: k for k, iid in enumerate(self.items["item_id"])}
        self._user_ids = np.array(sorted(self.ratings["user_id"].unique(), key=_natural), dtype=object)
        self.user_index = {uid: k for k, uid in enumerate(self._user_ids)}
        ratings = self.ratings.copy()
        ratings["u"] = ratings["user_id"].map(self.user_index).astype(np.int32)
        ratings["i"] = ratings["item_id"].map(self.item_index).astype(np.int32)
        self.ratings = ratings.reset_index(drop=True)
        if not self.checksum:
            self.checksum = checksum_of(self.ratings, self.items)

    def genres(self) -> list[str]:
        return sorted({g for gs in self.items["genres"] for g in gs})

    def memory_bytes(self) -> int:
        total = int(self.ratings.memory_usage(deep=True).sum() + self.items.memory_usage(deep=True).sum())
        return total + (int(self.users.memory_usage(deep=True).sum()) if self.users is not None else 0)


def _natural(value: str):
    """Sort '2' before '10' when ids are numbers, else alphabetically."""
    return (0, int(value), "") if str(value).isdigit() else (1, 0, str(value))


def checksum_of(ratings: pd.DataFrame, items: pd.DataFrame) -> str:
    """sha256 of the data the models are fitted on: a change to any rating or item changes it."""
    digest = hashlib.sha256()
    for frame, cols in ((ratings, ["user_id", "item_id", "rating", "timestamp"]),
                        (items, ["item_id", "title", "year", "genres"])):
        text = frame[cols].astype(str).to_csv(index=False, header=True)
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def _require(frame: pd.DataFrame, table: str, required: tuple, optional: tuple, lang: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UserError(t("recommend.error.columns", lang, table=table, missing=", ".join(missing),
                          columns=", ".join(map(str, frame.columns)) or "(none)",
                          expected=", ".join(required) + "".join(f", [{c}]" for c in optional)))
    if frame.empty:
        raise UserError(t("recommend.error.empty_table", lang, table=table))


def _numeric(frame: pd.DataFrame, column: str, table: str, lang: str, allow_empty: bool = False) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & ~(allow_empty & (frame[column].isna() | (frame[column].astype(str).str.strip() == "")))
    if bad.any():
        rows = frame.index[bad][:5]
        raise UserError(t("recommend.error.types", lang, column=column, table=table,
                          rows=", ".join(str(r + 2) for r in rows), example=frame[column][rows[0]]))
    return values


def prepare(ratings: pd.DataFrame, items: pd.DataFrame, name: str = "custom", users: pd.DataFrame | None = None,
            lang: str = "en") -> Dataset:
    """Check and normalise two tables into a Dataset; UserError names what is wrong."""
    ratings = ratings.rename(columns=lambda c: str(c).strip().lower()).reset_index(drop=True)
    items = items.rename(columns=lambda c: str(c).strip().lower()).reset_index(drop=True)
    _require(ratings, "ratings", RATING_COLUMNS, ("timestamp",), lang)
    _require(items, "items", ITEM_COLUMNS, ("year", "genres"), lang)
    out = pd.DataFrame({
        "user_id": ratings["user_id"].astype(str).str.strip(),
        "item_id": ratings["item_id"].astype(str).str.strip(),
        "rating": _numeric(ratings, "rating", "ratings", lang).astype(np.float32),
        "timestamp": (_numeric(ratings, "timestamp", "ratings", lang).astype(np.float64)
                      if "timestamp" in ratings else np.arange(len(ratings), dtype=np.float64)),
    })
    catalog = pd.DataFrame({
        "item_id": items["item_id"].astype(str).str.strip(),
        "title": items["title"].fillna("").astype(str).str.strip(),
    })
    catalog["year"] = (_numeric(items, "year", "items", lang, allow_empty=True).astype("Int64")
                       if "year" in items else pd.array([pd.NA] * len(items), dtype="Int64"))
    genres = items["genres"] if "genres" in items else pd.Series([""] * len(items))
    catalog["genres"] = [tuple(g.strip() for g in str(x).split("|") if g.strip()) if pd.notna(x) else ()
                         for x in genres]
    catalog = catalog.drop_duplicates("item_id", keep="first").reset_index(drop=True)
    known = set(catalog["item_id"])
    unknown = out.loc[~out["item_id"].isin(known), "item_id"]
    if len(unknown):
        raise UserError(t("recommend.error.unknown_items", lang, count=len(unknown),
                          examples=", ".join(unknown.unique()[:5])))
    # One rating per (user, item): the latest wins.
    out = out.sort_values(["timestamp"], kind="stable").drop_duplicates(["user_id", "item_id"], keep="last")
    out = out.sort_index().reset_index(drop=True)
    catalog["label"] = _labels(catalog)
    catalog["text"] = [f"{title}{f' ({year})' if pd.notna(year) else ''} — {', '.join(genres) or 'unknown genre'}"
                       for title, year, genres in zip(catalog["title"], catalog["year"], catalog["genres"])]
    return Dataset(out, catalog, name=name, users=users)


def _labels(catalog: pd.DataFrame) -> list[str]:
    """'Title (year)', with the id added where two items would read the same."""
    base = [f"{title} ({year})" if pd.notna(year) else title for title, year in zip(catalog["title"], catalog["year"])]
    counts = pd.Series(base).value_counts()
    return [f"{b} [#{iid}]" if counts[b] > 1 else b for b, iid in zip(base, catalog["item_id"])]


def _read_table(path: Path, table: str, lang: str, **kwargs) -> pd.DataFrame:
    try:
        sep = "\t" if path.suffix.lower() in {".tsv", ".inter", ".item", ".user"} else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""], **kwargs)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise UserError(t("recommend.error.read", lang, table=table, path=path, detail=err)) from err


def load_movielens(folder: Path) -> Dataset:
    """The recbole copy of MovieLens 100k (atomic files with typed headers such as `user_id:token`)."""
    folder = Path(folder)

    def read(name):
        frame = pd.read_csv(folder / name, sep="\t", dtype=str, keep_default_na=False, quoting=3)
        return frame.rename(columns=lambda c: c.split(":")[0])

    inter = read("ml-100k.inter")
    item = read("ml-100k.item")
    users = read("ml-100k.user")
    items = pd.DataFrame({
        "item_id": item["item_id"],
        "title": item["movie_title"],
        "year": pd.to_numeric(item["release_year"], errors="coerce").astype("Int64"),  # 2 are 'unkonwn'
        "genres": item["class"].str.split().str.join("|"),
    })
    return prepare(inter, items, name="MovieLens 100k", users=users)


def load_folder(folder: Path, lang: str = "en") -> Dataset:
    """A customer's catalog: ratings.csv (or .tsv) and items.csv (or .tsv) in one folder."""
    folder = Path(folder)
    if (folder / "ml-100k.inter").is_file():
        return load_movielens(folder)

    def find(stem):
        for suffix in (".csv", ".tsv"):
            if (folder / f"{stem}{suffix}").is_file():
                return folder / f"{stem}{suffix}"
        raise UserError(t("recommend.error.read", lang, table=stem, path=folder / f"{stem}.csv",
                          detail="file not found"))

    return prepare(_read_table(find("ratings"), "ratings", lang), _read_table(find("items"), "items", lang),
                   name=folder.name, lang=lang)
