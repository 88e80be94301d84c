"""The configuration contract: every key an experiment may set, its defaults, and validation.

Config files in ``configs/`` start from :func:`base_config` and change what they need.
:func:`validate` checks a config (types, ranges, rules between groups) before anything is
compiled and raises :class:`ConfigError` with one line that says what is wrong and how to
fix it.

This module is a leaf: it imports nothing of jaxgen. Each group's schema (its keys and
defaults) sits beside the group's own checks (types and ranges); the rules that tie groups
together are :func:`cross_group_rules`. The names a key may take from a registry of the
code (models, networks, losses, preprocessings, schedules) are checked where the run is
assembled, next to those registries (:func:`jaxgen.train.run.check_choices`); here those
keys are checked to be strings.
"""
from __future__ import annotations

import importlib.util
import json
import os
import numbers

import ml_collections


class ConfigError(ValueError):
  """A configuration value is missing, unknown, of the wrong type or out of range."""


# ------------------------------------------------------------------ checks of one value
def _get(config, path):
  """The value at a dotted ``path`` such as 'gan.d_optimizer.b1'."""
  for part in path.split("."):
    config = config[part]
  return config


def _int(config, path, minimum=1):
  value = _get(config, path)
  if isinstance(value, bool) or not isinstance(value, numbers.Integral):
    raise ConfigError(f"config.{path} must be an integer, got {value!r}")
  if value < minimum:
    raise ConfigError(f"config.{path} must be >= {minimum}, got {value}; "
                      f"set --config.{path}=<integer >= {minimum}>")
  return int(value)


def _positive_float(config, path):
  value = _get(config, path)
  if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
    raise ConfigError(f"config.{path} must be a positive number, got {value!r}")
  return float(value)


def _number(config, path, ok, allowed: str, hint: str = ""):
  """A real number (not a bool) for which ``ok(value)`` holds; ``allowed`` describes the
  range in the message (e.g. 'in [0, 1]'), ``hint`` adds a note after it."""
  value = _get(config, path)
  if isinstance(value, bool) or not isinstance(value, numbers.Real) or not ok(value):
    raise ConfigError(f"config.{path} must be a number {allowed}{hint}, got {value!r}")
  return float(value)


def _bool(config, path):
  if not isinstance(_get(config, path), bool):
    raise ConfigError(f"config.{path} must be True or False, got {_get(config, path)!r}")


def _string(config, path):
  if not isinstance(_get(config, path), str):
    raise ConfigError(f"config.{path} must be a string, got {_get(config, path)!r}")


def check_choice(config, path, choices):
  """ConfigError unless the value at ``path`` is one of ``choices``."""
  value = _get(config, path)
  if value not in choices:
    raise ConfigError(f"config.{path}={value!r} is not one of {', '.join(map(repr, choices))}")
  return value


def _positive_ints(config, path):
  hidden = _get(config, path)
  if not isinstance(hidden, (tuple, list)) or not hidden or not all(
      isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0 for h in hidden):
    raise ConfigError(f"config.{path} must be a non-empty tuple of positive integers, "
                      f"got {hidden!r}")


def _labels(config, path):
  value = _get(config, path)
  if not isinstance(value, (tuple, list)) or not all(
      isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 0 for c in value):
    raise ConfigError(f"config.{path} must be a tuple of labels (integers >= 0), got {value!r}; "
                      f"e.g. --config.{path}='(3,)'")


# ------------------------------------------------------------------ the groups
def _top_level() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.num_steps = 10_000
  c.batch_size = 128
  c.learning_rate = 1e-3
  c.lr_schedule = "constant"     # 'constant', or 'cosine'/'linear': decay over num_steps
  c.lr_final_fraction = 0.0      # decayed schedules end at learning_rate * this
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.keep_checkpoints = 3
  c.progress = True              # tqdm progress bar
  c.skip_nonfinite = False       # True: skip updates with NaN/Inf gradients instead of stopping
  c.deterministic = True         # GPU: XLA's deterministic ops (set by train.py before JAX starts)
  c.num_seeds = 1                # >1: train seeds seed..seed+N-1 at once (vmap), report mean ± std
  c.seed_batching = "map"        # num_seeds > 1: 'map' (lax.map: each seed bit-identical to its
                                 # single-seed run) or 'vmap' (jax.vmap: faster on accelerators)
  c.num_samples = 1000           # --mode sample: how many samples to write
  return c


