"""products/copy/engines.py without a model: the repairs reach each engine's `complete` the same way."""
import threading

from products.copy import engines


def test_completer_hands_the_requests_to_the_engines_complete(monkeypatch):
    calls = []

    class Server:
        def complete(self, requests, n, stop, seed):
            calls.append(("server", requests, n, seed))
            return [["from the server"]]

    def fake(name):
        def complete(cm, requests, n, stop, seed=0, max_new=120):
            calls.append((name, requests, n, seed))
            return [[name]]
        return complete

    monkeypatch.setattr(engines, "llama_complete", fake("llama.cpp"))
    monkeypatch.setattr(engines, "transformers_complete", fake("transformers"))
    stop, requests = threading.Event(), [([{"role": "user", "content": "x"}], "", [])]
    assert engines.completer(Server(), "openai", stop, 5)(requests, 2) == [["from the server"]]
    assert engines.completer(object(), "llama.cpp", stop, 6)(requests, 2) == [["llama.cpp"]]
    assert engines.completer(object(), "transformers", stop, 7)(requests, 1) == [["transformers"]]
    assert calls == [("server", requests, 2, 5), ("llama.cpp", requests, 2, 6), ("transformers", requests, 1, 7)]
