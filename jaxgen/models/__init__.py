"""Models: each a small namespace of pure functions built from a config.

Every model object offers

* ``init(key) -> state``
* ``train_step(state, batch, key) -> (state, metrics)`` — pure; metrics are scalars
* ``eval_batch(state, x, key) -> dict of per-example arrays`` — summary metrics
* ``final_metrics(state, x_test, key, num_samples)`` — extra metrics for eval.json
* ``pictures(state, key, x_test) -> dict name -> images in [0, 1]``
* ``generate(state, key, n) -> samples``

so that :mod:`jaxgen.trainer` can run any of them.
"""
from __future__ import annotations


def build(config, dataset):
  """The model named by ``config.model.name`` for examples shaped like ``dataset``'s."""
  name = config.model.name
  if name == "vae":
    from jaxgen.models.vae import VAE
    return VAE(config, dataset.example_shape)
  if name == "ae":
    from jaxgen.models.ae import Autoencoder
    return Autoencoder(config, dataset.example_shape)
  if name == "gan":
    from jaxgen.models.gan import GAN
    return GAN(config, dataset.example_shape, dataset.kind, dataset.info)
  raise ValueError(f"unknown model {name!r}")
