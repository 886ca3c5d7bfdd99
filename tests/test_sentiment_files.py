"""Sentiment files: every row of an upload comes back, in order, byte for byte; results files are
safe to open in a spreadsheet; spreadsheet uploads are bounded before they are parsed.

No model is loaded here: score_texts is replaced by a deterministic fake.
"""
import csv
import re
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import psutil
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from shared.ui import UserError

from products.sentiment import core, files

# Characters that break naive readers, and texts a spreadsheet would run as formulas.
SPECIAL = [",", '"', "'", "\n", "\r", "\r\n", "\t", " ", "中文", "😀", "=", "+", "-", "@", "=1+1", "-2", "@SUM(A1)", "a"]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def text_lists(exclude: str = "", xml: bool = False):
    """Lists of 1-30 texts. xml: only characters XML can hold (no control characters but tab and
    newline; no CR either, since XML parsers turn a stored CR into a newline)."""
    if xml:
        exclude += "\r"
        char = st.characters(exclude_categories=("Cs", "Cn", "Cc"), include_characters="\t\n",
                             exclude_characters=exclude)
    else:
        char = st.characters(exclude_categories=("Cs",), exclude_characters=exclude)
    pieces = st.one_of(st.sampled_from([s for s in SPECIAL if not set(s) & set(exclude)]), char)
    return st.lists(st.lists(pieces, max_size=8).map("".join), min_size=1, max_size=30)


def fake_score_texts(texts, language="auto", registry=None, batch_size=None, progress=None, lang_ui="en", fast=False):
    return [core.Scored(text, "en", "positive", {"negative": 0.25, "positive": 0.75}) for text in texts]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("sentiment-files")


def numbered(texts):
    return pd.DataFrame({"text": texts, "n": [str(i) for i in range(len(texts))]})


def assert_rows(frame, texts):
    assert list(frame.columns) == ["text", "n"]
    assert frame["text"].tolist() == texts
    assert frame["n"].tolist() == [str(i) for i in range(len(texts))]


def xlsx_of(path, rows):
    """An XLSX with every string stored as a string, even one starting with '='."""
    book = openpyxl.Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, str):
                cell.data_type = "s"
    book.save(path)
    return path


