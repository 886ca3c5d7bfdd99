"""README's curl examples run as written (bash, curl) against a real server, with $AIPM_KEY a new key:
each answers 200 with the JSON the section promises."""
import json
import os
import re
import subprocess

import pytest

from tests.api_support import api_database, serving
from tests.conftest import ROOT

README_URL = "http://127.0.0.1:7860"


def examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- api-examples:start -->", 1)[1].split("<!-- api-examples:end -->", 1)[0]
    return re.findall(r"```bash\n(.*?)```", block, re.S)


def test_readme_has_the_examples():
    found = examples()
    assert len(found) >= 4 and all(README_URL in e and "$AIPM_KEY" in e for e in found)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import app
    from shared import keys

    with api_database(tmp_path_factory.mktemp("readme")), serving(app) as url:
        yield url, keys.create_key("readme", "payg")[0]


@pytest.mark.parametrize("index", range(4))
def test_each_curl_example_answers(server, index):
    url, key = server
    command = examples()[index].replace(README_URL, url)
    out = subprocess.run(["bash", "-c", command.replace("curl -s", "curl -sS --fail-with-body")],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "AIPM_KEY": key})
    assert out.returncode == 0, out.stdout + out.stderr
    answer = json.loads(out.stdout)
    assert "error" not in answer
    assert answer.get("data") or answer.get("results") or answer.get("items"), answer
