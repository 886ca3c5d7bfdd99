"""shared/memory.py: a model's bytes are measured from what it holds, each buffer counted once."""
import numpy as np
import pytest

from shared.memory import measure_bytes


class Wrapper:
    def __init__(self, **parts):
        self.__dict__.update(parts)


class SelfReporting:
    def memory_bytes(self):
        return 1234


def test_arrays_in_containers_and_attributes_are_counted_once():
    a = np.zeros(1000, np.float32)  # 4,000 bytes
    b = np.zeros((10, 10), np.float64)  # 800 bytes
    model = Wrapper(weights={"a": a, "again": a}, extra=[b, (b,)], name="text is not memory", size=5)
    assert measure_bytes(model) == 4000 + 800


def test_an_object_may_answer_for_itself_and_a_pipeline_through_its_components():
    assert measure_bytes(Wrapper(engine=SelfReporting(), other=np.zeros(10, np.uint8))) == 1234 + 10
    pipeline = Wrapper(components={"unet": np.zeros(100, np.float16), "vae": None}, config={"x": 1})
    assert measure_bytes(pipeline) == 200, "components, not every attribute, when a pipeline has them"
    assert measure_bytes(None) == 0 and measure_bytes("weights") == 0


def test_deep_nesting_stops_instead_of_recursing_forever():
    inner = np.zeros(8, np.uint8)
    deep = inner
    for _ in range(10):
        deep = [deep]
    assert measure_bytes(deep) == 0
    assert measure_bytes([[inner]]) == 8
    loop = Wrapper()
    loop.me = loop
    assert measure_bytes(loop) == 0


def test_torch_modules_and_views_of_one_storage_count_the_storage_once():
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(10, 5)  # 50 weights + 5 biases, float32
    base = torch.zeros(100)
    view = base[:50]  # the same storage
    assert measure_bytes(layer) == 55 * 4
    assert measure_bytes({"layer": layer, "t": base, "v": view}) == 55 * 4 + 100 * 4