def rewrite_member(path, name, change):
    """Rewrite one member of a zip (for crafted workbooks)."""
    with zipfile.ZipFile(path) as old:
        members = {info.filename: old.read(info) for info in old.infolist()}
    members[name] = change(members[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for member, data in members.items():
            new.writestr(member, data)


# ---- round trips (property tests) -------------------------------------------------------------
@PROPERTY
@given(texts=text_lists())
def test_csv_round_trip(workdir, texts):
    path = workdir / "p.csv"
    numbered(texts).to_csv(path, index=False, lineterminator="\r\n")  # \r\n: pandas then quotes a lone CR
    assert_rows(files.read_table(path), texts)
    with open(path, "w", newline="", encoding="utf-8") as f:  # the csv module, minimal quoting
        csv.writer(f).writerows([["text", "n"]] + [[text, str(i)] for i, text in enumerate(texts)])
    assert_rows(files.read_table(path), texts)
    with open(path, "w", newline="", encoding="utf-8") as f:  # one column: the texts' commas are theirs
        csv.writer(f).writerows([["text"]] + [[text] for text in texts])
    assert files.read_table(path)["text"].tolist() == texts


@PROPERTY
@given(texts=text_lists(exclude="\r"))
def test_csv_round_trip_with_pandas_defaults(workdir, texts):
    path = workdir / "p.csv"
    numbered(texts).to_csv(path, index=False)
    assert_rows(files.read_table(path), texts)
    numbered(texts)[["text"]].to_csv(path, index=False)
    assert files.read_table(path)["text"].tolist() == texts


@PROPERTY
@given(texts=text_lists(exclude="\t\r\n"))
def test_tsv_round_trip(workdir, texts):
    for name in ("p.tsv", "p.txt"):  # a .txt whose header has a tab is a TSV
        path = workdir / name
        numbered(texts).to_csv(path, index=False, sep="\t")
        assert_rows(files.read_table(path), texts)
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, delimiter="\t").writerows([["text", "n"]] + [[t, str(i)] for i, t in enumerate(texts)])
        assert_rows(files.read_table(path), texts)


@PROPERTY
@given(texts=text_lists(exclude="\t\r\n\ufeff"), line_end=st.sampled_from(["\n", "\r\n"]),
       final_break=st.booleans())
def test_txt_round_trip(workdir, texts, line_end, final_break):
    # U+FEFF is left out: at the start of a file it is a byte-order mark, not text
    body = line_end.join(texts) + (line_end if final_break or texts[-1] == "" else "")
    path = workdir / "p.txt"
    path.write_bytes(body.encode("utf-8"))
    frame = files.read_table(path)
    assert list(frame.columns) == ["text"] and frame["text"].tolist() == texts


@PROPERTY
@given(texts=text_lists(xml=True))
def test_xlsx_round_trip(workdir, texts):
    path = xlsx_of(workdir / "p.xlsx", [["text", "n"]] + [[text, i] for i, text in enumerate(texts)])
    assert_rows(files.read_table(path), texts)


@PROPERTY
@given(texts=text_lists())
def test_results_file_round_trip(workdir, texts):
    texts = ["ok"] + texts  # at least one text to score
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(core, "score_texts", fake_score_texts)
        scored = core.score_table(numbered(texts), "text")
    path = files.write_results(scored, workdir / "results.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    with open(path, newline="", encoding="utf-8-sig") as f:
        header, *rows = list(csv.reader(f, strict=True))
    assert header == ["text", "n", "language", "label", "mixed", "windows", "p_negative", "p_positive"]
    assert len(rows) == len(texts)
    for cell in (c for row in rows for c in row):
        assert not cell.startswith(files.FORMULA_STARTS), cell
    for row, text, i in zip(rows, texts, range(len(texts))):
        stored = row[0]
        if text.startswith(files.FORMULA_STARTS):
            assert stored.startswith("'")
            stored = stored[1:]
        assert stored == text and row[1] == str(i)
        assert row[3] == ("positive" if text.strip() else "(empty)")
        assert row[4] == ("False" if text.strip() else "")  # one polarity in every clause: never mixed


# ---- regressions ------------------------------------------------------------------------------
def test_unquoted_comma_in_first_column_is_an_error_naming_the_line(tmp_path):
    # pandas took the first field for an index and the results file dropped it
    (tmp_path / "a.csv").write_text("text,n\nGreat, really great,1\nOk, fine,2\n")
    with pytest.raises(UserError, match="Line 2 has 3 fields but the header has 2"):
        files.read_table(tmp_path / "a.csv")
    (tmp_path / "a.csv").write_text("text,n\nfine,1\nGreat, really great,2\n")
    with pytest.raises(UserError, match="Line 3 has 3 fields"):
        files.read_table(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("text\nhello, world\nfine\n")
    with pytest.raises(UserError, match="Line 2 has 2 fields"):
        files.read_table(tmp_path / "b.csv")
    (tmp_path / "c.tsv").write_text("a\tb\n1\t2\n3\t4\t5\n")
    with pytest.raises(UserError, match=r"Line 3 .*\(tab\)"):
        files.read_table(tmp_path / "c.tsv")


def test_quoted_fields_keep_commas_quotes_and_line_breaks(tmp_path):
    body = 'text,n\r\n"He said ""hi, you""\r\nthen left",1\r\n  spaced  ,2\r\n,3\r\n'
    (tmp_path / "q.csv").write_bytes(body.encode())
    frame = files.read_table(tmp_path / "q.csv")
    assert frame["text"].tolist() == ['He said "hi, you"\r\nthen left', "  spaced  ", ""]
    assert frame["n"].tolist() == ["1", "2", "3"]


def test_short_rows_are_padded_and_an_unclosed_quote_is_an_error(tmp_path):
    (tmp_path / "s.csv").write_text("text,n,extra\nonly text\n\nboth,2\n")
    frame = files.read_table(tmp_path / "s.csv")
    assert frame.values.tolist() == [["only text", "", ""], ["", "", ""], ["both", "2", ""]]
    (tmp_path / "u.csv").write_text('text\nfine\n"never closed\nmore\nrows\n')
    with pytest.raises(UserError, match="record starting on line 3"):
        files.read_table(tmp_path / "u.csv")


def test_headerless_txt_is_one_text_per_line(tmp_path):
    # pandas took the first line for a header and skipped the empty one
    (tmp_path / "a.txt").write_bytes("I love it\r\nBad, really bad\r\n\r\n \"quoted\" \r\n".encode())
    frame = files.read_table(tmp_path / "a.txt")
    assert list(frame.columns) == ["text"]
    assert frame["text"].tolist() == ["I love it", "Bad, really bad", "", ' "quoted" ']
    (tmp_path / "b.txt").write_bytes("一\n二\n\n".encode("utf-16"))
    assert files.read_table(tmp_path / "b.txt")["text"].tolist() == ["一", "二", ""]
    (tmp_path / "c.txt").write_text("no header\nlater\ttab\n")
    assert files.read_table(tmp_path / "c.txt")["text"].tolist() == ["no header", "later\ttab"]


def test_every_row_is_scored_in_place(monkeypatch):
    monkeypatch.setattr(core, "score_texts", fake_score_texts)
    frame = pd.DataFrame({"text": [" padded ", "", "x"], "label": ["pos", "neg", "neu"]}, index=[7, 7, 3])
    scored = core.score_table(frame, "text")
    assert scored["text"].tolist() == [" padded ", "", "x"]  # the stored text is not stripped
    assert scored["label (input)"].tolist() == ["pos", "neg", "neu"]  # not overwritten by the result
    assert scored["label"].tolist() == ["positive", "(empty)", "positive"]
    assert scored["windows"].tolist() == [1, 0, 1]


def test_formulas_are_neutralised_in_the_results_file(tmp_path):
    frame = pd.DataFrame({"text": ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=kept", "fine", "a=b"],
                          "p": [-0.5] * 9, "=head": [""] * 9})
    safe = files.neutralise_formulas(frame)
    assert safe["text"].tolist() == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "'=kept", "fine", "a=b"]
    assert safe["p"].tolist() == [-0.5] * 9 and list(safe.columns) == ["text", "p", "'=head"]
    assert frame["text"][0] == "=1+1"  # the shown table keeps the original
    files.write_results(frame, tmp_path / "r.csv")
    written = (tmp_path / "r.csv").read_bytes().decode("utf-8-sig")
    assert written.startswith("text,p,'=head\r\n'=1+1,-0.5,\r\n") and '"\'\rx"' in written


# ---- limits -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory):
    """A workbook whose sheet unpacks to 500 MB of repeated rows but is a few MB on disk."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    small = xlsx_of(path.with_name("small.xlsx"), [["text"], ["x"]])
    row = b'<row><c t="inlineStr"><is><t>' + b"x" * 200 + b"</t></is></c></row>"
    with zipfile.ZipFile(small) as base, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in base.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(info.filename, base.read(info))
        with bomb.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            chunk = row * 5000
            for _ in range(500 * 2**20 // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return path


def test_zip_bomb_xlsx_is_refused_quickly_without_unpacking(zip_bomb):
    assert zip_bomb.stat().st_size < 20 * 2**20
    process, peak, done = psutil.Process(), [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.005)

    before = process.memory_info().rss
    watcher = threading.Thread(target=watch)
    watcher.start()
    start = time.perf_counter()
    try:
        with pytest.raises(UserError, match="unpacks to (499|500) MB; the limit is 200 MB"):
            files.read_table(zip_bomb)
    finally:
        done.set()
        watcher.join()
    assert time.perf_counter() - start < 3
    assert peak[0] - before < 100 * 2**20


def test_over_row_limit_csv_and_txt_are_refused_while_reading(tmp_path, fresh_settings, monkeypatch):
    fresh_settings.setenv("AIPM_SENTIMENT_MAX_ROWS", "5")
    monkeypatch.setattr(files, "_frame", lambda *a: pytest.fail("an over-limit file became a DataFrame"))
    (tmp_path / "big.csv").write_text("text\n" + "row\n" * 6)
    (tmp_path / "big.txt").write_text("row\n" * 6)
    for name in ("big.csv", "big.txt"):
        with pytest.raises(UserError, match="more than 5 rows; the limit is 5"):
            files.read_table(tmp_path / name)
    monkeypatch.undo()
    (tmp_path / "ok.csv").write_text("text\n" + "row\n" * 5)
    assert len(files.read_table(tmp_path / "ok.csv")) == 5


def test_over_row_limit_xlsx_is_refused_by_its_dimension_or_while_streaming(tmp_path, fresh_settings):
    fresh_settings.setenv("AIPM_SENTIMENT_MAX_ROWS", "5")
    path = xlsx_of(tmp_path / "big.xlsx", [["text"]] + [[f"row {i}"] for i in range(6)])
    with pytest.raises(UserError, match="has 6 rows; the limit is 5"):  # from <dimension ref="A1:A7">
        files.read_table(path)
    lying = b'<dimension ref="A1"/>'
    rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb"<dimension [^>]*>", lying, xml))
    with pytest.raises(UserError, match="more than 5 rows"):
        files.read_table(path)
    # a dimension claiming one row must not drop the others (openpyxl's read-only mode trusts it)
    path = xlsx_of(tmp_path / "ok.xlsx", [["text", "n"], ["a", 1], [None, None], ["c", 3.0], ["d", 2.5]])
    rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb"<dimension [^>]*>", lying, xml))
    frame = files.read_table(path)
    assert frame.values.tolist() == [["a", "1"], ["", ""], ["c", "3"], ["d", "2.5"]]


def test_too_many_cells_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_CELLS", 20)
    (tmp_path / "wide.csv").write_text("a,b,c,d,e\n" + "1,2,3,4,5\n" * 5)
    (tmp_path / "padded.csv").write_text("a,b,c,d,e\n" + "\n" * 5)  # short rows are padded to the header
    xlsx_of(tmp_path / "wide.xlsx", [["a"]] + [[None] * 9 + ["x"]] * 3)
    for name in ("wide.csv", "padded.csv", "wide.xlsx"):
        with pytest.raises(UserError, match="more than 20 cells"):
            files.read_table(tmp_path / name)


# ---- the tab ----------------------------------------------------------------------------------
def test_columns_are_listed_in_the_queue_with_their_own_limit():
    import gradio as gr

    from products.sentiment import tab

    with gr.Blocks() as demo:
        tab.build_tab()
    columns = next(fn for fn in demo.fns.values() if fn.api_name == "sentiment_columns")
    assert columns.queue and columns.concurrency_limit == 4 and columns.concurrency_id == "sentiment-columns"


def test_tab_reads_and_writes_through_the_files_module(tmp_path, monkeypatch):
    import gradio as gr

    from products.sentiment import tab
    from shared.outputs import root

    monkeypatch.setattr(core, "score_texts", fake_score_texts)
    (tmp_path / "reviews.txt").write_text("=HYPERLINK(\"x\")\nBad, really bad\n\nok\n")
    update = tab.list_columns(str(tmp_path / "reviews.txt"))
    assert update["choices"] == ["text"] and update["value"] == "text"
    table, chart, download, summary = tab.score_file(str(tmp_path / "reviews.txt"), "text", "auto", progress=None)
    assert table["text"].tolist() == ['=HYPERLINK("x")', "Bad, really bad", "", "ok"]
    assert root() in Path(download).parents
    assert "4 rows read, 4 rows in the results." in summary
    with open(download, newline="", encoding="utf-8-sig") as f:
        assert [row[0] for row in csv.reader(f)][1:] == ["'=HYPERLINK(\"x\")", "Bad, really bad", "", "ok"]
    (tmp_path / "bad.csv").write_text("text\na,b\n")
    with pytest.raises(gr.Error, match="Line 2"):
        tab.list_columns(str(tmp_path / "bad.csv"))
