"""The configuration contract: every key an experiment may set, its defaults, and validation.

Config files in ``configs/`` start from :func:`base_config` and change what they need.
:func:`validate` checks a config (types, ranges, names) before anything is compiled and
raises :class:`ConfigError` with one line that says what is wrong and how to fix it.
"""
from __future__ import annotations

import numbers

import ml_collections

from jaxgen.data.preprocess import PREPROCESSORS
from jaxgen.losses import GENERATOR_LOSSES
from jaxgen.models import MODELS
from jaxgen.models.codec import LIKELIHOODS
from jaxgen.models.vae import OBJECTIVES
from jaxgen.models.state import LR_SCHEDULES
from jaxgen.nets import autoencoders as ae_nets
from jaxgen.nets import conditional as conditional_nets
from jaxgen.nets import gan as gan_nets

# The valid choices of each key are defined where they are used, and only there.
NETS = tuple(dict.fromkeys(ae_nets.NETS + gan_nets.NETS))


class ConfigError(ValueError):
  """A configuration value is missing, unknown, of the wrong type or out of range."""


def base_config() -> ml_collections.ConfigDict:
  """All keys with their defaults. Config files override; they never add new keys."""
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
  c.mesh = ml_collections.ConfigDict()   # the device mesh of training (jaxgen.train.mesh)
  c.mesh.data = 0                # devices the batch is split over (0: every device the runs leave)
  c.mesh.runs = 1                # devices the seeds (num_seeds > 1) are laid over, no communication

  c.dataset = ml_collections.ConfigDict()
  c.dataset.name = "mnist_subset"
  c.dataset.data_dir = ""        # tfds data_dir ('' = tfds default)
  c.dataset.download = False     # let tfds download and prepare (needs internet)
  c.dataset.train_split = "train"
  c.dataset.test_split = "test"
  c.dataset.image_key = "image"
  c.dataset.label_key = "label"
  c.dataset.preprocess = "dynamic_binarize"   # training batches
  c.dataset.eval_preprocess = "threshold"     # the test split
  c.dataset.classes = ()         # train on these labels only (e.g. (3,)); () = all
  c.dataset.exclude_classes = ()  # leave these labels out of training (e.g. (3,))
                                 # (both filter the training split; the test split stays whole)

  c.model = ml_collections.ConfigDict()
  c.model.name = "vae"
  c.model.net = "mlp"
  c.model.hidden = (400,)        # mlp: hidden widths (decoder mirrors); conv: (dense width,)
  c.model.latent_dim = 20
  c.model.likelihood = "bernoulli"   # p(x|z): 'bernoulli' (logits) or 'gaussian' (learned scalar variance)
  c.model.beta = 1.0             # weight of the KL term
  c.model.num_samples = 1        # Monte-Carlo samples L in the training ELBO (K for 'iwae')
  c.model.objective = "elbo"     # VAE training objective: 'elbo', or 'iwae' (the importance-
                                 # weighted bound with K = model.num_samples; Burda et al. 2016)
  c.model.num_classes = 10       # cvae: labels 0 .. num_classes - 1 (one-hot into both nets)

  c.gan = ml_collections.ConfigDict()
  c.gan.generator_loss = "non_saturating"   # or 'saturating' (the minimax game as written)
  c.gan.d_steps = 1              # discriminator updates per generator update
  c.gan.real_label = 1.0         # < 1: one-sided label smoothing, D's target for real examples
  c.gan.g_ema = 0.0              # > 0: sample from an exponential moving average of G's params
                                 # with this decay (e.g. 0.999); 0: from G's params
  c.gan.d_hidden = (400,)        # mlp discriminator widths
  c.gan.maxout_pieces = 1        # >1: maxout hidden units in the mlp discriminator
  c.gan.features = 64            # dcgan base channel count (the generator's, and D's by default)
  c.gan.d_features = 0           # dcgan discriminator base channel count (0: gan.features);
                                 # e.g. features / 2 for PacGAN's weaker discriminator
  c.gan.minibatch = "none"       # 'discrimination' (Salimans et al.) or 'stddev' (Karras et al.)
  c.gan.mb_kernels = 100         # minibatch discrimination B
  c.gan.mb_dims = 5              # minibatch discrimination C
  c.gan.mb_normalize = False     # True: divide o by (batch - 1), the mean instead of the sum
  c.gan.g_optimizer = ml_collections.ConfigDict(
      {"learning_rate": 0.0, "b1": 0.5, "b2": 0.999})   # learning_rate 0: use config.learning_rate
  c.gan.d_optimizer = ml_collections.ConfigDict(
      {"learning_rate": 0.0, "b1": 0.5, "b2": 0.999})

  c.pix2pix = ml_collections.ConfigDict()   # the conditional GAN (model.name='pix2pix');
  c.pix2pix.l1_weight = 100.0    # lambda of L_cGAN + lambda * L1 (Isola et al.: 100)
  c.pix2pix.gan_weight = 1.0     # weight of the adversarial term; 0: "L1 only" (D not trained)
  c.pix2pix.features = 32        # U-Net channels at the first level (doubling, up to max_features)
  c.pix2pix.max_features = 256
  c.pix2pix.depth = 0            # U-Net stride-2 levels; 0: the deepest that fits (at most 5)
  c.pix2pix.bottleneck_blocks = 0  # extra 3x3 conv blocks at the U-Net's bottleneck
  c.pix2pix.dropout = 0.5        # dropout in the innermost decoder blocks (G's noise)
  c.pix2pix.norm = "batch"       # 'batch', 'instance' or 'none' (both networks)
  c.pix2pix.d_features = 64      # PatchGAN channels at its first layer
  c.pix2pix.d_layers = 2         # PatchGAN stride-2 layers (receptive field 16 / 34 / 70 px)
  c.pix2pix.residual = False     # True: G's output = its (upsampled) input + the U-Net's
                                 # linear output (residual learning; gray input replicated)
  c.pix2pix.upsample = "bicubic"  # low-resolution inputs resized to the output size by this
                                 # (the gan.* optimizers, generator_loss and real_label apply)

  c.eval = ml_collections.ConfigDict()
  c.eval.batch_size = 250        # test examples per evaluation call
  c.eval.nll_samples = 1000      # K of the importance-weighted NLL in eval.json
  c.eval.nll_samples_during_training = 0   # K at periodic evaluations (0: skip the NLL there)
  c.eval.nll_chunk = 100         # importance samples drawn at a time (bounds memory)
  c.eval.num_images = 64         # pictures per grid
  c.eval.num_mode_samples = 2500  # GAN samples for the mode-collapse metrics (2-D mixtures,
                                 # Stacked MNIST)
  c.eval.sample_metrics = True   # labelled images: Frechet distance, classifier score,
                                 # precision/recall, density/coverage of generated samples
                                 # (the evaluator classifier, trained once and cached)
  c.eval.num_metric_samples = 1000   # generated samples for those metrics
  return c


