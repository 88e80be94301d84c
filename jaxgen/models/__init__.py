"""Models: each a small namespace of pure functions behind one declared interface.

:func:`build` returns the model named by ``config.model.name``; every model implements
:class:`jaxgen.models.interface.GenerativeModel`, which is all :mod:`jaxgen.train` uses.
Model modules are found by name (imported when asked for), so this package imports none
of them up front.

A model receives its own settings, never the whole config: its constructor names them
(``model``, ``gan``, ``pix2pix``: config groups; ``optimization``: the optimizer settings
of :class:`~jaxgen.models.state.Optimization`; ``data_range``, ``nll_chunk``,
``num_mode_samples``: plain values), and :func:`build` unpacks the config into
:func:`settings` and hands each model the ones it names.
"""
from __future__ import annotations

import importlib
import inspect

from jaxgen.models.interface import GenerativeModel, check_interface
from jaxgen.models.state import Optimization
from jaxgen.value_range import output_range

# config.model.name -> (module, class)
MODELS = {
    "ae": ("jaxgen.models.ae", "Autoencoder"),
    "vae": ("jaxgen.models.vae", "VAE"),
    "gan": ("jaxgen.models.gan", "GAN"),
    "cvae": ("jaxgen.models.cvae", "ConditionalVAE"),
    "pix2pix": ("jaxgen.models.pix2pix", "Pix2Pix"),
}


def settings(config) -> dict:
  """Every setting a model may name, unpacked from ``config``: its groups ``model``,
  ``gan`` and ``pix2pix``; ``optimization`` (the top-level optimizer keys); ``data_range``
  (of ``dataset.eval_preprocess``); ``nll_chunk`` and ``num_mode_samples`` (from ``eval``)."""
  return {
      "model": config.model, "gan": config.gan, "pix2pix": config.pix2pix,
      "optimization": Optimization(
          learning_rate=float(config.learning_rate),
          lr_schedule=config.get("lr_schedule", "constant"),
          lr_final_fraction=float(config.get("lr_final_fraction", 0.0)),
          num_steps=int(config.num_steps),
          skip_nonfinite=bool(config.get("skip_nonfinite", False))),
      "data_range": output_range(config.dataset.eval_preprocess),
      "nll_chunk": int(config.eval.nll_chunk),
      "num_mode_samples": int(config.eval.num_mode_samples),
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
  named = inspect.signature(cls).parameters
  own = {k: v for k, v in settings(config).items() if k in named}
  if getattr(cls, "condition", "none") == "image":
    if input_shape is None:
      raise ValueError(f"model {name!r} translates input images: pass input_shape (the "
                       f"paired dataset's input_shape)")
    model = cls(tuple(example_shape), tuple(input_shape), **own)
  else:
    model = cls(tuple(example_shape), **own)
  check_interface(model)
  return model


__all__ = ["MODELS", "GenerativeModel", "build", "check_interface", "settings"]
