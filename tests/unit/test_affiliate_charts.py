"""The server-drawn charts (web/charts.py): scaled into their box, bars per day, negatives
below the zero line, and the creator center's figures added up per day."""

from __future__ import annotations

from datetime import date, timedelta

from clipcart.web import charts

DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(5)]


def test_a_line_spans_the_box_and_its_peak_touches_the_top() -> None:
    chart = charts.line_chart(list(zip(DAYS, [0, 5, 10, 5, 0], strict=True)))
    points = [tuple(map(float, point.split(","))) for point in str(chart["line"]).split()]
    assert [x for x, _ in points] == [8.0, 84.0, 160.0, 236.0, 312.0]
    assert min(y for _, y in points) == charts.PAD  # the highest day at the top
    assert points[0][1] == points[-1][1] == chart["zero"] == charts.HEIGHT - charts.PAD
    assert chart["total"] == "20" and chart["high"] == "10" and chart["latest"] == "0"


def test_bars_hang_below_zero_for_negative_days_and_label_each_day() -> None:
    chart = charts.bar_chart(
        list(zip(DAYS, [4, 0, -2, 8, 1], strict=True)), formatter=lambda v: f"${v}"
    )
    bars = chart["bars"]
    assert isinstance(bars, list) and len(bars) == 5
    zero = float(str(chart["zero"]))
    assert bars[1].height == 0.0
    assert bars[2].y == zero and bars[2].height > 0  # below the line
    assert bars[3].y == charts.PAD  # the best day reaches the top
    assert bars[3].height > bars[0].height > bars[4].height
    assert (bars[0].label, bars[0].value) == ("01 Nov", "$4")
    assert chart["total"] == "$11"


def test_an_empty_history_still_draws() -> None:
    assert charts.line_chart([])["line"] == "8.0,112.0"  # one point on the zero line
    assert charts.bar_chart([])["bars"] == []
