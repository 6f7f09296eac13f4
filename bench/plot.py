"""Draw the sync benchmark's results as a PNG: bytes and time per workload, ours vs peer vs limit.

Pillow is a dependency of the app already (scans), so the chart is drawn with it rather than
adding matplotlib. One row per link profile; on the left the bytes both ways, on the right
the wall time, each on a log scale (the workloads span 1 KB to 10 MB), with the link's
limit as a grey bar.

Command line (``bench/run sync`` calls it)::

    python -m bench.plot bench/results/sync.json --png bench/results/sync.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["draw", "main"]

COLOURS = {"ours": (31, 119, 180), "peer": (255, 127, 14), "limit": (150, 150, 150)}
SERIES = ("ours", "peer", "limit")
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")

PANEL_W, PANEL_H = 640, 300
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 70, 20, 40, 70


def _font(size: int, bold: bool = False) -> Any:
    from PIL import ImageFont

    names = ["DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", "LiberationSans-Regular.ttf"]
    for folder in FONT_DIRS:
        for name in names:
            path = Path(folder) / name
            if path.exists():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default()


def _value(row: dict[str, Any], series: str, what: str) -> float | None:
    """Return bytes (both ways) or seconds of one series of a row; None when missing."""
    if series == "limit":
        limit = row["limit"]
        return float(limit["bytes"] if what == "bytes" else limit["seconds"])
    m = row.get(series)
    if not m or not m.get("ok"):
        return None
    return float(m["bytes_up"] + m["bytes_down"] if what == "bytes" else m["wall_s"])


def _label(value: float, what: str) -> str:
    if what == "seconds":
        if value < 0.1:
            return f"{value * 1000:.0f}ms" if value >= 0.001 else f"{value * 1e6:.0f}µs"
        return f"{value:.1f}s" if value < 100 else f"{value:.0f}s"
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    return f"{value / 1e3:.0f}K" if value >= 1e4 else f"{value / 1e3:.1f}K"


def _panel(draw: Any, x0: int, y0: int, rows: list[dict[str, Any]], what: str, title: str) -> None:
    """Draw one grouped, log-scaled bar chart with its axis, labels and title."""
    small, normal = _font(11), _font(13, bold=True)
    draw.text((x0 + MARGIN_L, y0 + 10), title, fill="black", font=normal)
    values = [v for r in rows for s in SERIES if (v := _value(r, s, what)) and v > 0]
    if not values:
        draw.text((x0 + MARGIN_L, y0 + 60), "no data", fill="black", font=small)
        return
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    if high <= low:
        high = low * 10
    top, bottom = y0 + MARGIN_T, y0 + PANEL_H - MARGIN_B
    left, right = x0 + MARGIN_L, x0 + PANEL_W - MARGIN_R

    def y_of(v: float) -> float:
        frac = (math.log10(v) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return bottom - frac * (bottom - top)

    decade = low
    while decade <= high * 1.001:
        y = y_of(decade)
        draw.line([(left, y), (right, y)], fill=(225, 225, 225))
        draw.text((x0 + 5, y - 7), _label(decade, what), fill="black", font=small)
        decade *= 10
    draw.line([(left, top), (left, bottom), (right, bottom)], fill="black")
    group_w = (right - left) / max(1, len(rows))
    bar_w = group_w * 0.8 / len(SERIES)
    for i, row in enumerate(rows):
        gx = left + i * group_w + group_w * 0.1
        for j, series in enumerate(SERIES):
            v = _value(row, series, what)
            bx = gx + j * bar_w
            if v is None or v <= 0:
                draw.text((bx + 2, bottom - 14), "–", fill="black", font=small)
                continue
            draw.rectangle([bx, y_of(v), bx + bar_w - 2, bottom], fill=COLOURS[series])
        name = row["workload"]
        w = draw.textlength(name, font=small)
        draw.text((gx + (group_w * 0.8 - w) / 2, bottom + 6), name, fill="black", font=small)


def draw(results: dict[str, Any], png: Path | str) -> Path:
    """Draw ``results`` (the JSON of ``bench.sync_bench``) to ``png``; return its path."""
    from PIL import Image, ImageDraw

    profiles = list(results["profiles"])
    height = 50 + PANEL_H * len(profiles) + 40
    image = Image.new("RGB", (PANEL_W * 2, height), "white")
    pen = ImageDraw.Draw(image)
    heading = f"Weak-link sync: ours vs PouchDB peer vs link limit ({results['date'][:10]})"
    pen.text((MARGIN_L, 12), heading, fill="black", font=_font(16, bold=True))
    for k, name in enumerate(profiles):
        profile = results["profiles"][name]
        rows = [r for r in results["rows"] if r["profile"] == name]
        link = f"{name.upper()} ({profile['kbps']:g} kbit/s, {profile['rtt_ms']:g} ms RTT"
        link += f", cut every {profile['cut_every_s']:g} s)" if profile.get("cut_every_s") else ")"
        y = 45 + k * PANEL_H
        _panel(pen, 0, y, rows, "bytes", f"{link}: bytes up + down")
        _panel(pen, PANEL_W, y, rows, "seconds", f"{link}: wall time")
    legend_y = height - 30
    x = MARGIN_L
    for series in SERIES:
        pen.rectangle([x, legend_y, x + 14, legend_y + 14], fill=COLOURS[series])
        text = {"ours": "ours", "peer": "PouchDB peer", "limit": "link limit"}[series]
        pen.text((x + 20, legend_y), text, fill="black", font=_font(12))
        x += 40 + int(pen.textlength(text, font=_font(12)))
    pen.text(
        (x + 20, legend_y),
        "log scale; a dash: nothing to send, or the run did not finish",
        fill="grey",
        font=_font(12),
    )
    path = Path(png)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    """Read a results JSON and write the PNG."""
    parser = argparse.ArgumentParser(prog="python -m bench.plot", description=__doc__)
    parser.add_argument("results", type=Path, help="JSON written by bench.sync_bench")
    parser.add_argument("--png", type=Path, help="output (default: next to the JSON)")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text("utf-8"))
    path = draw(results, args.png or args.results.with_suffix(".png"))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