def _check_top_level(config) -> None:
  _int(config, "seed", minimum=0)
  for key in ("num_steps", "batch_size", "log_every", "eval_every", "checkpoint_every",
              "keep_checkpoints", "num_seeds", "num_samples"):
    _int(config, key)
  for key in ("progress", "skip_nonfinite", "deterministic"):
    _bool(config, key)
  _positive_float(config, "learning_rate")
  _string(config, "lr_schedule")
  _number(config, "lr_final_fraction", lambda v: 0 <= v <= 1, "in [0, 1]")
  check_choice(config, "seed_batching", ("map", "vmap"))


def _mesh() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()   # the device mesh of training (jaxgen.scale.mesh)
  c.data = 0                     # devices the batch is split over (0: every device the runs leave;
                                 # 1 on jaxgen's per-core CPU devices, which serve the seeds only)
  c.runs = 0                     # devices the seeds (num_seeds > 1) are laid over, no communication
                                 # (0: as many as divide the seeds)
  return c


def _check_mesh(mesh) -> None:
  config = {"mesh": mesh}   # the group under its name: messages name the full key
  _int(config, "mesh.runs", minimum=0)
  _int(config, "mesh.data", minimum=0)


def _dataset() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.name = "mnist_subset"
  c.data_dir = ""                # tfds data_dir ('' = tfds default)
  c.download = False             # let tfds download and prepare (needs internet)
  c.train_split = "train"
  c.test_split = "test"
  c.image_key = "image"
  c.label_key = "label"
  c.preprocess = "dynamic_binarize"   # training batches
  c.eval_preprocess = "threshold"     # the test split
  c.classes = ()                 # train on these labels only (e.g. (3,)); () = all
  c.exclude_classes = ()         # leave these labels out of training (e.g. (3,))
                                 # (both filter the training split; the test split stays whole)
  c.perturb_rate = 0.0           # > 0: each value of a training batch replaced by a random one
                                 # with this probability (the background model of a likelihood
                                 # ratio, Ren et al. 2019); the test split is never perturbed
  c.dihedral = False             # True: each training example (and its condition image) under
                                 # one of the 8 flips / quarter turns, drawn per example and
                                 # step (square images whose content has no up or left)
  # your own images (name='image_folder': data_dir is the folder; name='arrays': an .npz
  # or a folder of .npy files; see jaxgen.data.folders)
  c.channels = 3                 # image_folder: 1 (gray) or 3 (RGB)
  c.image_size = 0               # image_folder: > 0 resizes every image to this square size
  c.resize = "resize"            # image_folder: 'resize' (whole image) or 'center_crop' first
  c.test_fraction = 0.1          # image_folder without train/ and test/: held out per class
  c.split_seed = 0               # image_folder: which images are held out
  c.skip_corrupt = False         # image_folder: leave out (and count) files that do not decode
  c.cache_dir = ""               # image_folder: decoded arrays ('' = ~/.cache/jaxgen/folders)
  c.input_channels = 0           # paired_folder: inputs' channels (0: dataset.channels)
  c.input_size = 0               # paired_folder: inputs resized to this (0: dataset.image_size)
  c.pairs = ""                   # image_folder / arrays: inputs made from each image for
                                 # pix2pix: 'sr2' / 'sr4' (box-downsampled), 'gray' (luminance)
  c.stream = "auto"              # the training split on the device ('device'), in host memory
                                 # with each step's rows streamed to the device ('host'), or
                                 # 'host' when it takes over half the device's memory ('auto')
  c.stream_mb = 64               # streaming: MiB of batches per transfer (steps per call)
  c.stream_prefetch = 2          # streaming: calls' batches gathered ahead
  return c


