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


def digits_pair(key, n: int, classes=(4, 9), noise: float = 0.3):
    """Two classes of scikit-learn's bundled 8x8 digits: unit-norm inputs and 2-D noisy targets.

    The output-space picture of Zhang, Martens & Grosse (2019, Fig. 1) on a real dataset that ships
    inside scikit-learn (``sklearn.datasets.load_digits``, nothing is downloaded). ``n`` images are
    drawn without replacement from the two classes; each 64-pixel image is scaled to unit norm; the
    target of an image of class ``classes[c]`` is ``e_c - 0.5 + noise * N(0, I_2)``, i.e. the one-hot
    vector centred at zero, plus Gaussian noise.

    Args:
      key: a ``jax.random`` key (it draws the images and the noise).
      n: number of images, between 2 and the size of the two classes together (about 360).
      classes: two different digits in ``0..9``.
      noise: standard deviation of the target noise, >= 0.

    Returns:
      ``(X, Y, labels)``: ``X`` of shape ``(n, 64)`` with unit rows, ``Y`` of shape ``(n, 2)``, and
      ``labels`` of shape ``(n,)`` in ``{0, 1}`` (the position of the class in ``classes``).

    Raises:
      ValueError: on a bad ``n``, ``classes`` or ``noise``.

    Example:
      >>> X, Y, labels = digits_pair(jax.random.key(0), 40)

    References:
      Zhang, Martens & Grosse, NeurIPS 2019, Fig. 1 (MNIST 4 vs 9 there; the 8x8 digits here).
    """
    import numpy as np
    from sklearn.datasets import load_digits

    n = _checks.positive_int("n", n)
    try:
        c0, c1 = (int(c) for c in classes)
    except (TypeError, ValueError):
        raise ValueError(f"classes must be two digits, got {classes!r}.") from None
    if c0 == c1 or not (0 <= c0 <= 9 and 0 <= c1 <= 9):
        raise ValueError(f"classes must be two different digits in 0..9, got {classes!r}.")
    noise = _checks.nonnegative("noise", noise)
    bunch = load_digits()
    pool = np.flatnonzero((bunch.target == c0) | (bunch.target == c1))
    if not 2 <= n <= pool.size:
        raise ValueError(
            f"n must be between 2 and {pool.size} (the images of digits {c0} and {c1}), got {n}."
        )
    k_pick, k_noise = jax.random.split(key)
    idx = pool[np.asarray(jax.random.choice(k_pick, pool.size, (n,), replace=False))]
    labels = (bunch.target[idx] == c1).astype(np.int64)
    X = normalize(jnp.asarray(bunch.data[idx], dtype=jnp.result_type(float)))
    Y = jax.nn.one_hot(labels, 2, dtype=X.dtype) - 0.5 + noise * jax.random.normal(k_noise, (n, 2))
    return X, Y, jnp.asarray(labels)
