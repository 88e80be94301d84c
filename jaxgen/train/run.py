"""The one place a run is assembled: a config checked against the code's registries and
its data, with its dataset, model, keys, device-resident splits, mesh and evaluator (with
the judge of its samples) (:class:`Run`).

:func:`build_run` is everything before the first compilation (validation first, so bad
input fails in one line before anything loads or compiles). The training loop
(:func:`jaxgen.train.loop.train`), the driver's modes (:mod:`jaxgen.modes`), loading a
trained run (:func:`jaxgen.uses.loading.load`) and the benchmarks start from it, so they
run the same compiled program.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import config as config_lib
from jaxgen import models as models_lib
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import PREPROCESSORS, Dataset, load_dataset
from jaxgen.data import folders, streaming
from jaxgen.data.preprocess import deterministic, preprocess_batch
from jaxgen.evaluation import sample_quality
from jaxgen.losses import DISCRIMINATOR_LOSSES, GENERATOR_LOSSES, RECONSTRUCTION_LOSSES
from jaxgen.models.codec import LIKELIHOODS
from jaxgen.models.interface import GenerativeModel
from jaxgen.models.pix2pix import UPSAMPLE_METHODS
from jaxgen.models.state import LR_SCHEDULES
from jaxgen.models.vae import OBJECTIVES
from jaxgen.nets import adversarial as gan_nets
from jaxgen.nets import augment
from jaxgen.nets import autoencoders as ae_nets
from jaxgen.nets import conditional as conditional_nets
from jaxgen.scale import mesh as mesh_lib
from jaxgen.train import steps
from jaxgen.train.evaluator import Evaluator

# Which of a workdir's checkpoints to restore: the latest, or the step model selection kept.
CHECKPOINTS = ("latest", "selected")

# The networks model.net may name (autoencoders' and GANs'; pix2pix ignores the key).
NETS = tuple(dict.fromkeys(ae_nets.NETS + gan_nets.NETS))


def check_workdir(workdir: str) -> None:
  """Creates ``workdir`` and checks that it is writable (ConfigError with the fix if not)."""
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, ".write_test")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise config_lib.ConfigError(f"workdir {workdir!r} is not writable ({e.strerror}); "
                                 f"pass --workdir with a directory you can write") from e


def check_choices(config) -> None:
  """ConfigError unless every key that names something of the code names one that exists
  (a model, network, likelihood, objective, generator loss, minibatch layer, norm, upsampling,
  schedule, preprocessing), checked against the registries where those live; and the
  network fits the model."""
  check = config_lib.check_choice
  check(config, "lr_schedule", LR_SCHEDULES)
  check(config, "model.name", tuple(models_lib.MODELS))
  check(config, "gan.generator_loss", tuple(GENERATOR_LOSSES))
  check(config, "gan.discriminator_loss", DISCRIMINATOR_LOSSES)
  check(config, "gan.minibatch", gan_nets.MINIBATCH_KINDS)
  try:
    augment.parse_policy(config.gan.augment)
  except ValueError as e:
    raise config_lib.ConfigError(f"config.gan.augment={config.gan.augment!r}: {e}") from None
  check(config, "model.net", NETS)
  check(config, "model.likelihood", LIKELIHOODS)
  check(config, "model.objective", OBJECTIVES)
  check(config, "dataset.preprocess", PREPROCESSORS)
  check(config, "dataset.eval_preprocess", PREPROCESSORS)
  check(config, "dataset.stream", streaming.STREAM_MODES)
  check(config, "dataset.pairs", ("",) + folders.PAIRS)
  check(config, "pix2pix.norm", conditional_nets.NORMS)
  check(config, "pix2pix.upsample", UPSAMPLE_METHODS)
  check(config, "pix2pix.recon_loss", tuple(RECONSTRUCTION_LOSSES))
  nets = gan_nets.NETS if config.model.name == "gan" else ae_nets.NETS
  if config.model.name != "pix2pix" and config.model.net not in nets:
    raise config_lib.ConfigError(
        f"config.model.net={config.model.net!r} does not fit model {config.model.name!r}: "
        f"AE/VAE use {' or '.join(map(repr, ae_nets.NETS))}, GANs "
        f"{' or '.join(map(repr, gan_nets.NETS))}")


def check_config(config) -> None:
  """The whole check of a config before anything loads: :func:`jaxgen.config.validate`
  (keys, each group, the rules between groups), then :func:`check_choices`."""
  config_lib.validate(config)
  check_choices(config)


def validate_against_data(config: ml_collections.ConfigDict, dataset) -> None:
  """Checks what depends on the loaded data (still before any compilation)."""
  n = dataset.train.shape[0]
  if dataset.kind == "points":
    if config.dataset.preprocess != "none" or config.dataset.eval_preprocess != "none":
      raise config_lib.ConfigError(f"{dataset.name!r} holds 2-D points: set --config.dataset.preprocess=none "
                        f"and --config.dataset.eval_preprocess=none")
    if config.model.name != "gan" or config.model.net != "mlp":
      raise config_lib.ConfigError(f"{dataset.name!r} holds 2-D points: use model.name='gan' with "
                        f"model.net='mlp'")
    if config.gan.augment:
      raise config_lib.ConfigError(f"config.gan.augment={config.gan.augment!r} transforms images, "
                                   f"but {dataset.name!r} holds 2-D points; set "
                                   f"--config.gan.augment=''")
  if config.eval.select_on and not dataset.has_validation:
    raise config_lib.ConfigError(f"config.eval.select_on={config.eval.select_on!r} selects on a "
                                 f"validation split, which {dataset.name!r} has not (photos_sr4 "
                                 f"and photos_color have one); set --config.eval.select_on=''")
  if config.dataset.dihedral and (dataset.kind != "image"
                                  or dataset.example_shape[0] != dataset.example_shape[1]):
    raise config_lib.ConfigError(f"config.dataset.dihedral turns and flips square images; "
                                 f"{dataset.name!r} holds {dataset.kind} of shape "
                                 f"{list(dataset.example_shape)}: set --config.dataset.dihedral=False")
  if config.batch_size > n:
    raise config_lib.ConfigError(f"config.batch_size={config.batch_size} is larger than the training split "
                      f"of {dataset.name!r} ({n} examples); use --config.batch_size<={n}")
  n_test = dataset.test.shape[0]
  if n_test < config.batch_size:
    raise config_lib.ConfigError(
        f"the test split of {dataset.name!r} holds {n_test} examples, fewer than one batch "
        f"({config.batch_size}); evaluation and the sample metrics need at least a batch: add "
        f"test examples (raise --config.dataset.test_fraction for a folder) or lower "
        f"--config.batch_size")
  if config.model.name == "pix2pix":
    if not dataset.paired:
      raise config_lib.ConfigError(f"model pix2pix translates input images, but {dataset.name!r} holds "
                        f"none; use a paired dataset: --config.dataset.name=mnist_sr4 (or "
                        f"mnist_sr2, photos_sr4, photos_color, paired_folder), or make pairs "
                        f"from your images with --config.dataset.pairs=sr4 (sr2, gray)")
    h, w = dataset.example_shape[:2]
    depth = config.pix2pix.depth or min(5, conditional_nets.unet_max_depth(h, w))
    problem = conditional_nets.unet_size_problem(h, w, depth)
    if problem:
      raise config_lib.ConfigError(f"{problem} ({dataset.name!r}); set --config.pix2pix.depth=0 (the "
                        f"deepest that fits)")
    problem = conditional_nets.patch_size_problem(h, w, config.pix2pix.d_layers)
    if problem:
      raise config_lib.ConfigError(f"{problem} ({dataset.name!r}); lower --config.pix2pix.d_layers")
    return
  if dataset.paired:
    raise config_lib.ConfigError(f"{dataset.name!r} is a paired (image-to-image) dataset: train it with "
                      f"--config.model.name=pix2pix")
  if config.model.name == "cvae":
    if dataset.train_labels is None:
      raise config_lib.ConfigError(f"model cvae is conditioned on labels, but {dataset.name!r} has none; "
                        f"use a labelled dataset such as mnist_subset")
    top = int(max(dataset.train_labels.max(), dataset.test_labels.max()))
    if top >= config.model.num_classes or min(dataset.train_labels.min(),
                                              dataset.test_labels.min()) < 0:
      raise config_lib.ConfigError(f"{dataset.name!r} has labels 0..{top}, more than "
                        f"config.model.num_classes={config.model.num_classes}; set "
                        f"--config.model.num_classes={top + 1}")
  nets = gan_nets if config.model.name == "gan" else ae_nets
  problem = nets.image_size_problem(config.model.net, dataset.example_shape)
  if problem:
    raise config_lib.ConfigError(f"{problem} ({dataset.name!r}); use --config.model.net=mlp")


def prepare(config, workdir: str | None = None) -> tuple[Dataset, GenerativeModel]:
  """Validates the config, loads the data and builds the model: everything before compiling."""
  check_config(config)
  mesh_lib.mesh_shape(config)       # the mesh fits the devices, batch and seeds
  dataset = load_dataset(config.dataset)
  validate_against_data(config, dataset)
  if workdir is not None:
    check_workdir(workdir)
  return dataset, models_lib.build(config, dataset.example_shape, dataset.input_shape)


@dataclasses.dataclass
class Run:
  """One config ready to train or evaluate: its dataset and model, the keys of its seeds,
  the raw training split (on the device, or in host memory where it streams:
  ``streamed``, :mod:`jaxgen.data.streaming`) and the preprocessed test split on the
  device, and the device mesh training runs on (:mod:`jaxgen.scale.mesh`)."""
  config: Any
  dataset: Dataset
  model: GenerativeModel
  keys: list[dict]
  train_x: Any
  test_x: jax.Array
  mesh: Any = None
  streamed: bool = False

  @property
  def num_seeds(self) -> int:
    return len(self.keys)

  def init_state(self):
    """The state at step 0 (stacked over seeds when there are several), on one device."""
    return steps.init_state(self.model, self.keys)

  def abstract_state(self):
    """The shapes, dtypes and device of :meth:`init_state`'s arrays, computing none of them
    (what a checkpoint is restored into)."""
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device),
                        jax.eval_shape(self.init_state))

  def place_state(self, state):
    """``state`` (the same in every process) placed on the mesh: replicated over ``data``,
    its seeds over ``runs``."""
    return mesh_lib.put(state, mesh_lib.seed_sharding(self.mesh, self.num_seeds))

  def compile_chunk(self, length: int) -> Callable:
    """The jitted, donating chunk of ``length`` steps on the run's mesh (a
    :class:`~jaxgen.train.steps.StreamedChunk` where the split streams from the host),
    called as ``chunk(state, *run.chunk_inputs(), np.int32(start))``."""
    return steps.compile_chunk_for(self.model, self.config, self.train_x, self.num_seeds,
                                   length, self.mesh, self.streamed)

  def chunk_inputs(self) -> tuple[Any, jax.Array, jax.Array]:
    """(training split, train keys, data keys) placed on the mesh: the split replicated
    (left in host memory where it streams), the keys stacked over seeds (where there are
    several) and laid over ``runs``."""
    keys = mesh_lib.seed_sharding(self.mesh, self.num_seeds)
    split = self.train_x if self.streamed else mesh_lib.put(self.train_x,
                                                            mesh_lib.replicated(self.mesh))
    return (split,
            mesh_lib.put(steps.stack_keys(self.keys, "train"), keys),
            mesh_lib.put(steps.stack_keys(self.keys, "data"), keys))

  def scoring_train_x(self, key: jax.Array) -> jax.Array:
    """The training split preprocessed without randomness (``preprocess.deterministic``),
    for scoring it as the test split is scored (conditions as in training)."""
    return preprocess_batch(jax.tree.map(jnp.asarray, self.train_x), key,
                            deterministic(self.config.dataset.preprocess))

  def evaluator(self, log: Callable[[str], None] = print,
                split: str = "test") -> Evaluator:
    """The run's evaluator of the ``split`` 'test' (the default) or 'validation' (the
    dataset's validation split, :meth:`Dataset.validation_view`), with the sample judge its
    data calls for (:func:`jaxgen.evaluation.sample_quality.make_judge`; may train and
    cache the judge classifier on first use)."""
    if split not in ("test", "validation"):
      raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
    dataset, test_x = self.dataset, self.test_x
    if split == "validation":
      if not dataset.has_validation:
        raise config_lib.ConfigError(f"dataset {dataset.name!r} has no validation split to "
                                     f"select a model on; set --config.eval.select_on=''")
      dataset = dataset.validation_view()
      test_x = steps.eval_split(self.config, dataset, self.keys[0], self.model.condition)
    judge = sample_quality.make_judge(dataset, self.config.dataset, self.config.eval,
                                      log, self.model, self.config.model.num_classes)
    return Evaluator(self.model, self.config, test_x, self.keys[0]["eval"], dataset.info, judge)

  def restore(self, workdir: str, log: Callable[[str], None] = print, writer: bool = False,
              checkpoint: str = "latest"):
    """The latest readable checkpoint in ``workdir`` (``checkpoint='latest'``), or the step
    model selection kept (``'selected'``, :mod:`jaxgen.train.selection`); ConfigError if
    there is none."""
    if checkpoint not in CHECKPOINTS:
      raise ValueError(f"checkpoint must be one of {CHECKPOINTS}, got {checkpoint!r}")
    folder = "checkpoints" if checkpoint == "latest" else "selected"
    ckpt = Checkpointer(os.path.join(workdir, folder), self.config.keep_checkpoints,
                        log=log, writer=writer)
    try:
      if ckpt.latest_step() is None:
        fix = ("train first with --mode train and the same --workdir" if checkpoint == "latest"
               else "train with --config.eval.select_on (e.g. psnr) on a dataset with a "
                    "validation split")
        raise config_lib.ConfigError(f"no checkpoint in {ckpt.directory}: {fix}")
      return ckpt.restore(self.abstract_state())
    finally:
      ckpt.close()


def build_run(config, workdir: str | None = None) -> Run:
  """Validates ``config``, loads its data, builds its model and puts the splits on the
  device (nothing compiled yet)."""
  dataset, model = prepare(config, workdir)
  keys = steps.seed_keys(config)
  train_x = steps.train_split(config, dataset, model.condition)
  streamed = streaming.streams(config.dataset.stream, train_x)
  if not streamed:
    train_x = jax.device_put(train_x)
  test_x = steps.eval_split(config, dataset, keys[0], model.condition)
  return Run(config, dataset, model, keys, train_x, test_x, mesh_lib.build_mesh(config),
             streamed)
