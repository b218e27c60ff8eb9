"""twolayer: the shared JAX package behind the book on over-parameterized two-layer networks.

Modules: ``data``, ``models``, ``problem``, ``kernels``, ``optim``, ``train``, ``rates``,
``plotting``, ``config``; ``natural`` (NGD, GGN, K-FAC), ``momentum`` and ``flows`` (heavy ball
and Nesterov), ``pinn`` (physics-informed networks), ``timescales`` (the two-timescale model).
Importing the package does nothing else: no global state, no float64
switch (chapters call ``jax.config.update("jax_enable_x64", True)`` themselves).
"""

from . import (  # noqa: F401
    config, data, flows, kernels, models, momentum, natural, optim, pinn, plotting, problem, rates,
    timescales, train,
)

__version__ = "0.1.0"
