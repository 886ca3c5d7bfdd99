"""Sentiment: end-to-end time through the app (gradio_client) / the raw in-process call, warm.

    python bench/bench_sentiment.py [--n 30]

One process: the app is launched in-process, so the API and the raw call use the very same
loaded model. For each input size the raw call is `core.score_texts([text])` (the product's own
function, the model already leased and loaded), the app call is `client.predict(..., api_name=
"/sentiment")`; both are warmed up, then timed alternately; medians and their ratio are printed.
Goal: ratio 1.10 or less.
"""
import argparse
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import shared  # noqa: F401,E402

TEXTS = {
    "short (1 sentence)": "I absolutely love this phone, the battery lasts for days!",
    "review (~120 words)": ("I bought this blender for smoothies and it has been a mixed experience. The motor is "
                            "powerful and crushes ice without trouble, and cleaning is easy since the jar is "
                            "dishwasher safe. However, the lid leaks if you fill it past two thirds, and after "
                            "three weeks the base started making a grinding noise. Customer support answered "
                            "quickly and offered a replacement part, which I appreciated, but shipping took ten "
                            "days. For the price I expected better build quality. It is fine for occasional use, "
                            "but I would not recommend it to anyone who blends every day. ") ,
    "long (~1,500 tokens, windowed)": ("The hotel room was spacious and clean, but the air conditioning was noisy and "
                                       "the staff ignored our complaints for two days. " * 60),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    import app
    from gradio_client import Client

    from products.sentiment import core

    _, url, _ = app.launch(app.demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    client = Client(url, verbose=False)
    print(f"{'input':32} {'raw ms':>8} {'app ms':>8} {'ratio':>6}")
    for name, text in TEXTS.items():
        for _ in range(3):  # warm: model loaded, caches filled
            core.score_texts([text])
            client.predict(text, "auto", api_name="/sentiment")
        raw, api = [], []
        for _ in range(args.n):
            t = time.perf_counter()
            core.score_texts([text])
            raw.append(time.perf_counter() - t)
            t = time.perf_counter()
            client.predict(text, "auto", api_name="/sentiment")
            api.append(time.perf_counter() - t)
        r, a = statistics.median(raw) * 1000, statistics.median(api) * 1000
        print(f"{name:32} {r:8.1f} {a:8.1f} {a / r:6.2f}", flush=True)
    app.demo.close()


if __name__ == "__main__":
    main()
