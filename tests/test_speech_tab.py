"""products/speech/tab.py leaves the model, engine and option checks to core.transcribe, which makes
them before the file is decoded."""
import gradio as gr
import pytest


def _quiet(*args, **kwargs):
    pass


@pytest.mark.parametrize("field, value, message", [("model", "whisper-huge", "whisper-huge"),
                                                   ("language", "klingon", "klingon"),
                                                   ("task", "summarise", "summarise")])
def test_a_bad_choice_is_refused_by_core_before_the_file_is_decoded(tmp_path, field, value, message):
    from products.speech import tab

    missing = str(tmp_path / "never-decoded.wav")  # decoding it would fail with a file error instead
    stream = tab.transcribe(None, missing, **{field: value}, progress=_quiet)
    with pytest.raises(gr.Error, match=message):
        next(stream)
