"""What a user takes away from a call: a report (Markdown and HTML: the transcript with speaker names,
the sentiment chart, the table of likes and complaints, the email, the image), the JSON of every
step, and subtitles (SRT, VTT) with the speakers' names."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from shared.api.capabilities import Segment
from shared.api.subtitles import as_srt, as_vtt
from shared.outputs import request_dir


def _mmss(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def subtitles(call, kind: str) -> str:
    """One cue per turn, led by the speaker's name (the API's SRT/VTT writer)."""
    cues = [Segment(i, t.start, t.end, t.text, call.name(t.speaker)) for i, t in enumerate(call.turns)]
    return as_srt(cues) if kind == "srt" else as_vtt(cues)


def sentiment_svg(call, width: int = 640, height: int = 160) -> str:
    """The customer's sentiment over the call (positive minus negative), as a small inline SVG."""
    points = [(row["time"], row["score"]) for row in call.sentiment]
    if not points:
        return ""
    end = max([t.end for t in call.turns] + [1.0])
    xy = [(20 + (width - 40) * t / end, height / 2 - (height / 2 - 15) * s) for t, s in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#4f46e5"/>' for x, y in xy)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
            f'<line x1="20" y1="{height / 2}" x2="{width - 20}" y2="{height / 2}" stroke="#ccc"/>'
            f'<polyline points="{path}" fill="none" stroke="#4f46e5" stroke-width="2"/>{dots}</svg>')


def markdown(call) -> str:
    lines = [f"# Customer call: {call.topic or 'report'}", ""]
    if call.company:
        lines += [f"Company: {call.company}", ""]
    lines += ["## Transcript", ""]
    for turn in call.turns:
        lines.append(f"**{call.name(turn.speaker)}** ({_mmss(turn.start)}): {turn.text}  ")
    lines += ["", "## Customer sentiment", "", "| time | turn | label | score |", "|---|---|---|---|"]
    for row in call.sentiment:
        marker = " (changed)" if row["turn"] in call.changes else ""
        lines.append(f"| {_mmss(row['time'])} | {row['turn'] + 1} | {row['label']}{marker} | {row['score']:+.2f} |")
    lines += ["", "## Liked and complained about", "", "| kind | issue | evidence | time | severity |",
              "|---|---|---|---|---|"]
    for item in call.items:
        lines.append(f"| {item.kind} | {_cell(item.issue)} | {_cell(item.evidence)} | {_mmss(item.time)} | "
                     f"{item.severity} |")
    lines += ["", "## Follow-up email", "", call.email or "(not written)", ""]
    if call.image:
        lines += ["## Header image", "", f"![{call.image_prompt}](header.png)", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def html_report(call) -> str:
    esc = html.escape
    rows = "".join(f"<p><b>{esc(call.name(t.speaker))}</b> <small>{_mmss(t.start)}</small>: {esc(t.text)}</p>"
                   for t in call.turns)
    items = "".join(f"<tr><td>{esc(i.kind)}</td><td>{esc(i.issue)}</td><td>{esc(i.evidence)}</td>"
                    f"<td>{_mmss(i.time)}</td><td>{esc(i.severity)}</td></tr>" for i in call.items)
    image = ""
    if call.image and Path(call.image).exists():
        data = base64.b64encode(Path(call.image).read_bytes()).decode()
        image = f'<h2>Header image</h2><img alt="{esc(call.image_prompt)}" src="data:image/png;base64,{data}">'
    email = esc(call.email or "").replace("\n", "<br>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Customer call</title></head><body>"
            f"<h1>Customer call: {esc(call.topic or 'report')}</h1><h2>Transcript</h2>{rows}"
            f"<h2>Customer sentiment</h2>{sentiment_svg(call)}"
            f"<h2>Liked and complained about</h2><table border='1'><tr><th>kind</th><th>issue</th><th>evidence</th>"
            f"<th>time</th><th>severity</th></tr>{items}</table><h2>Follow-up email</h2><p>{email}</p>{image}"
            f"</body></html>")


def write_all(call) -> list[str]:
    """Every file a user can take away, in a folder of its own (removed after AIPM_OUTPUT_TTL)."""
    folder = request_dir("call")
    files = {"call-report.md": markdown(call), "call-report.html": html_report(call),
             "call.json": json.dumps(call.to_json(), ensure_ascii=False, indent=2),
             "call.srt": subtitles(call, "srt"), "call.vtt": subtitles(call, "vtt")}
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    if call.image and Path(call.image).exists():
        header = folder / "header.png"
        header.write_bytes(Path(call.image).read_bytes())
        paths.append(str(header))
    return paths
