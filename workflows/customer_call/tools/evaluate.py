"""Run the customer-call pipeline on the scripted calls and score it against their answer keys.

    python -m workflows.customer_call.tools.evaluate --split held_out_3   # the calls to report, up to the email
    python -m workflows.customer_call.tools.evaluate --split tune         # the 2 calls prompts may be tuned on
    python -m workflows.customer_call.tools.evaluate --split all --json out/call_eval.json
    python -m workflows.customer_call.tools.evaluate --from-script     # from the true (corrected) transcript

Audio: the bundled examples come from assets/calls/; any other call is spoken by make_audio.py into the
cache folder (out/calls/ by default) the first time it is needed, or again when its script changed
(deterministic, a few seconds each). The answer key always comes from calls.py.
Each call runs `analyse(audio, <its language>, upto=...)` and is scored by score.py; the table shows each
call, then the means per split and language against the goals (found >= 0.8, precision >= 0.9,
email coverage >= 0.8). Report the latest round (`held_out_3`, written before the third round of prompt
work); earlier rounds' calls have been read since, so they count as tuned on (see calls.py).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from workflows.customer_call.tools import score as scoring
from workflows.customer_call.tools.calls import BY_ID, Script, select

ROOT = Path(__file__).resolve().parents[3]
BUNDLED = ROOT / "assets" / "calls"
CACHE = ROOT / "out" / "calls"
SHOWN_STEPS = ("transcript", "sentiment", "issues", "email", "image")


def audio_for(script: Script, cache: Path = CACHE, bundled: Path = BUNDLED) -> tuple[Path, dict]:
    """The call's audio and its key: the JSON written beside the audio (true turn times), with the
    answer key taken from calls.py. Made into `cache` when missing or spoken from other text."""
    from workflows.customer_call.tools.make_audio import make

    texts = [text for _, text in script.turns]
    for folder in (bundled, cache, None):
        if folder is None:
            audio = make(script, cache, force=True)
            folder = cache
        audio, meta = folder / f"{script.id}.flac", folder / f"{script.id}.json"
        if audio.exists() and meta.exists():
            data = json.loads(meta.read_text(encoding="utf-8"))
            if [t["text"] for t in data.get("turns", [])] == texts:
                key = script.to_json()
                return audio, {**data, "complaints": key["complaints"], "liked": key["liked"]}
    raise RuntimeError(f"could not make the audio of {script.id}")


def run_call(audio: Path, language: str, upto: str):
    """The last Call `analyse` yields (imported here: the scoring needs no models)."""
    from workflows.customer_call.pipeline import analyse

    last = None
    for last in analyse(str(audio), language, upto=upto):
        pass
    return last


def run_from_script(key: dict, audio: Path, language: str, upto: str):
    """The steps after the transcript on the call's true turns: what the workflow gives once a user has
    corrected the transcript in the tab (re-run from "sentiment"). Speakers are labelled as a perfect
    diarization would; roles are still guessed by the pipeline's own rule."""
    from workflows.customer_call import steps
    from workflows.customer_call.pipeline import Call, Turn, analyse

    labels = {}
    turns = [Turn(labels.setdefault(t["speaker"], f"SPEAKER_{len(labels):02d}"), t["start"], t["end"], t["text"])
             for t in key["turns"]]
    call = Call(audio=str(audio), language=language, turns=turns, done=["transcript"])
    call.roles = steps.guess_roles(call.turns)
    call.names = {speaker: steps.default_name(role, language) for speaker, role in call.roles.items()}
    last = None
    for last in analyse(str(audio), language, call=call, from_step="sentiment", upto=upto):
        pass
    return last


def _fmt(value, width: int = 6) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.2f}"


def _row_line(name: str, r: dict, steps: list[str]) -> str:
    times = " ".join(f"{r['timings'].get(s, 0.0):>7.1f}" if s in r.get("timings", {}) else f"{'-':>7}"
                     for s in steps)
    return (f"{name:<30} {_fmt(r.get('found'))} {_fmt(r.get('precision'))} {_fmt(r.get('email'))} "
            f"{_fmt(r.get('roles'))} {_fmt(r.get('role_time'))} {_fmt(r.get('liked_found'))} {times}")


