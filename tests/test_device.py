"""shared/device.py: the device and dtype a model gets, from its spec's policy and the settings."""
import sys

import pytest

from shared import device as devices


def test_a_specs_own_policy_wins_over_the_setting(fresh_settings):
    fresh_settings.setenv("AIPM_DEVICE", "cuda")
    assert devices.resolve_device("cpu") == "cpu"
    assert devices.resolve_device("auto") == "cuda", "auto follows AIPM_DEVICE"
    fresh_settings.setenv("AIPM_DEVICE", "cpu")
    assert devices.resolve_device() == "cpu"


def test_dtype_follows_the_policy_then_the_setting_then_the_device(fresh_settings, monkeypatch):
    torch = pytest.importorskip("torch")
    fresh_settings.setenv("AIPM_DTYPE", "bf16")
    assert devices.resolve_dtype("cpu") is torch.bfloat16
    assert devices.resolve_dtype("cpu", "float32") is torch.float32, "the spec's policy wins"
    fresh_settings.setenv("AIPM_DTYPE", "auto")
    assert devices.resolve_dtype("mps") is torch.float16
    monkeypatch.setattr(devices, "cpu_bf16_is_fast", lambda: True)
    assert devices.resolve_dtype("cpu") is torch.bfloat16
    monkeypatch.setattr(devices, "cpu_bf16_is_fast", lambda: False)
    assert devices.resolve_dtype("cpu") is torch.float32
    fresh_settings.setenv("AIPM_DTYPE", "float8")
    with pytest.raises(ValueError, match="unknown dtype 'float8'"):
        devices.resolve_dtype("cpu")


def test_emptying_the_device_cache_never_imports_torch(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    devices.empty_device_cache()
    assert "torch" not in sys.modules


def test_cpu_memory_is_the_machines_ram():
    import psutil

    assert devices.total_memory("cpu") == psutil.virtual_memory().total
