"""Sentiment: end-to-end time through the app (gradio_client) / the raw in-process call, warm.

    python bench/bench_sentiment.py [--n 30]

The app runs as it is deployed, `python app.py` in its own process; the raw call runs in this
process on the same embedded model files and the same torch thread count: `core.score_texts([text])`
(the product's own function, model already loaded). The app call is `client.predict(...,
api_name="/sentiment")`. Both are warmed up, then timed alternately; medians and their ratio are
printed. (In one process, gradio_client's polling loop would steal the GIL from the model.)
Goal: ratio 1.10 or less.

Gradio's own protocol (queue join, then server-sent events polled every 50 ms) costs a fixed
round trip whatever the function does, so the same run also times an echo endpoint of an empty
app ("floor"), and prints the app's cost beyond that floor relative to the raw call.
"""
import argparse
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    from gradio_client import Client

    from products.sentiment import core

    import gradio as gr

    from bench.app_server import free_port, start_app

    server, url, _ = start_app()
    client = Client(url, verbose=False)
    with gr.Blocks() as echo_app:
        box = gr.Textbox()
        gr.Button().click(lambda x: x, box, box, api_name="echo")
    _, echo_url, _ = echo_app.queue().launch(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    echo = Client(echo_url, verbose=False)
    for _ in range(3):
        echo.predict("hi", api_name="/echo")
    floor = []
    for _ in range(args.n):
        t = time.perf_counter()
        echo.predict("hi", api_name="/echo")
        floor.append(time.perf_counter() - t)
    floor_ms = statistics.median(floor) * 1000
    print(f"Gradio round-trip floor (echo endpoint, same machine): {floor_ms:.1f} ms")
    print(f"{'input':32} {'raw ms':>8} {'app ms':>8} {'ratio':>6} {'(app-floor)/raw':>16}")
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
        print(f"{name:32} {r:8.1f} {a:8.1f} {a / r:6.2f} {(a - floor_ms) / r:16.2f}", flush=True)
    server.terminate()
    echo_app.close()


if __name__ == "__main__":
    main()
