"""shared/config.py: parsing, the settings objects each product declares, and README's table."""
import pytest


def test_parse_bytes():
    from shared.config import parse_bytes

    assert parse_bytes("6GB") == 6 * 10**9
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("1000") == 1000
    with pytest.raises(ValueError):
        parse_bytes("lots")


def test_a_product_settings_object_is_read_parsed_and_clamped_once(fresh_settings):
    from products.image.settings import ImageSettings

    fresh_settings.setenv("AIPM_IMAGE_MAX_STEPS", "0")  # clamped to 1 where it is parsed, not where it is used
    fresh_settings.setenv("AIPM_IMAGE_SAFETY", "off")
    fresh_settings.setenv("AIPM_IMAGE_VAE_TILING", " AUTO ")
    config = ImageSettings.current()
    assert (config.max_steps, config.safety, config.vae_tiling) == (1, False, "auto")
    assert ImageSettings.current() is config, "built once while its variables stay the same"
    fresh_settings.setenv("AIPM_IMAGE_MAX_STEPS", "30")
    assert ImageSettings.current().max_steps == 30, "rebuilt when one of them changes"


def test_tests_build_settings_directly_with_defaults_for_the_rest():
    from products.recommend.models import params_from_settings
    from products.recommend.settings import RecommendSettings
    from products.speech.settings import SpeechSettings

    assert RecommendSettings().factors == 32 and SpeechSettings().models == ("base", "tiny.en")
    params = params_from_settings(RecommendSettings(factors=4, iterations=2))
    assert (params.factors, params.regularization, params.iterations) == (4, 20.0, 2)
    assert SpeechSettings().threads is None, "auto: the caller picks (AIPM_TORCH_THREADS)"


def test_one_parser_per_kind():
    from shared.config import as_auto_int, as_flag, as_float, as_int, as_list

    assert [as_flag(v) for v in ("1", "true", "YES", "on", "0", "", "no")] == [True] * 4 + [False] * 3
    assert as_int(minimum=1)("-5") == 1 and as_int()("-5") == -5 and as_float(0.0)("-1.5") == 0.0
    assert as_list(" base, ,tiny.en ") == ("base", "tiny.en")
    assert as_auto_int("auto") is None and as_auto_int("0") == 1
    with pytest.raises(ValueError):
        as_int()("many")


def test_every_products_settings_are_collected_and_known_to_raw(fresh_settings):
    from shared import config

    envs = [s.env for s in config.all_settings()]
    assert len(envs) == len(set(envs)), "each variable declared once"
    for env in ("AIPM_RECOMMEND_FACTORS", "AIPM_SPEECH_VAD", "AIPM_IMAGE_HUB", "AIPM_HOST"):
        assert env in envs
    fresh_settings.setenv("AIPM_SPEECH_BEAM_SIZE", "3")
    assert config.raw("AIPM_SPEECH_BEAM_SIZE") == "3"
    with pytest.raises(KeyError):
        config.raw("AIPM_NOT_DECLARED_ANYWHERE")


def test_importing_shared_config_imports_no_product():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, shared.config; "
            "assert not [m for m in sys.modules if m.startswith('products.')], sorted(sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