def _check_dataset(dataset) -> None:
  config = {"dataset": dataset}   # the group under its name: messages name the full key
  _bool(config, "dataset.download")
  for key in ("data_dir", "train_split", "test_split", "image_key", "label_key", "preprocess",
              "eval_preprocess"):
    _string(config, f"dataset.{key}")
  for key in ("dataset.classes", "dataset.exclude_classes"):
    _labels(config, key)
  _number(config, "dataset.perturb_rate", lambda v: 0 <= v < 1, "in [0, 1)",
          " (0: off; e.g. 0.2)")
  _bool(config, "dataset.dihedral")
  if _int(config, "dataset.channels") not in (1, 3):
    raise ConfigError(f"config.dataset.channels={dataset.channels}; use 1 (gray) or 3 (RGB)")
  _int(config, "dataset.image_size", minimum=0)
  check_choice(config, "dataset.resize", ("resize", "center_crop"))
  _number(config, "dataset.test_fraction", lambda v: 0 < v < 1, "in (0, 1)", " (e.g. 0.1)")
  _int(config, "dataset.split_seed", minimum=0)
  _bool(config, "dataset.skip_corrupt")
  _string(config, "dataset.cache_dir")
  if _int(config, "dataset.input_channels", minimum=0) not in (0, 1, 3):
    raise ConfigError(f"config.dataset.input_channels={dataset.input_channels}; use 0 (as "
                      f"dataset.channels), 1 (gray) or 3 (RGB)")
  _int(config, "dataset.input_size", minimum=0)
  _int(config, "dataset.stream_mb", minimum=1)
  _int(config, "dataset.stream_prefetch", minimum=1)
  if set(dataset.classes) & set(dataset.exclude_classes):
    raise ConfigError(f"config.dataset.classes {tuple(dataset.classes)} and "
                      f"dataset.exclude_classes {tuple(dataset.exclude_classes)} share "
                      f"labels; a label cannot be both kept and left out")
  if not isinstance(dataset.name, str) or not dataset.name:
    raise ConfigError("config.dataset.name must be a dataset name, e.g. mnist_subset")


def _model() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.name = "vae"
  c.net = "mlp"
  c.hidden = (400,)              # mlp: hidden widths (decoder mirrors); conv: (dense width,)
  c.latent_dim = 20
  c.likelihood = "bernoulli"     # p(x|z): 'bernoulli' (logits) or 'gaussian' (learned scalar variance)
  c.beta = 1.0                   # weight of the KL term
  c.num_samples = 1              # Monte-Carlo samples L in the training ELBO (K for 'iwae')
  c.objective = "elbo"           # VAE training objective: 'elbo', or 'iwae' (the importance-
                                 # weighted bound with K = model.num_samples; Burda et al. 2016)
  c.num_classes = 10             # cvae: labels 0 .. num_classes - 1 (one-hot into both nets)
  return c


def _check_model(model) -> None:
  config = {"model": model}   # the group under its name: messages name the full key
  for key in ("name", "net", "likelihood", "objective"):
    _string(config, f"model.{key}")
  _int(config, "model.latent_dim")
  _int(config, "model.num_samples")
  _int(config, "model.num_classes", minimum=2)
  _number(config, "model.beta", lambda v: v >= 0, ">= 0")
  _positive_ints(config, "model.hidden")


def _gan() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.generator_loss = "non_saturating"   # or 'saturating' (the minimax game as written), or
                                 # 'hinge' (-E D(G(z)) on the raw score)
  c.discriminator_loss = "cross_entropy"   # or 'hinge' (E relu(1 - D(x)) + E relu(1 + D(G(z))))
  c.d_steps = 1                  # discriminator updates per generator update
  c.real_label = 1.0             # < 1: one-sided label smoothing, D's target for real examples
  c.g_ema = 0.0                  # > 0: sample from an exponential moving average of G's params
                                 # with this decay (e.g. 0.999); 0: from G's params
  c.d_hidden = (400,)            # mlp discriminator widths
  c.maxout_pieces = 1            # >1: maxout hidden units in the mlp discriminator
  c.features = 64                # dcgan base channel count (the generator's, and D's by default)
  c.d_features = 0               # dcgan discriminator base channel count (0: gan.features);
                                 # e.g. features / 2 for PacGAN's weaker discriminator
  c.minibatch = "none"           # 'discrimination' (Salimans et al.) or 'stddev' (Karras et al.)
  c.mb_kernels = 100             # minibatch discrimination B
  c.mb_dims = 5                  # minibatch discrimination C
  c.mb_normalize = False         # True: divide o by (batch - 1), the mean instead of the sum
  c.pack = 1                     # PacGAN: D judges packs of this many samples (1: off)
  c.spectral_norm = False        # divide D's weights by their largest singular value (SN-GAN;
                                 # the dcgan D then has no BatchNorm)
  c.r1_gamma = 0.0               # > 0: R1 penalty gamma/2 E||grad_x D(x)||^2 on real data
  c.r1_every = 1                 # lazy R1 (StyleGAN2): the penalty, times r1_every, only on
                                 # steps divisible by r1_every (e.g. 4: about a third of R1's cost)
  c.truncation = 0.0             # > 0: samples (evaluation, generation; not training) from z
                                 # truncated to [-t, t] per coordinate (BigGAN's truncation
                                 # trick: fewer odd samples, less variety; e.g. 1.0); 0: off
  c.augment = ""                 # DiffAugment for D's inputs: comma-separated subset of
                                 # 'color,translation,cutout' ('': off; images only)
  c.g_optimizer = ml_collections.ConfigDict(
      {"learning_rate": 0.0, "b1": 0.5, "b2": 0.999})   # learning_rate 0: use config.learning_rate
  c.d_optimizer = ml_collections.ConfigDict(
      {"learning_rate": 0.0, "b1": 0.5, "b2": 0.999})
  return c


