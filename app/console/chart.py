"""Bar charts of the audit log's counts as SVG trees, with a summary and a table for each.

The console draws two: sign-ins and sign-ups per day (two bars a day) and failed logins per
hour. ``bar_chart`` returns a ``Node`` tree that ``view`` turns into SVG elements (text only
through ``textContent``); the colours come from CSS classes (``series-0``, ``series-1``), so the
page's light and dark themes apply and no inline style is needed under the CSP. ``summary`` is
the chart's accessible name; ``table_rows`` the same numbers for a ``<table>``.

Standard library only; times are the server's bucket starts in Unix seconds, shown in UTC.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 10, 26


@dataclass
class Node:
    """One SVG element: tag, attributes, children and text (set as ``textContent``)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def find_all(self, tag: str) -> list[Node]:
        """Every descendant (and itself) with this tag, in document order."""
        found = [self] if self.tag == tag else []
        for child in self.children:
            found += child.find_all(tag)
        return found


@dataclass(frozen=True)
class Series:
    """A named run of counts, one per bucket."""

    name: str
    counts: list[int]


def day_label(start: int) -> str:
    """``3 Nov`` (UTC)."""
    stamp = time.gmtime(start)
    return f"{stamp.tm_mday} {time.strftime('%b', stamp)}"


def hour_label(start: int) -> str:
    """``14:00`` (UTC)."""
    return time.strftime("%H:00", time.gmtime(start))


def series_of(buckets: list[dict[str, Any]], name: str) -> tuple[list[int], Series]:
    """The bucket starts and a ``Series`` from the server's ``[{start, count}]``."""
    return ([int(b["start"]) for b in buckets],
            Series(name, [max(0, int(b["count"])) for b in buckets]))


def nice_top(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``value``."""
    top, steps = 1, (2, 5 / 2, 2)
    i = 0
    while top < value:
        top = int(top * steps[i % 3])
        i += 1
    return top


def bar_chart(starts: list[int], series: list[Series], label: str,
              label_every: int, label_of: Any = day_label) -> Node:
    """Bars for each bucket (one per series, side by side), a y axis from 0 to a round top,
    and a label under every ``label_every``-th bucket."""
    svg = Node("svg", {"viewBox": f"0 0 {WIDTH} {HEIGHT}", "class": "chart", "role": "img",
                       "aria-label": label, "focusable": "false"})
    top = nice_top(max([1, *[c for s in series for c in s.counts]]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    for value in (0, top // 2, top) if top > 1 else (0, top):
        y = base - plot_h * value / top
        svg.children.append(Node("line", {"x1": str(LEFT), "x2": str(WIDTH - RIGHT),
                                          "y1": f"{y:.1f}", "y2": f"{y:.1f}",
                                          "class": "grid"}))
        svg.children.append(Node("text", {"x": str(LEFT - 6), "y": f"{y + 4:.1f}",
                                          "class": "tick", "text-anchor": "end"}, text=str(value)))
    slot = plot_w / max(1, len(starts))
    bar_w = max(1.0, slot * 0.8 / max(1, len(series)))
    for i, start in enumerate(starts):
        x0 = LEFT + i * slot + slot * 0.1
        for j, one in enumerate(series):
            count = one.counts[i]
            h = plot_h * count / top
            bar = Node("rect", {"x": f"{x0 + j * bar_w:.1f}", "y": f"{base - h:.1f}",
                                "width": f"{bar_w:.1f}", "height": f"{h:.1f}",
                                "class": f"bar series-{j}"})
            bar.children.append(Node("title", text=f"{label_of(start)}: {count} {one.name}"))
            svg.children.append(bar)
        if i % label_every == 0:
            svg.children.append(Node("text", {"x": f"{LEFT + (i + 0.5) * slot:.1f}",
                                              "y": str(HEIGHT - 8), "class": "tick",
                                              "text-anchor": "middle"}, text=label_of(start)))
    return svg


def summary(series: Series, starts: list[int], span: str, label_of: Any = day_label) -> str:
    """One sentence: the total and the busiest bucket, e.g. for the chart's accessible name."""
    total = sum(series.counts)
    if total == 0:
        return f"No {series.name} in the last {span}."
    peak = max(range(len(series.counts)), key=lambda i: series.counts[i])
    return (f"{total} {series.name} in the last {span}; the most, "
            f"{series.counts[peak]}, at {label_of(starts[peak])}.")


def table_rows(starts: list[int], series: list[Series], label_of: Any = day_label
               ) -> list[list[str]]:
    """``[[label, count, count, ...], ...]``, one row per bucket, for the text table."""
    return [[label_of(start), *[str(s.counts[i]) for s in series]]
            for i, start in enumerate(starts)]
