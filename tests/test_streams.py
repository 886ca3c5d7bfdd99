"""shared/streams.py: the final update of a stream, with the stream's clean-up run."""
from shared.streams import run_to_end


def test_run_to_end_returns_the_last_update_after_the_stream_cleans_up():
    events = []

    def stream():
        try:
            yield from ("first", "second", "final")
        finally:
            events.append("closed")

    assert run_to_end(stream()) == "final" and events == ["closed"]
    assert run_to_end(iter(())) is None
