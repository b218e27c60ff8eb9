"""Datasets: inputs on the unit sphere, Gaussian and teacher targets.

Every random quantity comes from an explicit ``jax.random`` key.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _checks


def normalize(X):
    """Scale every row of ``X`` to unit Euclidean norm.

    Args:
      X: array of shape ``(n, d)``.

    Returns:
      ``X / ||x_i||`` row by row.

    Raises:
      ValueError: if ``X`` is not 2-D, holds non-finite entries, or has a zero row.
    """
    _checks.ndim("X", X, 2)
    _checks.finite("X", X)
    X = jnp.asarray(X)
    norms = jnp.linalg.norm(X, axis=1, keepdims=True)
    if bool(jnp.any(norms == 0)):
        raise ValueError("X has a zero row, which cannot be scaled to the unit sphere.")
    return X / norms


def sphere(key, n: int, d: int):
    """``n`` points drawn uniformly on the unit sphere of R^d (normalised Gaussians).

    Example:
      >>> X = sphere(jax.random.key(0), 20, 5)   # (20, 5), unit rows
    """
    n = _checks.positive_int("n", n)
    d = _checks.positive_int("d", d)
    if d < 2:
        raise ValueError("d must be at least 2: on the sphere of R^1 every two inputs are parallel.")
    return normalize(jax.random.normal(key, (n, d)))


def gaussian_targets(key, n: int, scale: float = 1.0):
    """Targets ``y_i ~ N(0, scale^2)``, independent of the inputs (Du et al.'s experiment)."""
    n = _checks.positive_int("n", n)
    scale = _checks.positive("scale", scale)
    return scale * jax.random.normal(key, (n,))


def teacher_targets(key, X, width: int = 8):
    """Targets from a random two-layer ReLU teacher, ``y = width^-1/2 sum_r b_r relu(v_r . x)``.

    The teacher's ``v_r ~ N(0, I)`` and ``b_r ~ N(0, 1)`` come from ``key``.
    """
    _checks.ndim("X", X, 2)
    _checks.finite("X", X)
    width = _checks.positive_int("width", width)
    kv, kb = jax.random.split(key)
    V = jax.random.normal(kv, (width, X.shape[1]))
    b = jax.random.normal(kb, (width,))
    return jax.nn.relu(X @ V.T) @ b / jnp.sqrt(width)
