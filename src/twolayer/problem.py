"""A least-squares training problem, as the optimizers and the runner see it.

The loss is ``L(theta) = 1/2 ||r(theta)||^2`` with residual ``r = u(theta) - y`` (no ``1/n``: the
papers' scale). A :class:`Problem` bundles pure functions of ``(theta, data)`` with the ``data`` they
act on. Keeping functions and arrays apart lets :func:`twolayer.train.run` compile once per shape
and reuse the compiled loop for every dataset, seed and step size of that shape.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


class Problem(NamedTuple):
    """Pure functions of ``(theta, data)`` describing ``L = 1/2 ||r||^2``, plus the ``data``.

    Attributes:
      residual: ``(theta, data) -> r``, shape ``(n,)``.
      vjp: ``(theta, data, v) -> J^T v`` (same pytree as ``theta``); the gradient is ``vjp(theta, data, r)``.
      jacobian: ``(theta, data) -> J``, shape ``(n, p)``, columns ordered as ``ravel_pytree(theta)``.
      gram: ``(theta, data) -> J J^T``, shape ``(n, n)``.
      patterns: optional ``(theta, data) -> bool array``: activation patterns, for counting flips.
      data: the arrays the functions act on (any pytree).
    """

    residual: Callable
    vjp: Callable
    jacobian: Callable
    gram: Callable
    patterns: Optional[Callable]
    data: Any

    # Bound helpers: the functions applied to this problem's data.
    def r(self, theta):
        """The residual ``u(theta) - y``."""
        return self.residual(theta, self.data)

    def loss(self, theta):
        """``1/2 ||r(theta)||^2``."""
        r = self.residual(theta, self.data)
        return 0.5 * jnp.vdot(r, r)

    def grad(self, theta):
        """``J^T r``, the gradient of the loss."""
        return self.vjp(theta, self.data, self.residual(theta, self.data))

    def J(self, theta):
        """The Jacobian ``dr/dtheta``, shape ``(n, p)``."""
        return self.jacobian(theta, self.data)

    def H(self, theta):
        """The Gram matrix ``J J^T``."""
        return self.gram(theta, self.data)

    @property
    def static(self):
        """The problem without its data: hashable, used as a compile-cache key."""
        return self._replace(data=None)


def _ad_vjp(residual):
    def vjp(theta, data, v):
        _, pullback = jax.vjp(lambda t: residual(t, data), theta)
        return pullback(v)[0]

    return vjp


def _ad_jacobian(residual):
    def jacobian(theta, data):
        flat, unravel = ravel_pytree(theta)
        return jax.jacrev(lambda f: residual(unravel(f), data))(flat)

    return jacobian


def _gram_from(jacobian):
    def gram(theta, data):
        J = jacobian(theta, data)
        return J @ J.T

    return gram


def from_residual(residual: Callable, data, patterns: Optional[Callable] = None) -> Problem:
    """Build a :class:`Problem` from a residual function alone, with autodiff for the rest.

    Use this for a model without closed-form derivatives. Build the problem once and reuse it: each
    call creates new functions, and so a new compile in :func:`twolayer.train.run`.

    Example:
      >>> prob = from_residual(lambda th, d: d["A"] @ th - d["b"], {"A": A, "b": b})
    """
    jac = _ad_jacobian(residual)
    return Problem(residual, _ad_vjp(residual), jac, _gram_from(jac), patterns, data)


# A linear model r(theta) = A theta - b, with closed-form derivatives. Module-level functions, so
# every linear problem of the same shape shares one compiled training loop.
def _lin_residual(theta, data):
    return data["A"] @ theta - data["b"]


def _lin_vjp(theta, data, v):
    return data["A"].T @ v


def _lin_jacobian(theta, data):
    return data["A"]


def _lin_gram(theta, data):
    return data["A"] @ data["A"].T


def linear(A, b) -> Problem:
    """The linear least-squares problem ``L(theta) = 1/2 ||A theta - b||^2`` (``theta`` a vector).

    Its Jacobian is ``A`` everywhere, so GD is exactly ``r <- (I - eta A A^T) r``: the reference
    case for every rate in the book.

    Raises:
      ValueError: if ``A`` is not 2-D, ``b`` does not have ``A.shape[0]`` entries, or either is
        not finite.
    """
    from . import _checks

    _checks.ndim("A", A, 2)
    _checks.ndim("b", b, 1)
    _checks.finite("A", A)
    _checks.finite("b", b)
    if A.shape[0] != b.shape[0]:
        raise ValueError(
            f"A has {A.shape[0]} rows but b has {b.shape[0]} entries; they must match."
        )
    return Problem(_lin_residual, _lin_vjp, _lin_jacobian, _lin_gram, None,
                   {"A": jnp.asarray(A), "b": jnp.asarray(b)})
