import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

# The package tests compare closed forms with brute force to ~1e-10: they need float64.
jax.config.update("jax_enable_x64", True)
