"""The results chart: stacked daily bars of pass / fail / refer, as inline SVG (server side)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "refer": "#f9a825", "other": "#78909c"}
WIDTH, HEIGHT, PAD = 720, 240, 32


@dataclass(frozen=True, slots=True)
class DayCounts:
    day: str
    passed: int
    failed: int
    referred: int
    other: int

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.referred + self.other

    def parts(self) -> tuple[tuple[str, int], ...]:
        return (("pass", self.passed), ("fail", self.failed), ("refer", self.referred),
                ("other", self.other))


def daily_bars(days: Sequence[DayCounts]) -> str:
    """An SVG document fragment; empty days give an empty chart with its axis."""
    top = max((d.total for d in days), default=0) or 1
    slot = (WIDTH - 2 * PAD) / max(len(days), 1)
    body = [_axis(top)]
    for i, day in enumerate(days):
        body.extend(_bar(day, PAD + i * slot + slot * 0.15, slot * 0.7, top))
    body.append(_legend())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id="results-chart" '
            f'viewBox="0 0 {WIDTH} {HEIGHT + 40}" width="{WIDTH}" height="{HEIGHT + 40}">'
            f'<title>results per day</title>{"".join(body)}</svg>')


def _axis(top: int) -> str:
    return (f'<line x1="{PAD}" y1="{HEIGHT}" x2="{WIDTH - PAD}" y2="{HEIGHT}" stroke="#333"/>'
            f'<text x="4" y="{PAD}" font-size="11">{top}</text>'
            f'<text x="4" y="{HEIGHT}" font-size="11">0</text>')


def _bar(day: DayCounts, x: float, width: float, top: int) -> list[str]:
    scale, y, out = (HEIGHT - PAD) / top, float(HEIGHT), []
    for name, count in day.parts():
        if count:
            h = count * scale
            y -= h
            out.append(f'<rect class="bar-{name}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                       f'height="{h:.1f}" fill="{COLOURS[name]}"><title>{escape(day.day)} '
                       f'{name}: {count}</title></rect>')
    out.append(f'<text x="{x:.1f}" y="{HEIGHT + 14}" font-size="10">{escape(day.day[5:])}</text>')
    return out


def _legend() -> str:
    items = []
    for i, (name, colour) in enumerate(COLOURS.items()):
        x = PAD + i * 90
        items.append(f'<rect x="{x}" y="{HEIGHT + 24}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{HEIGHT + 33}" font-size="11">{name}</text>')
    return "".join(items)
