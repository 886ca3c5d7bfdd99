"""Every user-facing string key used in the code exists in English and Chinese."""
import re

from shared.i18n import STRINGS, request_lang, t
from tests.conftest import ROOT

KEY_USE = re.compile(r"""(?:I18N|\bt)\(\s*["']([a-z_]+\.[a-z_.]+)["']""")


def test_every_used_key_is_translated():
    import app  # noqa: F401  (imports every product's strings)
    from products import PRODUCTS

    files = list((ROOT / "shared").rglob("*.py")) + list((ROOT / "workflows").rglob("*.py")) + [ROOT / "app.py"]
    for name in PRODUCTS:
        files += list((ROOT / name.replace(".", "/")).rglob("*.py"))
    used = set()
    for path in files:
        used |= set(KEY_USE.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no keys"
    missing = {lang: sorted(k for k in used if k not in STRINGS[lang]) for lang in ("en", "zh")}
    assert missing == {"en": [], "zh": []}
    assert set(STRINGS["en"]) == set(STRINGS["zh"])


def test_language_follows_the_browser():
    class Request:
        def __init__(self, header):
            self.headers = {"accept-language": header}

    assert request_lang(Request("zh-CN,zh;q=0.9,en;q=0.8")) == "zh"
    assert request_lang(Request("en-US,en;q=0.9")) == "en"
    assert request_lang(Request("fr-FR")) == "en"
    assert request_lang(None) == "en"
    assert t("system.loaded", "zh", name="x") == "模型 x 已加载。"
    assert t("system.loaded", "fr", name="x") == "Model x is loaded."