def report(rows: list[dict], steps: list[str]) -> dict:
    """Print the per-call table and the means per split x language; return the summaries."""
    head = (f"{'call':<30} {'found':>6} {'prec':>6} {'email':>6} {'roles':>6} {'roleT':>6} {'liked':>6} "
            + " ".join(f"{s[:7]:>7}" for s in steps))
    print(head + "\n" + "-" * len(head))
    for r in rows:
        extra = f"   ({r['items']} items, {r['speakers']} speakers)" if "items" in r else ""
        print(_row_line(r["id"], r, steps) + extra)
        for miss in r.get("unmatched", []):
            print(f"{'':<32}not in key: {miss}")
        if r.get("error"):
            print(f"{'':<32}error: {r['error']}")
    groups: dict[str, list[dict]] = {}
    for r in rows:
        for name in (f"{r['split']}/{r['language']}", f"{r['split']}/all", f"all/{r['language']}", "all/all"):
            groups.setdefault(name, []).append(r)
    order = {"example": 0, "tune": 1, "held_out": 2, "held_out_2": 3, "held_out_3": 4, "all": 5, "en": 0, "zh": 1}
    summaries = {}
    for name, group in sorted(groups.items(), key=lambda g: [order.get(p, 9) for p in g[0].split("/")]):
        summaries[name] = scoring.means([r for r in group if not r.get("error")])
        summaries[name]["failed"] = sum(1 for r in group if r.get("error"))
    print("\nmeans" + " " * 25 + head[30:] + "\n" + "-" * len(head))
    for name, summary in summaries.items():
        goals = scoring.meets(summary)
        marks = " ".join(f"{g}:{'ok' if v else 'MISS'}" for g, v in goals.items() if v is not None)
        failed = f", {summary['failed']} failed" if summary["failed"] else ""
        print(_row_line(f"{name} ({summary['calls']}{failed})", summary, steps) + f"   {marks}")
    print("\ngoals: " + ", ".join(f"{k} >= {v}" for k, v in scoring.GOALS.items())
          + "   (found: complaints found; prec: items that match the key; email: complaints the email"
          " answers; roles: diarized speakers given the right role; roleT: share of speech time with the"
          " right role; liked: likes found)")
    return summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="held_out_3",
                        choices=("held_out", "held_out_2", "held_out_3", "tune", "example", "all"))
    parser.add_argument("--ids", nargs="+", choices=sorted(BY_ID), help="only these calls")
    parser.add_argument("--upto", default="email", choices=("transcript", "sentiment", "issues", "email", "image"))
    parser.add_argument("--auto-language", action="store_true",
                        help="let the pipeline detect the language instead of passing the call's")
    parser.add_argument("--from-script", action="store_true",
                        help="skip speech-to-text: start from the call's true transcript (a corrected one)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where generated call audio goes")
    parser.add_argument("--json", type=Path, default=ROOT / "out" / "call_eval.json", help="results file")
    args = parser.parse_args(argv)

    scripts = [BY_ID[i] for i in args.ids] if args.ids else select(args.split)
    steps = list(SHOWN_STEPS[:SHOWN_STEPS.index(args.upto) + 1])
    rows = []
    for script in scripts:
        audio, key = audio_for(script, args.cache)
        row = {"id": script.id, "language": script.language, "split": script.split, "audio": str(audio),
               "duration": key.get("duration")}
        started = time.perf_counter()
        try:
            if args.from_script:
                call = run_from_script(key, audio, script.language, args.upto)
            else:
                call = run_call(audio, "auto" if args.auto_language else script.language, args.upto)
            row.update(scoring.score(call, key))
            row["detected_language"] = getattr(call, "language", None)
            row["email_text"] = getattr(call, "email", "")
            row["extracted"] = [{"kind": i.kind, "issue": i.issue, "evidence": i.evidence}
                                for i in getattr(call, "items", [])]
        except Exception as exc:  # noqa: BLE001  (one broken call must not hide the others' scores)
            row.update({"error": f"{type(exc).__name__}: {exc}", "timings": {}})
        row["wall_s"] = round(time.perf_counter() - started, 2)
        rows.append(row)
        print(f"[{len(rows)}/{len(scripts)}] {script.id}: {row.get('error') or 'done'} in {row['wall_s']} s",
              file=sys.stderr, flush=True)
    summaries = report(rows, steps)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"split": args.split, "upto": args.upto, "from_script": args.from_script, "goals": scoring.GOALS,
                                     "calls": rows, "means": summaries}, ensure_ascii=False, indent=1) + "\n",
                         encoding="utf-8")
    print(f"\nwrote {args.json}")
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
