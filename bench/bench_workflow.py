"""Time per step of the customer-call workflow on the bundled 1-minute English call, against the same
products called directly in the same run (what the workflow adds over its parts).

    python bench/bench_workflow.py                         # the bundled English example, default models
    python bench/bench_workflow.py --audio my_call.wav --copy-model qwen-0.5b --runs 2

Every model is loaded (and each path warmed) before timing. Goal: the workflow adds at most 5% over its
parts; a 1-minute English call finishes in at most 60 s on this CPU with the default models.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def workflow(audio: str, options) -> tuple[dict, object]:
    from workflows.customer_call.pipeline import analyse

    start = time.perf_counter()
    for call in analyse(audio, "auto", options=options):
        pass
    return {**call.timings, "total": time.perf_counter() - start}, call


def parts(audio: str, call, options) -> dict:
    """Each product's plain function on what the workflow gave it, timed the same way."""
    from products.copy.chat import chat
    from products.sentiment import core as sentiment
    from shared.api.capabilities import ChatOptions
    from shared.streams import run_to_end
    from workflows.customer_call import prompts, steps

    times = {}
    start = time.perf_counter()
    run_to_end(steps.transcribe(audio, "auto", threading.Event(), options))
    times["transcript"] = time.perf_counter() - start
    customer = call.customer()
    texts = [t.text for t in call.turns if t.speaker == customer]
    start = time.perf_counter()
    sentiment.score_with_clauses(texts, call.language)
    times["sentiment"] = time.perf_counter() - start
    start = time.perf_counter()
    "".join(chat(options.copy_model or "qwen-1.5b", prompts.extraction_messages(call),
                 ChatOptions(max_tokens=700, temperature=0.0, seed=options.seed, grammar=prompts.ITEMS_GRAMMAR,
                             repetition_penalty=1.15),
                 threading.Event()).deltas)
    times["issues"] = time.perf_counter() - start
    start = time.perf_counter()
    run_to_end(steps.write_email(call, threading.Event(), options))
    times["email"] = time.perf_counter() - start
    start = time.perf_counter()
    steps.make_image(call.image_prompt, options)
    times["image"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", default=str(ROOT / "assets" / "calls" / "en_grinder_noise.flac"))
    parser.add_argument("--copy-model", default=None, help="default: the copy product's default model")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    import products  # noqa: F401  (registers the products)
    from workflows.customer_call.steps import Options

    options = Options(copy_model=args.copy_model)
    print("warming every model (not timed) ...", flush=True)
    _, call = workflow(args.audio, options)
    rows = []
    for _ in range(args.runs):
        timed, call = workflow(args.audio, options)
        direct = parts(args.audio, call, options)
        rows.append((timed, direct))
    steps_ = ["transcript", "sentiment", "issues", "email", "image", "total"]
    duration = max(t.end for t in call.turns)
    print(f"\n{Path(args.audio).name}: {duration:.0f} s of audio, {len(call.turns)} turns, {len(call.items)} items, "
          f"copy model {options.copy_model or 'default'}, {os.cpu_count()} CPUs")
    print(f"{'step':12} {'workflow s':>11} {'products s':>11} {'ratio':>7}")
    for step in steps_:
        w = sum(r[0][step] for r in rows) / len(rows)
        p = sum(r[1][step] for r in rows) / len(rows)
        print(f"{step:12} {w:11.2f} {p:11.2f} {w / p if p else 0:7.2f}")
    total = sum(r[0]["total"] for r in rows) / len(rows)
    print(f"\nthe whole call: {total:.1f} s (goal: at most 60 s for a 1-minute call)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