def config_from_json(text: str) -> ml_collections.ConfigDict:
  """The config a run saved as ``config.json`` (``ConfigDict.to_json``), rebuilt on
  :func:`base_config` so that tuples come back as tuples. ConfigError for a key this
  version of jaxgen does not know."""
  import json  # lazy: only for reading a saved run
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


def _choice(config, path, choices):
  value = _get(config, path)
  if value not in choices:
    raise ConfigError(f"config.{path}={value!r} is not one of {', '.join(map(repr, choices))}")
  return value


def validate(config: ml_collections.ConfigDict) -> None:
  """Checks a config before any data is loaded or anything compiled; raises ConfigError."""
  _check_keys(config, base_config())
  _int(config, "seed", minimum=0)
  for key in ("num_steps", "batch_size", "log_every", "eval_every", "checkpoint_every",
              "keep_checkpoints", "eval.batch_size", "eval.nll_samples", "eval.nll_chunk",
              "eval.num_images", "model.latent_dim", "model.num_samples", "num_seeds",
              "num_samples", "gan.d_steps", "gan.features", "gan.mb_kernels", "gan.mb_dims",
              "gan.maxout_pieces", "eval.num_mode_samples", "eval.num_metric_samples",
              "pix2pix.features", "pix2pix.max_features", "pix2pix.d_features",
              "pix2pix.d_layers"):
    _int(config, key)
  _int(config, "model.num_classes", minimum=2)
  _int(config, "mesh.runs")
  _int(config, "mesh.data", minimum=0)
  _int(config, "pix2pix.depth", minimum=0)
  _int(config, "pix2pix.bottleneck_blocks", minimum=0)
  _number(config, "pix2pix.l1_weight", lambda v: v >= 0, ">= 0")
  _number(config, "pix2pix.gan_weight", lambda v: v >= 0, ">= 0", " (0: L1 only)")
  _number(config, "pix2pix.dropout", lambda v: 0 <= v < 1, "in [0, 1)")
  _choice(config, "pix2pix.norm", conditional_nets.NORMS)
  _choice(config, "pix2pix.upsample", ("bicubic", "nearest", "linear"))
  if config.model.name == "pix2pix" and not (config.pix2pix.l1_weight or config.pix2pix.gan_weight):
    raise ConfigError("config.pix2pix.l1_weight and gan_weight are both 0: the generator would "
                      "learn nothing; set --config.pix2pix.l1_weight=100 (and/or gan_weight=1)")
  _int(config, "eval.nll_samples_during_training", minimum=0)
  _int(config, "gan.d_features", minimum=0)
  for key in ("progress", "skip_nonfinite", "deterministic", "dataset.download",
              "gan.mb_normalize", "eval.sample_metrics", "pix2pix.residual"):
    if not isinstance(_get(config, key), bool):
      raise ConfigError(f"config.{key} must be True or False, got {_get(config, key)!r}")
  for key in ("dataset.data_dir", "dataset.train_split", "dataset.test_split",
              "dataset.image_key", "dataset.label_key"):
    if not isinstance(_get(config, key), str):
      raise ConfigError(f"config.{key} must be a string, got {_get(config, key)!r}")
  _positive_float(config, "learning_rate")
  _number(config, "model.beta", lambda v: v >= 0, ">= 0")
  for opt in ("g_optimizer", "d_optimizer"):
    _number(config, f"gan.{opt}.learning_rate", lambda v: v >= 0, "in [0, inf)")
    for k in ("b1", "b2"):
      _number(config, f"gan.{opt}.{k}", lambda v: 0 <= v < 1, "in [0, 1)")
  _number(config, "gan.real_label", lambda v: 0.5 < v <= 1, "in (0.5, 1]",
          " (1: no label smoothing; Salimans et al. use 0.9)")
  _number(config, "gan.g_ema", lambda v: 0 <= v < 1, "in [0, 1)", " (0: off; e.g. 0.999)")
  _choice(config, "seed_batching", ("map", "vmap"))
  _choice(config, "lr_schedule", LR_SCHEDULES)
  _number(config, "lr_final_fraction", lambda v: 0 <= v <= 1, "in [0, 1]")
  _choice(config, "model.name", tuple(MODELS))
  _choice(config, "gan.generator_loss", tuple(GENERATOR_LOSSES))
  _choice(config, "gan.minibatch", gan_nets.MINIBATCH_KINDS)
  _choice(config, "model.net", NETS)
  _choice(config, "model.likelihood", LIKELIHOODS)
  _choice(config, "model.objective", OBJECTIVES)
  for key in ("dataset.classes", "dataset.exclude_classes"):
    value = _get(config, key)
    if not isinstance(value, (tuple, list)) or not all(
        isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 0 for c in value):
      raise ConfigError(f"config.{key} must be a tuple of labels (integers >= 0), got {value!r}; "
                        f"e.g. --config.{key}='(3,)'")
  if config.model.objective == "iwae" and (config.model.name not in ("vae", "cvae") or config.model.beta != 1):
    raise ConfigError("config.model.objective='iwae' is the VAE's importance-weighted bound, "
                      "which has no beta: use it with model.name='vae' and model.beta=1")
  if set(config.dataset.classes) & set(config.dataset.exclude_classes):
    raise ConfigError(f"config.dataset.classes {tuple(config.dataset.classes)} and "
                      f"dataset.exclude_classes {tuple(config.dataset.exclude_classes)} share "
                      f"labels; a label cannot be both kept and left out")
  _choice(config, "dataset.preprocess", PREPROCESSORS)
  _choice(config, "dataset.eval_preprocess", PREPROCESSORS)
  for key in ("model.hidden", "gan.d_hidden"):
    group, name = key.split(".")
    hidden = config[group][name]
    if not isinstance(hidden, (tuple, list)) or not hidden or not all(
        isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0 for h in hidden):
      raise ConfigError(f"config.{key} must be a non-empty tuple of positive integers, "
                        f"got {hidden!r}")
  nets = gan_nets.NETS if config.model.name == "gan" else ae_nets.NETS
  if config.model.name != "pix2pix" and config.model.net not in nets:
    raise ConfigError(f"config.model.net={config.model.net!r} does not fit model "
                      f"{config.model.name!r}: AE/VAE use {' or '.join(map(repr, ae_nets.NETS))}, GANs "
                      f"{' or '.join(map(repr, gan_nets.NETS))}")
  if config.num_seeds > 1 and config.model.name not in ("gan", "pix2pix"):
    raise ConfigError("config.num_seeds > 1 is supported for GANs only; run one seed at a time")
  if not isinstance(config.dataset.name, str) or not config.dataset.name:
    raise ConfigError("config.dataset.name must be a dataset name, e.g. mnist_subset")
  if (config.model.name not in ("gan", "pix2pix") and config.model.likelihood == "bernoulli"
      and config.dataset.preprocess == "symmetric"):
    raise ConfigError("a Bernoulli decoder needs data in [0, 1]: use --config.dataset.preprocess="
                      "dynamic_binarize/static_binarize/threshold/unit, or "
                      "--config.model.likelihood=gaussian")