def _check_gan(gan) -> None:
  config = {"gan": gan}   # the group under its name: messages name the full key
  for key in ("d_steps", "features", "mb_kernels", "mb_dims", "maxout_pieces"):
    _int(config, f"gan.{key}")
  _int(config, "gan.d_features", minimum=0)
  _bool(config, "gan.mb_normalize")
  _string(config, "gan.generator_loss")
  _string(config, "gan.discriminator_loss")
  _string(config, "gan.minibatch")
  _int(config, "gan.pack")
  _bool(config, "gan.spectral_norm")
  _number(config, "gan.r1_gamma", lambda v: v >= 0, ">= 0", " (0: off; e.g. 10)")
  _int(config, "gan.r1_every")
  _number(config, "gan.truncation", lambda v: v >= 0, ">= 0", " (0: off; e.g. 1.0)")
  if not isinstance(gan.augment, str):
    raise ConfigError(f"config.gan.augment must be a string such as 'color,translation,cutout' "
                      f"('' for none), got {gan.augment!r}")
  _positive_ints(config, "gan.d_hidden")
  for opt in ("g_optimizer", "d_optimizer"):
    _number(config, f"gan.{opt}.learning_rate", lambda v: v >= 0, "in [0, inf)")
    for k in ("b1", "b2"):
      _number(config, f"gan.{opt}.{k}", lambda v: 0 <= v < 1, "in [0, 1)")
  _number(config, "gan.real_label", lambda v: 0.5 < v <= 1, "in (0.5, 1]",
          " (1: no label smoothing; Salimans et al. use 0.9)")
  _number(config, "gan.g_ema", lambda v: 0 <= v < 1, "in [0, 1)", " (0: off; e.g. 0.999)")


def _pix2pix() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()   # the conditional GAN (model.name='pix2pix');
  c.l1_weight = 100.0            # lambda of L_cGAN + lambda * L1 (Isola et al.: 100)
  c.recon_loss = "l1"            # the term lambda weighs: 'l1' (pix2pix) or 'log_mse' (the mean
                                 # over images of log MSE: what the mean per-image PSNR rewards)
  c.gan_weight = 1.0             # weight of the adversarial term; 0: "L1 only" (D not trained)
  c.features = 32                # U-Net channels at the first level (doubling, up to max_features)
  c.max_features = 256
  c.depth = 0                    # U-Net stride-2 levels; 0: the deepest that fits (at most 5)
  c.bottleneck_blocks = 0        # extra 3x3 conv blocks at the U-Net's bottleneck
  c.dropout = 0.5                # dropout in the innermost decoder blocks (G's noise)
  c.norm = "batch"               # 'batch', 'instance' or 'none' (both networks)
  c.d_features = 64              # PatchGAN channels at its first layer
  c.d_layers = 2                 # PatchGAN stride-2 layers (receptive field 16 / 34 / 70 px)
  c.residual = False             # True: G's output = its (upsampled) input + the U-Net's
                                 # linear output (residual learning; gray input replicated)
  c.g_upsampling = "transpose"   # the U-Net decoder's x2 steps: 'transpose' (4x4 stride-2
                                 # transposed convolutions, pix2pix) or 'resize' (nearest x2 +
                                 # 3x3 convolution: no checkerboard artifacts)
  c.upsample = "bicubic"         # low-resolution inputs resized to the output size by this
                                 # (the gan.* optimizers, generator_loss and real_label apply)
  return c


def _check_pix2pix(pix2pix) -> None:
  config = {"pix2pix": pix2pix}   # the group under its name: messages name the full key
  for key in ("features", "max_features", "d_features", "d_layers"):
    _int(config, f"pix2pix.{key}")
  _int(config, "pix2pix.depth", minimum=0)
  _int(config, "pix2pix.bottleneck_blocks", minimum=0)
  _number(config, "pix2pix.l1_weight", lambda v: v >= 0, ">= 0")
  _number(config, "pix2pix.gan_weight", lambda v: v >= 0, ">= 0", " (0: L1 only)")
  _number(config, "pix2pix.dropout", lambda v: 0 <= v < 1, "in [0, 1)")
  _string(config, "pix2pix.norm")
  _string(config, "pix2pix.upsample")
  check_choice(config, "pix2pix.g_upsampling", ("transpose", "resize"))
  _string(config, "pix2pix.recon_loss")
  _bool(config, "pix2pix.residual")


