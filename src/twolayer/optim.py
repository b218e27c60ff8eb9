r"""Optimizers as ``(init, step)`` pairs that may ask the problem for residuals and Jacobians.

An :class:`Optimizer` holds two pure functions and its hyperparameters:

- ``init(theta, problem, hyper) -> state``
- ``step(theta, state, problem, hyper) -> (theta, state)``

``problem`` is a :class:`twolayer.problem.Problem` (residual, ``J^T v``, Jacobian, Gram), so methods
that need more than the gradient (natural gradient, K-FAC) fit the same shape. Hyperparameters are
passed as data, not baked into the function, so a sweep over step sizes compiles the training loop
once. Every optimizer validates its hyperparameters when it is built.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import _checks


class Optimizer(NamedTuple):
    """An optimizer: pure ``init`` and ``step`` functions, hyperparameters and a display name."""

    init: Callable
    step: Callable
    hyper: dict
    name: str


def no_state(theta, problem, hyper):
    """The ``init`` of an optimizer that keeps no state (GD, NGD, K-FAC, the two-timescale steps)."""
    return ()


def _gd_step(theta, state, problem, hyper):
    g = problem.grad(theta)
    theta = jax.tree_util.tree_map(lambda t, gt: t - hyper["eta"] * gt, theta, g)
    return theta, state


def gd(eta: float) -> Optimizer:
    r"""Full-batch gradient descent on ``L = 1/2 ||r||^2``.

    .. math::  \theta_{k+1} = \theta_k - \eta\, J(\theta_k)^\top r(\theta_k).

    Linearised around a fixed Gram ``H = J J^T`` the residual obeys ``r <- (I - eta H) r``: each
    eigen-direction of ``H`` with eigenvalue ``lambda`` contracts by ``|1 - eta lambda|`` per step.

    Args:
      eta: step size, > 0.

    Returns:
      An :class:`Optimizer`.

    Raises:
      ValueError: if ``eta`` is not a finite positive number.

    Example:
      >>> trace = twolayer.train.run(gd(0.5), problem, W0, steps=1000)

    References:
      Du et al., ICLR 2019, Section 4 (the update and Theorem 4.1).
    """
    eta = _checks.positive("eta (the step size)", eta)
    return Optimizer(no_state, _gd_step, {"eta": jnp.asarray(eta)}, "GD")