def validate_against_data(config: ml_collections.ConfigDict, dataset) -> None:
  """Checks what depends on the loaded data (still before any compilation)."""
  n = dataset.train.shape[0]
  if dataset.kind == "points":
    if config.dataset.preprocess != "none" or config.dataset.eval_preprocess != "none":
      raise ConfigError(f"{dataset.name!r} holds 2-D points: set --config.dataset.preprocess=none "
                        f"and --config.dataset.eval_preprocess=none")
    if config.model.name != "gan" or config.model.net != "mlp":
      raise ConfigError(f"{dataset.name!r} holds 2-D points: use model.name='gan' with "
                        f"model.net='mlp'")
  if config.batch_size > n:
    raise ConfigError(f"config.batch_size={config.batch_size} is larger than the training split "
                      f"of {dataset.name!r} ({n} examples); use --config.batch_size<={n}")
  if config.model.name == "pix2pix":
    if not dataset.paired:
      raise ConfigError(f"model pix2pix translates input images, but {dataset.name!r} holds "
                        f"none; use a paired dataset: --config.dataset.name=mnist_sr4 (or "
                        f"mnist_sr2, photos_sr4, photos_color)")
    h, w = dataset.example_shape[:2]
    depth = config.pix2pix.depth or min(5, conditional_nets.unet_max_depth(h, w))
    problem = conditional_nets.unet_size_problem(h, w, depth)
    if problem:
      raise ConfigError(f"{problem} ({dataset.name!r}); set --config.pix2pix.depth=0 (the "
                        f"deepest that fits)")
    problem = conditional_nets.patch_size_problem(h, w, config.pix2pix.d_layers)
    if problem:
      raise ConfigError(f"{problem} ({dataset.name!r}); lower --config.pix2pix.d_layers")
    return
  if dataset.paired:
    raise ConfigError(f"{dataset.name!r} is a paired (image-to-image) dataset: train it with "
                      f"--config.model.name=pix2pix")
  if config.model.name == "cvae":
    if dataset.train_labels is None:
      raise ConfigError(f"model cvae is conditioned on labels, but {dataset.name!r} has none; "
                        f"use a labelled dataset such as mnist_subset")
    top = int(max(dataset.train_labels.max(), dataset.test_labels.max()))
    if top >= config.model.num_classes or min(dataset.train_labels.min(),
                                              dataset.test_labels.min()) < 0:
      raise ConfigError(f"{dataset.name!r} has labels 0..{top}, more than "
                        f"config.model.num_classes={config.model.num_classes}; set "
                        f"--config.model.num_classes={top + 1}")
  nets = gan_nets if config.model.name == "gan" else ae_nets
  problem = nets.image_size_problem(config.model.net, dataset.example_shape)
  if problem:
    raise ConfigError(f"{problem} ({dataset.name!r}); use --config.model.net=mlp")
