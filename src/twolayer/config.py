"""The one knob for problem size, and the versions a chapter ran with.

``TWOLAYER_SCALE=quick`` (the default: CI, Binder, a laptop) or ``TWOLAYER_SCALE=paper`` (the
papers' sizes; `make paper`, minutes per chapter). The same chapter code runs at either scale; only sizes change.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

SCALES = ("quick", "paper")


def scale() -> str:
    """Return the problem-size scale chosen by the environment variable ``TWOLAYER_SCALE``."""
    value = os.environ.get("TWOLAYER_SCALE", "quick").strip().lower()
    if value not in SCALES:
        raise ValueError(
            f"TWOLAYER_SCALE must be one of {SCALES}, got {value!r}."
        )
    return value


def pick(quick, paper):
    """Return ``quick`` or ``paper`` according to :func:`scale`."""
    return paper if scale() == "paper" else quick


_PACKAGES = ("twolayer", "jax", "jaxlib", "numpy", "scipy", "matplotlib")


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of Python, the numerical stack and ``extra`` packages, plus the JAX backend."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES + tuple(extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    import jax

    out["jax backend"] = jax.default_backend()
    out["float64"] = str(bool(jax.config.jax_enable_x64))
    out["scale"] = scale()
    return out


def print_versions(extra: tuple[str, ...] = ()) -> None:
    """Print :func:`versions` as an aligned table (every chapter calls this in its first cell)."""
    v = versions(extra)
    width = max(map(len, v))
    for k, val in v.items():
        print(f"{k:<{width}}  {val}")
