"""products/copy/tab.py without a model: the inputs are named once, and Regenerate changes only the seed."""
import inspect

from products.copy import tab


def test_inputs_are_write_copys_parameters_in_order():
    parameters = list(inspect.signature(tab.write_copy).parameters)
    assert list(tab.INPUTS) == parameters[:len(tab.INPUTS)]
    assert parameters[len(tab.INPUTS):] == ["request", "progress"]


def test_regenerate_passes_every_input_by_name_with_a_fresh_seed(monkeypatch):
    seen = {}

    def fake_write_copy(**kwargs):
        seen.update(kwargs)
        yield "update"

    monkeypatch.setattr(tab, "write_copy", fake_write_copy)
    args = ["BrewMate", "a coffee maker", "", "", "friendly", "en", "", "", "tagline", 2, "qwen-0.5b",
            0.7, 0.9, 0, 1234]
    assert list(tab.regenerate(*args, request=None, progress=None)) == ["update"]
    assert seen.pop("seed") == -1 and seen.pop("request") is None and seen.pop("progress") is None
    assert seen == dict(zip(tab.INPUTS[:-1], args[:-1]))
    assert args[-1] == 1234  # the caller's values are not edited


def test_the_tab_wires_generate_and_regenerate_to_the_same_inputs():
    import gradio as gr

    with gr.Blocks() as demo:
        tab.build_tab()
    events = {d.api_name: d for d in demo.fns.values() if d.api_name in ("copy_generate", "copy_regenerate")}
    generate, regenerate = events["copy_generate"], events["copy_regenerate"]
    assert len(generate.inputs) == len(tab.INPUTS)
    assert [b._id for b in generate.inputs] == [b._id for b in regenerate.inputs]
