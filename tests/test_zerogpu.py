"""shared/zerogpu.py: ZeroGPU is detected from the `spaces` package; elsewhere @gpu leaves a function
as it is and nothing is preloaded unless configured."""
import sys
import types

import pytest

from shared import zerogpu


@pytest.fixture
def spaces_module(monkeypatch):
    """Install a fake `spaces` package; yields a function that sets its ZeroGPU flag."""
    fake = types.ModuleType("spaces")
    fake.calls = []

    def GPU(duration=60):
        fake.calls.append(duration)
        return lambda fn: ("on the GPU", fn)

    fake.GPU = GPU
    monkeypatch.setitem(sys.modules, "spaces", fake)
    zerogpu.on_zero_gpu.cache_clear()

    def set_flag(value):
        fake.config = types.SimpleNamespace(Config=types.SimpleNamespace(zero_gpu=value))
        zerogpu.on_zero_gpu.cache_clear()
        return fake

    yield set_flag
    zerogpu.on_zero_gpu.cache_clear()


def test_without_spaces_gpu_is_a_no_op_and_nothing_preloads(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces raises ImportError
    zerogpu.on_zero_gpu.cache_clear()
    try:
        assert zerogpu.on_zero_gpu() is False

        def work():
            return 42

        assert zerogpu.gpu(30)(work) is work
        assert zerogpu.start_up_models(()) == ()
        assert zerogpu.start_up_models(("sentiment",)) == ("sentiment",)
    finally:
        zerogpu.on_zero_gpu.cache_clear()


def test_on_zero_gpu_functions_are_wrapped_and_every_model_preloads(spaces_module):
    fake = spaces_module(True)
    assert zerogpu.on_zero_gpu() is True
    wrapped = zerogpu.gpu(120)(len)
    assert wrapped == ("on the GPU", len) and fake.calls == [120]
    assert zerogpu.start_up_models(()) == ("all",), "eager mode: weights load before any GPU call"
    assert zerogpu.start_up_models(("image-generator",)) == ("image-generator",), "a configured list wins"


def test_spaces_off_zero_gpu_hardware_is_not_zero_gpu(spaces_module, monkeypatch):
    spaces_module(False)
    assert zerogpu.on_zero_gpu() is False
    spaces_module(None)  # an older `spaces` without the flag: the Space's environment says
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert zerogpu.on_zero_gpu() is True
