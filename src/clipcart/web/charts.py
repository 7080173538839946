"""Server-side SVG charts (pure): a line over days and bars per day, scaled to a box, for the
templates to draw. No JavaScript: the numbers are in the page and in the aria labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, PAD = 320, 120, 8


@dataclass(frozen=True)
class Bar:
    """One bar: its box and what it stands for."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


def _format(value: int) -> str:
    return f"{value:,}"


def _bounds(values: list[int]) -> tuple[int, int, int]:
    low, high = min(*values, 0), max(*values, 0)
    return low, high, (high - low) or 1


def line_chart(
    history: list[tuple[date, int]],
    *,
    formatter: Callable[[int], str] = _format,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> dict[str, object]:
    """An SVG line (and the area under it) of one value per day."""
    values = [value for _, value in history] or [0]
    low, high, span = _bounds(values)
    inner_w, inner_h = width - 2 * PAD, height - 2 * PAD
    step = inner_w / max(len(values) - 1, 1)

    def y_of(value: int) -> float:
        return round(PAD + inner_h - (value - low) / span * inner_h, 1)

    points = [(round(PAD + index * step, 1), y_of(value)) for index, value in enumerate(values)]
    zero = y_of(0)
    area = f"M{points[0][0]},{zero} " + " ".join(f"L{x},{y}" for x, y in points)
    area += f" L{points[-1][0]},{zero} Z"
    return {
        "width": width,
        "height": height,
        "line": " ".join(f"{x},{y}" for x, y in points),
        "area": area,
        "zero": zero,
        "high": formatter(high),
        "low": formatter(low),
        "total": formatter(sum(values)),
        "first": history[0][0] if history else None,
        "last": history[-1][0] if history else None,
        "latest": formatter(values[-1]),
        "points": len(values),
    }


def bar_chart(
    history: list[tuple[date, int]],
    *,
    formatter: Callable[[int], str] = _format,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> dict[str, object]:
    """SVG bars of one value per day (negative days hang below the zero line)."""
    values = [value for _, value in history] or [0]
    low, high, span = _bounds(values)
    inner_w, inner_h = width - 2 * PAD, height - 2 * PAD
    slot = inner_w / max(len(values), 1)
    zero = PAD + inner_h - (0 - low) / span * inner_h
    bars = []
    for index, (day, value) in enumerate(history):
        top = PAD + inner_h - (max(value, 0) - low) / span * inner_h
        bottom = PAD + inner_h - (min(value, 0) - low) / span * inner_h
        bars.append(
            Bar(
                x=round(PAD + index * slot + slot * 0.15, 1),
                y=round(top, 1),
                width=round(slot * 0.7, 1),
                height=round(max(bottom - top, 0.0), 1),
                label=day.strftime("%d %b"),
                value=formatter(value),
            )
        )
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "zero": round(zero, 1),
        "high": formatter(high),
        "total": formatter(sum(values)),
        "first": history[0][0] if history else None,
        "last": history[-1][0] if history else None,
    }
