"""Models: each a small namespace of pure functions behind one declared interface.

:func:`build` returns the model named by ``config.model.name``; every model implements
:class:`jaxgen.models.interface.GenerativeModel`, which is all :mod:`jaxgen.train` uses.
Model modules are found by name (imported when asked for), so this package imports none
of them up front.
"""
from __future__ import annotations

import importlib

from jaxgen.models.interface import GenerativeModel, check_interface

# config.model.name -> (module, class)
MODELS = {
    "ae": ("jaxgen.models.ae", "Autoencoder"),
    "vae": ("jaxgen.models.vae", "VAE"),
    "gan": ("jaxgen.models.gan", "GAN"),
}


def build(config, example_shape: tuple[int, ...]) -> GenerativeModel:
  """The model named by ``config.model.name`` for examples of shape ``example_shape``
  (e.g. ``dataset.example_shape``)."""
  name = config.model.name
  if name not in MODELS:
    raise ValueError(f"unknown model {name!r}; use one of {', '.join(MODELS)}")
  module, cls = MODELS[name]
  model = getattr(importlib.import_module(module), cls)(config, tuple(example_shape))
  check_interface(model)
  return model


__all__ = ["MODELS", "GenerativeModel", "build", "check_interface"]
