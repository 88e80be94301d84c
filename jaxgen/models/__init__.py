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
    "cvae": ("jaxgen.models.cvae", "ConditionalVAE"),
    "pix2pix": ("jaxgen.models.pix2pix", "Pix2Pix"),
}


def build(config, example_shape: tuple[int, ...],
          input_shape: tuple[int, ...] | None = None) -> GenerativeModel:
  """The model named by ``config.model.name`` for examples of shape ``example_shape``
  (e.g. ``dataset.example_shape``); a model conditioned on images (pix2pix) also needs
  the shape of one input image (``dataset.input_shape`` of a paired dataset)."""
  name = config.model.name
  if name not in MODELS:
    raise ValueError(f"unknown model {name!r}; use one of {', '.join(MODELS)}")
  module, cls = MODELS[name]
  cls = getattr(importlib.import_module(module), cls)
  if getattr(cls, "condition", "none") == "image":
    if input_shape is None:
      raise ValueError(f"model {name!r} translates input images: pass input_shape (the "
                       f"paired dataset's input_shape)")
    model = cls(config, tuple(example_shape), tuple(input_shape))
  else:
    model = cls(config, tuple(example_shape))
  check_interface(model)
  return model


__all__ = ["MODELS", "GenerativeModel", "build", "check_interface"]
