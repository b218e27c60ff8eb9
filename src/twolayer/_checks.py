"""Input validation shared by the public functions (raise ``ValueError`` with a plain sentence).

Checks run on concrete values only; inside ``jit`` (where values are tracers) they are skipped,
because the public entry points have already checked their inputs before tracing.
"""

from __future__ import annotations

import math

import jax
import numpy as np


def _concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def positive(name: str, value) -> float:
    """Return ``value`` as a float after checking that it is a finite number > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}.") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number greater than 0, got {value!r}.")
    return v


def nonnegative(name: str, value) -> float:
    """Return ``value`` as a float after checking that it is a finite number >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return v


def positive_int(name: str, value) -> int:
    """Return ``value`` as an int after checking that it is a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
    return int(value)


def finite(name: str, x) -> None:
    """Raise if the array ``x`` holds NaN or infinity."""
    if _concrete(x) and not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"{name} contains NaN or infinite entries; every entry must be finite.")


def ndim(name: str, x, expected: int) -> None:
    """Raise unless ``x`` has exactly ``expected`` axes."""
    if np.ndim(x) != expected:
        shape = np.shape(x)
        raise ValueError(
            f"{name} must be a {expected}-D array, got an array of shape {shape}."
        )


def unit_rows(name: str, X, atol: float = 1e-6) -> None:
    """Raise unless every row of ``X`` has Euclidean norm 1 (within ``atol``)."""
    if not _concrete(X):
        return
    norms = np.linalg.norm(np.asarray(X, dtype=float), axis=-1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > atol)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name} must have unit-norm rows (the theorem assumes inputs on the unit sphere); "
            f"row {i} has norm {norms[i]:.6g}. Use twolayer.data.normalize first."
        )
