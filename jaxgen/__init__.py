"""jaxgen: classic deep generative models — autoencoders, VAEs, GANs — in JAX and Flax.

``jaxgen.load(workdir)`` loads a trained run for use in Python (:mod:`jaxgen.uses.loading`).
"""
__version__ = "0.1.0"


def load(workdir: str, config=None, seed_index: int = 0, log=lambda s: None):
  """A trained run from its workdir: see :func:`jaxgen.uses.loading.load`."""
  from jaxgen.uses.loading import load as _load  # lazy: `import jaxgen` stays free of JAX
  return _load(workdir, config, seed_index, log)
