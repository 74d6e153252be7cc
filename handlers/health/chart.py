"""The twelve-month chart of `/doughnut stats`: a small PNG, drawn with matplotlib (Agg).

matplotlib is the optional extra `charts` (`pip install "doughnut[charts]"`): without it,
`available()` is False and `/doughnut stats` sends the text alone (and the log says so once).
It is imported only to draw (after the ack, in a worker thread), so starting the bot never
waits for it; the drawing uses a `Figure` and an Agg canvas of its own (no pyplot state).
"""

from __future__ import annotations

import importlib.util
import io
import logging

from bot.core.health import Monthly

log = logging.getLogger(__name__)

MATPLOTLIB = importlib.util.find_spec("matplotlib")  # None without the `charts` extra
_said_missing = False


def available() -> bool:
    """True when matplotlib is here; logs once per process that it is not."""
    global _said_missing
    if MATPLOTLIB is None and not _said_missing:
        _said_missing = True
        log.warning(
            'charts are off: matplotlib is not installed (pip install "doughnut[charts]"); '
            "/doughnut stats sends the text alone"
        )
    return MATPLOTLIB is not None


def render(monthly: Monthly) -> bytes:
    """Lessons captured / validated / reused (bars) and active members (line), per month."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [m[2:] for m in monthly.months]  # "26-01": short enough for twelve months
    x = range(len(labels))
    width = 0.27
    series = (
        ("captured", monthly.captured, -width),
        ("validated", monthly.validated, 0.0),
        ("reused", monthly.reused, width),
    )
    for label, values, shift in series:
        axes.bar([i + shift for i in x], values, width, label=f"lessons {label}")
    axes.plot(list(x), monthly.active, color="black", marker="o", label="active members")
    axes.set_xticks(list(x), labels, fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    # A `$` would start mathtext: a community's name is only text.
    name = monthly.community.replace("$", r"\$")
    axes.set_title(f"{name}: the last 12 months", fontsize=9)
    axes.legend(fontsize=7, loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
