"""jaxgen: classic deep generative models — autoencoders, VAEs, GANs — in JAX and Flax.

``jaxgen.load(workdir)`` loads a trained run for use in Python (:func:`jaxgen.uses.loading.load`).
"""
__version__ = "0.1.0"

from jaxgen import xla_options  # noqa: E402  (first: XLA_FLAGS before JAX starts its backend)

xla_options.apply()

from jaxgen.uses.loading import load  # noqa: E402  (after the XLA options)

__all__ = ["load", "__version__"]
