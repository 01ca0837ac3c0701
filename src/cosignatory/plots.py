"""Plots for forecasts (matplotlib, Agg backend: no display, no GUI toolkit).

Kept out of `core`: it writes files. Imported lazily by the CLI so that commands which
draw nothing never pay for importing matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter

from cosignatory.core.analysis.forecast import Forecast, format_span
from cosignatory.core.durations import format_duration

__all__ = ["plot_forecasts"]

_TICKS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 7 * 86400)
_MAX_POINTS = 2000  # points per curve: plenty for a step plot, keeps the PNG small


def _label_ticks(ticks: Sequence[int]) -> list[str]:
    return [format_duration(timedelta(seconds=t)) for t in ticks]


def plot_forecasts(forecasts: Sequence[Forecast], path: str, *, title: str = "") -> None:
    """One CDF per forecast: P(approved by t), with the TTL marked; writes a PNG."""
    if not forecasts:
        raise RuntimeError("plot_forecasts needs at least one forecast")
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    ttl = max(f.ttl.total_seconds() for f in forecasts)
    low = ttl
    colors: dict[str, str] = {}
    for f in forecasts:
        # "combat · `choe` granted `logistics`": same colour as "combat", dashed
        base, _, change = f.label.partition(" · ")
        color = colors.setdefault(base, f"C{len(colors) % 10}")
        finite = np.sort(f.samples[np.isfinite(f.samples) & (f.samples < f.ttl.total_seconds())])
        if finite.size:
            low = min(low, float(np.quantile(finite, 0.01)))
        n = f.samples.size
        step = max(1, finite.size // _MAX_POINTS)
        xs = np.concatenate([finite[::step], [f.ttl.total_seconds()]])
        ys = np.concatenate([(np.arange(0, finite.size, step) + 1) / n, [finite.size / n]])
        p50 = f.quantile("p50").value
        tag = f"p50 {format_span(p50)}" if p50 is not None else "p50 beyond TTL"
        ax.step(
            np.maximum(xs, 1.0),
            ys,
            where="post",
            linewidth=1.8,
            color=color,
            linestyle="--" if change else "-",
            label=f"{f.label.replace('`', '')}: {tag}, expires {f.p_expired:.1%}",
        )
    ax.axvline(ttl, color="0.3", linestyle="--", linewidth=1)
    ax.text(ttl, 0.02, " TTL", color="0.3", va="bottom", ha="right", rotation=90)
    ax.set_xscale("log")
    left = max(30.0, low / 2)
    ax.set_xlim(left, ttl * 1.15)
    ticks = [t for t in _TICKS if left <= t <= ttl * 1.15]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(ticks, _label_ticks(ticks))
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("P(approved by t)")
    ax.set_xlabel("time since proposal (log scale)")
    first = forecasts[0]
    ax.set_title(
        title or f"time to quorum: {first.action} by {first.proposer} ({first.runs:,} runs each)",
        fontsize=10,
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(Path(path), format="png")
    plt.close(fig)
