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


def _two_digits(classes) -> tuple[int, int]:
    """Check that ``classes`` names two different digits in ``0..9`` and return them as ints."""
    try:
        c0, c1 = (int(c) for c in classes)
    except (TypeError, ValueError):
        raise ValueError(f"classes must be two digits, got {classes!r}.") from None
    if c0 == c1 or not (0 <= c0 <= 9 and 0 <= c1 <= 9):
        raise ValueError(f"classes must be two different digits in 0..9, got {classes!r}.")
    return c0, c1


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
    c0, c1 = _two_digits(classes)
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


# --- Datasets bundled with scikit-learn for the momentum chapter ------------------------------------

BUNDLED = ("digits", "breast_cancer", "diabetes")


def bundled(key, name: str, n: int, *, d: int | None = None, classes=(3, 8), target_scale=0.1,
            min_angle: float = 1e-3):
    """A real regression problem on the unit sphere from a dataset bundled with scikit-learn.

    Preprocessing (the same for every dataset): pick the raw inputs and a target, optionally project
    the centred inputs on their top ``d`` principal components, scale every row to unit norm, drop
    rows nearly parallel to an earlier one (angle below ``min_angle``, so that ``lambda_0 > 0``),
    draw ``n`` of the rest without replacement, and multiply the targets by ``target_scale``.

    - ``"digits"``: the 8x8 digits of two classes (default 3 and 8), target ``+1`` / ``-1``.
    - ``"breast_cancer"``: 569 x 30, columns standardised, target ``+1`` (benign) / ``-1``.
    - ``"diabetes"``: 442 x 10 (already centred and scaled), target standardised.

    Nothing is downloaded: the three sets ship inside scikit-learn.

    Args:
      key: a ``jax.random`` key (draws the rows).
      name: one of :data:`BUNDLED`.
      n: number of points.
      d: if given, the number of principal components kept (``<=`` the input dimension).
      classes: the two digits, for ``"digits"``.
      target_scale: factor applied to the targets, > 0.
      min_angle: smallest angle (radians) allowed between two kept inputs.

    Returns:
      ``(X, y)`` with ``X`` of shape ``(n, d)`` (unit rows) and ``y`` of shape ``(n,)``.

    Raises:
      ValueError: on an unknown name, a bad ``n`` or ``d``, or ``classes`` that are not two digits.
    """
    import numpy as np
    from sklearn import datasets as skd

    if name not in BUNDLED:
        raise ValueError(f"name must be one of {BUNDLED}, got {name!r}.")
    n = _checks.positive_int("n", n)
    target_scale = _checks.positive("target_scale", target_scale)
    if name == "digits":
        c0, c1 = _two_digits(classes)
        b = skd.load_digits()
        keep = (b.target == c0) | (b.target == c1)
        A, t = b.data[keep].astype(float), np.where(b.target[keep] == c0, 1.0, -1.0)
    elif name == "breast_cancer":
        b = skd.load_breast_cancer()
        A = (b.data - b.data.mean(0)) / b.data.std(0)
        t = np.where(b.target == 1, 1.0, -1.0)
    else:
        b = skd.load_diabetes()
        A, t = b.data.astype(float), (b.target - b.target.mean()) / b.target.std()
    if d is not None:
        d = _checks.positive_int("d", d)
        if d > A.shape[1]:
            raise ValueError(f"d = {d} exceeds the input dimension {A.shape[1]} of {name}.")
        Ac = A - A.mean(0)
        _, _, Vt = np.linalg.svd(Ac, full_matrices=False)
        A = Ac @ Vt[:d].T
    norms = np.linalg.norm(A, axis=1)
    A, t = A[norms > 0], t[norms > 0]
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    order = np.asarray(jax.random.permutation(key, A.shape[0]))
    cos_max = np.cos(_checks.positive("min_angle", min_angle))
    chosen = []
    for i in order:
        if len(chosen) == n:
            break
        if not chosen or np.max(np.abs(A[chosen] @ A[i])) < cos_max:
            chosen.append(i)
    if len(chosen) < n:
        raise ValueError(f"{name} has only {len(chosen)} usable rows (no two nearly parallel); n = {n}.")
    idx = np.array(chosen)
    return jnp.asarray(A[idx]), jnp.asarray(target_scale * t[idx])


def digits_raw(key, n: int):
    """Bu et al.'s preprocessing on the bundled 8x8 digits: raw pixels in ``[0, 1]``, labels as targets.

    Bu et al. feed MNIST as ``ToTensor`` gives it (pixels in ``[0, 1]``, no normalisation) and regress
    on the digit label itself (a real number in ``0..9``). Here the 8x8 digits (pixels ``0..16``) are
    divided by 16; ``n`` images are drawn without replacement.

    Returns:
      ``(X, y)``: ``X`` of shape ``(n, 64)``, ``y`` of shape ``(n,)`` with values in ``0..9``.

    Raises:
      ValueError: unless ``1 <= n <= 1797``.
    """
    import numpy as np
    from sklearn.datasets import load_digits

    n = _checks.positive_int("n", n)
    b = load_digits()
    if n > b.data.shape[0]:
        raise ValueError(f"n must be at most {b.data.shape[0]} (the bundled digits), got {n}.")
    idx = np.asarray(jax.random.choice(key, b.data.shape[0], (n,), replace=False))
    return jnp.asarray(b.data[idx] / 16.0), jnp.asarray(b.target[idx].astype(float))
