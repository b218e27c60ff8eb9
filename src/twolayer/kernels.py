r"""Gram matrices of the two-layer ReLU network and their spectra.

The infinite-width Gram (the neural tangent kernel of the first layer) has the closed form

.. math::  H^\infty_{ij} = \mathbb E_{w\sim N(0,I)}\big[x_i^\top x_j\,1\{w^\top x_i\ge0,\,w^\top x_j\ge0\}\big]
           = x_i^\top x_j\,\frac{\pi-\arccos(x_i^\top x_j)}{2\pi}

for unit inputs: the event has probability ``(pi - theta_ij) / (2 pi)`` by rotational symmetry of
the Gaussian (only the projection of ``w`` on the plane of ``x_i, x_j`` matters, and its direction is
uniform). The empirical Gram ``H(W) = J J^T`` is :func:`twolayer.models.gram`.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from . import _checks
from .models import gram as empirical_gram  # noqa: F401  (re-exported: the kernels in one place)


def _cosines(X):
    # x_i . x_j for unit rows, clipped to [-1, 1], with the diagonal set to exactly 1: arccos is
    # ill-conditioned at 1, and round-off of ||x_i||^2 would otherwise cost ~1e-8 on H_ii.
    G = jnp.clip(X @ X.T, -1.0, 1.0)
    return jnp.where(jnp.eye(X.shape[0], dtype=bool), 1.0, G)


def arccos0(X):
    """The degree-0 arc-cosine kernel ``K0_ij = (pi - arccos(x_i . x_j)) / (2 pi)`` (unit rows)."""
    _checks.ndim("X", X, 2)
    _checks.finite("X", X)
    _checks.unit_rows("X", X)
    G = _cosines(X)
    return (jnp.pi - jnp.arccos(G)) / (2 * jnp.pi)


def h_inf(X):
    """The closed-form infinite-width Gram ``H_inf_ij = x_i.x_j (pi - arccos x_i.x_j) / (2 pi)``.

    Args:
      X: inputs of shape ``(n, d)`` with unit-norm rows.

    Returns:
      ``H_inf``, shape ``(n, n)``; its diagonal is ``1/2``, so ``trace(H_inf) = n/2``.

    Raises:
      ValueError: if ``X`` is not 2-D, not finite, or has a row off the unit sphere.

    References:
      Du et al. (ICLR 2019), Section 3 (definition); the closed form is the arc-cosine kernel of
      degree 0 of Cho & Saul (2009) times the linear kernel.
    """
    K0 = arccos0(X)  # validates X
    return _cosines(X) * K0


def eigh(H):
    """Eigenvalues (ascending) of a symmetric matrix, as a NumPy array."""
    _checks.ndim("H", H, 2)
    if H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be square, got shape {H.shape}.")
    _checks.finite("H", H)
    return np.linalg.eigvalsh(np.asarray(H))


def lambda_min(H) -> float:
    """The smallest eigenvalue of a symmetric matrix."""
    return float(eigh(H)[0])


def lambda_max(H) -> float:
    """The largest eigenvalue (= spectral norm for a PSD matrix)."""
    return float(eigh(H)[-1])


def lambda_0(X) -> float:
    """``lambda_0 = lambda_min(H_inf(X))``: positive when no two inputs are parallel (Du et al. Thm 3.1)."""
    return lambda_min(h_inf(X))


def spectral_gap(A, B) -> float:
    """``||A - B||_2``, the spectral norm of the difference of two symmetric matrices."""
    D = np.asarray(A) - np.asarray(B)
    return float(np.max(np.abs(np.linalg.eigvalsh(D))))