def _eval() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.batch_size = 250             # test examples per evaluation call
  c.nll_samples = 1000           # K of the importance-weighted NLL in eval.json
  c.nll_samples_during_training = 0   # K at periodic evaluations (0: skip the NLL there)
  c.nll_chunk = 100              # importance samples drawn at a time (bounds memory)
  c.num_images = 64              # pictures per grid
  c.num_mode_samples = 2500      # GAN samples for the mode-collapse metrics (2-D mixtures,
                                 # Stacked MNIST)
  c.sample_metrics = True        # labelled images: Frechet distance, classifier score,
                                 # precision/recall, density/coverage of generated samples
                                 # (the judge classifier, trained once and cached)
  c.num_metric_samples = 1000    # generated samples for those metrics
  c.background_rate = 0.0        # > 0: --mode anomaly also trains a background model on training
                                 # inputs perturbed at this rate and scores the likelihood
                                 # ratio 'llr' (Ren et al. 2019); VAEs only
  c.select_on = ""               # model selection: a metric of the periodic evaluation (e.g.
                                 # 'psnr') scored on the dataset's validation split at every
                                 # evaluation; the best step is kept in WORKDIR/selected and
                                 # eval.json["selected"] holds its test metrics ('': off)
  c.select_higher = True         # True: the largest value of select_on is best; False: smallest
  return c


def _check_eval(eval) -> None:
  config = {"eval": eval}   # the group under its name: messages name the full key
  for key in ("batch_size", "nll_samples", "nll_chunk", "num_images", "num_mode_samples",
              "num_metric_samples"):
    _int(config, f"eval.{key}")
  _int(config, "eval.nll_samples_during_training", minimum=0)
  _bool(config, "eval.sample_metrics")
  _number(config, "eval.background_rate", lambda v: 0 <= v < 1, "in [0, 1)",
          " (0: off; e.g. 0.2)")
  _string(config, "eval.select_on")
  _bool(config, "eval.select_higher")


# name -> (schema, the checks of that group alone); base_config's groups after the top level
GROUPS = {"mesh": (_mesh, _check_mesh), "dataset": (_dataset, _check_dataset),
          "model": (_model, _check_model), "gan": (_gan, _check_gan),
          "pix2pix": (_pix2pix, _check_pix2pix), "eval": (_eval, _check_eval)}


def base_config() -> ml_collections.ConfigDict:
  """All keys with their defaults. Config files override; they never add new keys."""
  c = _top_level()
  for name, (schema, _) in GROUPS.items():
    c[name] = schema()
  return c


