"""products/copy/tab.py without a model: the inputs are named once, Regenerate changes only the seed, and the
handler hands the values to generate (a seed that cannot be one gets a clear message)."""
import inspect

import pytest

from products.copy import core, tab
from products.copy.templates import TEMPLATES, Brief


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

    # Through the real handler: generate gets the brief and options made of these values, seed -1 (random).
    monkeypatch.undo()
    asked = fake_generate(monkeypatch)
    assert len(list(tab.regenerate(*args, request=None, progress=None))) == 1
    brief, template, language, options, model = asked[0]
    assert brief == Brief("BrewMate", "a coffee maker", "", "", "friendly", "", "")
    assert (template, language, model) == ("tagline", "en", "qwen-0.5b")
    assert options == core.Options(variants=2, temperature=0.7, top_p=0.9, max_new_tokens=0, seed=-1)


def fake_generate(monkeypatch) -> list:
    """Replace core.generate with one that records what the tab asked and yields one partial update."""
    asked = []

    def generate(brief, template, language, options, model, **kwargs):
        asked.append((brief, template, language, options, model))
        yield core.Update(texts=["Brew better"], template=TEMPLATES[template], lang=language)

    monkeypatch.setattr(core, "generate", generate)
    return asked


def test_write_copy_hands_the_seed_it_was_given_to_generate(monkeypatch):
    asked = fake_generate(monkeypatch)
    args = ["BrewMate", "a coffee maker", "", "", "friendly", "en", "", "", "tagline", 1, "qwen-0.5b", 0.3, 0.8, 16]
    list(tab.write_copy(*args, 1234, request=None, progress=None))
    assert asked[-1][3] == core.Options(variants=1, temperature=0.3, top_p=0.8, max_new_tokens=16, seed=1234)


def test_a_seed_past_64_bits_gets_a_clear_message():
    import gradio as gr

    args = ["BrewMate", "a coffee maker", "", "", "friendly", "en", "", "", "tagline", 1, "qwen-0.5b", 0.7, 0.9, 0]
    with pytest.raises(gr.Error, match="not a whole number from 0 to 9223372036854775807"):
        list(tab.write_copy(*args, 1e30, request=None, progress=None))


def test_the_tab_wires_generate_and_regenerate_to_the_same_inputs():
    import gradio as gr

    with gr.Blocks() as demo:
        tab.build_tab()
    events = {d.api_name: d for d in demo.fns.values() if d.api_name in ("copy_generate", "copy_regenerate")}
    generate, regenerate = events["copy_generate"], events["copy_regenerate"]
    assert len(generate.inputs) == len(tab.INPUTS)
    assert [b._id for b in generate.inputs] == [b._id for b in regenerate.inputs]
