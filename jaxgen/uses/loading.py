"""A trained run, loaded back from its workdir for use in Python.

    import jaxgen
    t = jaxgen.load("runs/vae_mnist")
    z = t.encode(t.test_x[:8]);  x = t.decode(z);  samples = t.generate(16)

:func:`load` reads ``workdir/config.json`` (what training saved), rebuilds the run
(dataset, model, keys, device splits) exactly as training built it, and restores the
latest readable checkpoint. The :class:`Trained` it returns holds all of that and jitted
shortcuts to the model's functions.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import config as config_lib
from jaxgen.compilation_cache import use_default_cache
from jaxgen.data import Dataset
from jaxgen.models.interface import GenerativeModel
from jaxgen.train import steps
from jaxgen.train.run import Run, build_run
from jaxgen.uses import density, samplers


@dataclasses.dataclass
class Trained:
  """A trained model with its config, data and state (one seed of a multi-seed run).

  ``test_x`` / ``train_x`` are the preprocessed splits as the model sees them (the test
  split binarized with the run's evaluation key, exactly as in ``eval.json``; the training
  split preprocessed deterministically: 'threshold' for 'dynamic_binarize'). ``key`` is
  the seed's evaluation key, the default key of the random functions.
  """
  config: Any
  run: Run
  state: Any
  seed_index: int
  workdir: str

  @property
  def model(self) -> GenerativeModel:
    return self.run.model

  @property
  def dataset(self) -> Dataset:
    return self.run.dataset

  @property
  def step(self) -> int:
    return int(self.state.step)

  @property
  def key(self) -> jax.Array:
    return self.run.keys[self.seed_index]["eval"]

  @property
  def test_x(self) -> jax.Array:
    return self.run.test_x

  @property
  def test_labels(self) -> Optional[np.ndarray]:
    return self.dataset.test_labels

  @functools.cached_property
  def train_x(self) -> jax.Array:
    return self.run.scoring_train_x(self.key)

  @property
  def train_labels(self) -> Optional[np.ndarray]:
    return self.dataset.train_labels

  # ---------------------------------------------------------------- model shortcuts
  def _jit(self, name: str, fn: Callable, **kw) -> Callable:
    cache = self.__dict__.setdefault("_jitted", {})
    if name not in cache:
      cache[name] = jax.jit(fn, **kw)
    return cache[name]

  def encode(self, x: jax.Array, labels=None) -> jax.Array:
    """Codes of preprocessed examples ``x``: the AE's code, the VAE's posterior mean (the
    conditional VAE's given the ``labels`` of ``x``, which it needs)."""
    self._need("encode")
    if labels is None:
      def fn(params, x):
        out = self.model.encode(params, x)
        return out[0] if isinstance(out, tuple) else out
      return self._jit("encode", fn)(self.state.params, jnp.asarray(x, jnp.float32))
    fn = lambda params, x, y: self.model.encode(params, x, y)[0]  # noqa: E731
    return self._jit("encode_labelled", fn)(self.state.params, jnp.asarray(x, jnp.float32),
                                            jnp.asarray(labels, jnp.int32))

  def codes(self, x, batch: int = 500, labels=None) -> np.ndarray:
    """:meth:`encode` of ``x`` (with its ``labels`` for the conditional VAE) in batches of
    ``batch`` examples, as one NumPy array."""
    x = np.asarray(x)
    return np.concatenate([np.asarray(self.encode(
        x[i:i + batch], None if labels is None else np.asarray(labels)[i:i + batch]))
        for i in range(0, x.shape[0], batch)])

  def decode(self, z: jax.Array, labels=None) -> jax.Array:
    """Decoded codes ``z [..., latent_dim]`` as images E[x|z] in [0, 1] (the conditional
    VAE's E[x|z, y] with the ``labels`` y, which it needs)."""
    self._need("mean_image")
    z = jnp.asarray(z, jnp.float32)
    if labels is None:
      return self._jit("decode", self.model.mean_image)(self.state.params, z)
    self._need("decode_labelled")
    return self._jit("decode_labelled", self.model.decode_labelled)(
        self.state.params, z, jnp.asarray(labels, jnp.int32))

  def generate_from(self, z: jax.Array) -> jax.Array:
    """GAN: the samples (images in [0, 1], or points) for the noise ``z [n, noise_dim]``,
    as :meth:`generate` makes them (a latent walk)."""
    self._need("generate_from")
    return self._jit("generate_from", self.model.generate_from)(self.state,
                                                                jnp.asarray(z, jnp.float32))

  def generate(self, n: int, key: Optional[jax.Array] = None,
               sampler: str = "prior") -> jax.Array:
    """``n`` samples of the model (images in [0, 1], or points). ``sampler`` (AE and VAE):
    'prior' draws codes from the model's own prior; 'gaussian', 'gmm' or 'vae2' from a
    density fitted to the training codes (:meth:`sampler`), decoded."""
    key = jax.random.fold_in(self.key, 4) if key is None else key
    if sampler == "prior":
      return self._jit("generate", self.model.generate, static_argnums=2)(self.state, key, n)
    return self.decode(self.sampler(sampler).sample(key, n))

  def sampler(self, name: str, log: Callable[[str], None] = lambda s: None):
    """The latent sampler ``name`` (:data:`jaxgen.uses.samplers.SAMPLERS` but 'prior') of
    this run: restored from ``workdir/samplers/<name>.npz`` when it was fitted to this
    checkpoint's codes, else fitted to the codes of the training split (seed: the run's)
    and saved there."""
    self._need("encode")
    if name not in samplers.SAMPLERS or name == "prior":
      raise ValueError(f"unknown sampler {name!r}; fitted samplers are "
                       f"{', '.join(s for s in samplers.SAMPLERS if s != 'prior')}")
    cache = self.__dict__.setdefault("_samplers", {})
    if name not in cache:
      fitted = samplers.load_sampler(self.workdir, name, self.step)
      if fitted is None:
        codes = self.codes(self.train_x)
        log(f"fitting the {name} sampler to {codes.shape[0]} training codes")
        fitted = samplers.fit_sampler(name, codes, seed=int(self.config.seed) + self.seed_index,
                                      log=log)
        samplers.save_sampler(fitted, self.workdir, self.step)
      cache[name] = fitted
    return cache[name]

  def translate(self, inputs: jax.Array) -> jax.Array:
    """pix2pix: the outputs (in [0, 1]) for preprocessed input images ``inputs``."""
    self._need("translate")
    return self._jit("translate", self.model.translate)(self.state, jnp.asarray(inputs))

  def translations(self, inputs, batch: int = 250) -> np.ndarray:
    """:meth:`translate` of ``inputs`` in batches of ``batch`` images, as one NumPy array."""
    return np.concatenate([np.asarray(self.translate(inputs[i:i + batch]))
                           for i in range(0, inputs.shape[0], batch)])

  def transfer(self, x: jax.Array, labels, targets) -> jax.Array:
    """Conditional VAE: preprocessed digits ``x`` (with their ``labels``) in the style of
    each, redrawn as the ``targets`` labels (images in [0, 1])."""
    self._need("transfer")
    return self._jit("transfer", self.model.transfer)(
        self.state.params, jnp.asarray(x, jnp.float32), jnp.asarray(labels, jnp.int32),
        jnp.asarray(targets, jnp.int32))

  def nll(self, x: jax.Array, num_samples: int = 1000,
          key: Optional[jax.Array] = None) -> jax.Array:
    """Per-example importance-weighted -log p(x) with K = ``num_samples`` (likelihood
    models only), in batches of ``config.eval.batch_size``."""
    key = jax.random.fold_in(jax.random.fold_in(self.key, 1), 0) if key is None else key
    return density.nll(self.model, self.state, jnp.asarray(x, jnp.float32), num_samples, key,
                       int(self.config.eval.batch_size))

  def _need(self, method: str) -> None:
    if not hasattr(self.model, method):
      raise TypeError(f"a {self.config.model.name!r} model has no {method}(); "
                      f"encode/decode are for the AE and the VAE, translate for pix2pix, "
                      f"transfer and labelled decodes for the conditional VAE, generate_from "
                      f"for the GAN")


def read_config(workdir: str):
  """The config saved in ``workdir/config.json`` by training (ConfigError if none)."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise config_lib.ConfigError(f"{path} not found: {workdir!r} is not a trained workdir "
                                 f"(train.py --mode train writes it)")
  with open(path) as f:
    return config_lib.config_from_json(f.read())


def load(workdir: str, config=None, seed_index: int = 0,
         log: Callable[[str], None] = lambda s: None,
         compilation_cache: bool = True, checkpoint: str = "latest") -> Trained:
  """Loads the trained run in ``workdir``: its config (``config.json``, or ``config`` if
  given), data, model and the latest readable checkpoint (``checkpoint='latest'``) or the
  step model selection kept (``'selected'``: a run trained with ``eval.select_on``, see
  :mod:`jaxgen.train.selection`). For a run of several seeds, ``seed_index`` picks one
  (0 = the first seed, ``config.seed``).

  ``compilation_cache``: keep XLA's compiled programs (the decoder, the NLL, ...) in the
  persistent cache of :mod:`jaxgen.compilation_cache` (``~/.cache/jaxgen/xla``; the
  environment variable ``JAXGEN_COMPILATION_CACHE`` moves it or turns it off), so that the
  next process loads them instead of compiling; a cache the process already has is kept."""
  if compilation_cache:
    use_default_cache()
  config = read_config(workdir) if config is None else config
  run = build_run(config)
  if not 0 <= seed_index < run.num_seeds:
    raise config_lib.ConfigError(f"seed_index={seed_index} is out of range: {workdir!r} "
                                 f"holds {run.num_seeds} seed(s)")
  state = run.restore(workdir, log, checkpoint=checkpoint)
  if run.num_seeds > 1:
    state = steps.seed_slice(state, seed_index)
  return Trained(config, run, state, seed_index, workdir)