def cross_group_rules(config) -> None:
  """The rules that tie groups together (each group is checked on its own first)."""
  m = config.model
  if m.name == "pix2pix" and not (config.pix2pix.l1_weight or config.pix2pix.gan_weight):
    raise ConfigError("config.pix2pix.l1_weight and gan_weight are both 0: the generator would "
                      "learn nothing; set --config.pix2pix.l1_weight=100 (and/or gan_weight=1)")
  if m.objective == "iwae" and (m.name not in ("vae", "cvae") or m.beta != 1):
    raise ConfigError("config.model.objective='iwae' is the VAE's importance-weighted bound, "
                      "which has no beta: use it with model.name='vae' and model.beta=1")
  g = config.gan
  if m.name != "gan":
    for key, default in (("discriminator_loss", "cross_entropy"), ("pack", 1),
                         ("spectral_norm", False), ("r1_gamma", 0.0), ("r1_every", 1),
                         ("augment", ""), ("truncation", 0.0)):
      if g[key] != default:
        raise ConfigError(f"config.gan.{key} applies to model.name='gan' only; leave it at "
                          f"{default!r} for model {m.name!r}")
  if g.r1_every != 1 and not g.r1_gamma:
    raise ConfigError(f"config.gan.r1_every={g.r1_every} spaces out the R1 penalty, which is off "
                      "(gan.r1_gamma=0): set --config.gan.r1_gamma (e.g. 1.0) or leave r1_every=1")
  if g.discriminator_loss == "hinge" and g.real_label != 1:
    raise ConfigError("config.gan.real_label < 1 smooths the cross-entropy's target, which the "
                      "hinge loss has not; set --config.gan.real_label=1 or "
                      "--config.gan.discriminator_loss=cross_entropy")
  if m.name == "gan" and config.batch_size % g.pack:
    raise ConfigError(f"config.batch_size={config.batch_size} cannot be cut into packs of "
                      f"config.gan.pack={g.pack}; use a batch size divisible by {g.pack}")
  if config.eval.background_rate and m.name != "vae":
    raise ConfigError(f"config.eval.background_rate trains a background model for the VAE's "
                      f"likelihood ratio; model {m.name!r} has no likelihood: leave it at 0")
  if config.dataset.perturb_rate and (config.dataset.preprocess not in (
      "dynamic_binarize", "static_binarize", "threshold", "unit", "symmetric")
      or m.name in ("pix2pix", "cvae")):
    raise ConfigError("config.dataset.perturb_rate perturbs the images of an unconditional "
                      "model preprocessed to a known range; leave it at 0 for "
                      f"model {m.name!r} with preprocess {config.dataset.preprocess!r}")
  if config.eval.select_on and config.num_seeds > 1:
    raise ConfigError(f"config.eval.select_on={config.eval.select_on!r} selects one step of one "
                      f"run; with config.num_seeds={config.num_seeds} train the seeds one at a "
                      f"time (--config.num_seeds=1) or set --config.eval.select_on=''")
  if config.num_seeds > 1 and m.name not in ("gan", "pix2pix"):
    raise ConfigError("config.num_seeds > 1 is supported for GANs only; run one seed at a time")
  if (m.name not in ("gan", "pix2pix") and m.likelihood == "bernoulli"
      and config.dataset.preprocess == "symmetric"):
    raise ConfigError("a Bernoulli decoder needs data in [0, 1]: use --config.dataset.preprocess="
                      "dynamic_binarize/static_binarize/threshold/unit, or "
                      "--config.model.likelihood=gaussian")


def config_from_json(text: str) -> ml_collections.ConfigDict:
  """The config a run saved as ``config.json`` (``ConfigDict.to_json``), rebuilt on
  :func:`base_config` so that tuples come back as tuples. ConfigError for a key this
  version of jaxgen does not know."""
  config = base_config()

  def fill(node, values, prefix):
    for key, value in values.items():
      if key not in node:
        raise ConfigError(f"saved config has key '{prefix}{key}', unknown to this version of "
                          f"jaxgen; train again or install the version that wrote it")
      if isinstance(node[key], ml_collections.ConfigDict):
        fill(node[key], value, f"{prefix}{key}.")
      elif isinstance(node[key], tuple):
        node[key] = tuple(value)
      else:
        node[key] = value

  fill(config, json.loads(text), "")
  return config


def _check_keys(config, reference, prefix=""):
  for key in config.keys():
    if key not in reference:
      known = ", ".join(sorted(reference.keys()))
      raise ConfigError(f"unknown config key '{prefix}{key}'; known keys here: {known}")
    if isinstance(config[key], ml_collections.ConfigDict):
      if not isinstance(reference[key], ml_collections.ConfigDict):
        raise ConfigError(f"config key '{prefix}{key}' must be a value, not a group")
      _check_keys(config[key], reference[key], prefix=f"{prefix}{key}.")


def validate(config: ml_collections.ConfigDict) -> None:
  """Checks a config before any data is loaded or anything compiled; raises ConfigError:
  no unknown key, each group's own checks, then :func:`cross_group_rules`."""
  _check_keys(config, base_config())
  _check_top_level(config)
  for name, (_, check) in GROUPS.items():
    check(config[name])
  cross_group_rules(config)


def load_config_file(path: str) -> ml_collections.ConfigDict:
  """``get_config()`` of the Python config file ``path`` (as ``train.py --config`` reads
  it), validated; ConfigError (one line) if it is missing or is no config file."""
  if not os.path.isfile(path):
    raise ConfigError(f"config file {path!r} not found: pass a file such as configs/gan_ring.py")
  spec = importlib.util.spec_from_file_location(
      f"jaxgen_config_{os.path.splitext(os.path.basename(path))[0]}", path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except Exception as e:  # noqa: BLE001 - the user's file; say which and why
    raise ConfigError(f"config file {path!r} failed to run ({type(e).__name__}: {e})") from None
  if not hasattr(module, "get_config"):
    raise ConfigError(f"{path!r} has no get_config(): a config file defines get_config()")
  config = module.get_config()
  validate(config)
  return config
