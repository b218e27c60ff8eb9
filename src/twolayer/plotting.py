"""One figure style, one colour per method, measured-against-predicted overlays."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: A fixed colour per method, used by every chapter (colour-blind-safe Okabe-Ito palette).
COLORS = {
    "GD": "#0072B2",
    "NGD": "#D55E00",
    "K-FAC": "#009E73",
    "GGN": "#CC79A7",
    "HB": "#E69F00",
    "NAG": "#56B4E9",
    "two-timescale": "#009E73",
    "equal-timescale": "#D55E00",
    "limit": "#000000",
    "theory": "#000000",
}

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "font.size": 10,
    "lines.linewidth": 1.6,
}


def apply_style() -> None:
    """Set the book's matplotlib style (call once at the top of a chapter)."""
    mpl.rcParams.update(_STYLE)


def color(method: str, default: str = "#555555") -> str:
    """The colour of ``method`` (see :data:`COLORS`)."""
    return COLORS.get(method, default)


def plot_trace(ax, trace, values=None, *, label=None, color=None, relative=False, **kw):
    """Plot one trace's loss (or ``values``) on a log axis; mark divergence with a cross.

    Non-finite entries are not drawn: a run that diverged ends at its last finite value, with a
    cross and a note in the legend.
    """
    y = np.asarray(trace.loss if values is None else values, dtype=float)
    if relative:
        y = y / y[0]
    k = np.arange(len(y))
    ok = np.isfinite(y)
    col = color or globals()["color"](trace.name)
    lab = label or trace.name
    if trace.diverged:
        lab = f"{lab} (diverged at step {trace.first_nonfinite})"
    ax.semilogy(k[ok], y[ok], color=col, label=lab, **kw)
    if trace.diverged and ok.any():
        last = np.flatnonzero(ok)[-1]
        ax.plot(k[last], y[last], "x", color=col, ms=8, mew=2)
    ax.set_xlabel("step $k$")
    return ax


def plot_bound(ax, bound, *, label="theorem's bound", **kw):
    """Overlay a predicted bound (dashed black) on a log axis."""
    kw.setdefault("color", COLORS["theory"])
    kw.setdefault("ls", "--")
    ax.semilogy(np.arange(len(bound)), bound, label=label, **kw)
    return ax


def measured_vs_predicted(ax, x, measured, predicted, *, xlabel, ylabel, loglog=True,
                          measured_label="measured", predicted_label="predicted", color=None):
    """Scatter of measured values with a predicted curve over the same ``x``."""
    plot = ax.loglog if loglog else ax.plot
    plot(x, predicted, "--", color=COLORS["theory"], label=predicted_label)
    plot(x, measured, "o", color=color or COLORS["GD"], label=measured_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def figure(nrows: int = 1, ncols: int = 1, *, width: float = 6.4, height: float = 4.0, **kw):
    """``plt.subplots`` in the book's style, sized ``width x height`` per panel."""
    apply_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                        constrained_layout=True, **kw)
