"""Config validation: every bad value is refused with a message that names it."""
import glob
import os

import pytest

from jaxgen.config import ConfigError, base_config
from jaxgen.train.run import check_config, validate_against_data
from jaxgen.data import load_dataset


SHIPPED = sorted(os.path.basename(f)[:-3] for f in glob.glob(
    os.path.join(os.path.dirname(__file__), "..", "configs", "*.py")) if not f.endswith("__init__.py"))


def test_all_configs_found():
  assert {"vae_mnist", "gan_grid_mbd", "gan_grid_mbd_b256", "dcgan_mnist"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_are_valid(name, load_config):
  check_config(load_config(name))


@pytest.mark.parametrize("key,value,needle", [
    ("num_steps", 0, "num_steps"), ("batch_size", -1, "batch_size"),
    ("batch_size", 2.5, "integer"), ("learning_rate", -1e-3, "learning_rate"),
    ("model.name", "flow", "model.name"), ("model.net", "transformer", "model.net"),
    ("dataset.preprocess", "blur", "dataset.preprocess"), ("model.hidden", (), "hidden"),
    ("model.beta", -1.0, "beta"), ("eval.nll_samples", 0, "nll_samples"), ("seed", -1, "seed"),
    ("lr_schedule", "step", "lr_schedule"), ("lr_final_fraction", 1.5, "lr_final_fraction"),
    ("gan.real_label", 0.3, "real_label"), ("gan.real_label", 1.1, "real_label"),
    ("gan.g_ema", 1.0, "g_ema"), ("gan.g_ema", -0.1, "g_ema"),
])
def test_bad_values(key, value, needle):
  c = base_config()
  *path, last = key.split(".")
  target = c
  for p in path:
    target = target[p]
  with target.ignore_type():
    target[last] = value
  with pytest.raises(ConfigError, match=needle):
    check_config(c)


def test_unknown_key_in_a_config_file():
  c = base_config()
  c.model.laten_dim = 3
  with pytest.raises(ConfigError, match="unknown config key 'model.laten_dim'"):
    check_config(c)


def test_bernoulli_needs_unit_data():
  c = base_config()
  c.dataset.preprocess = "symmetric"
  with pytest.raises(ConfigError, match="Bernoulli"):
    check_config(c)


def test_batch_larger_than_split():
  c = base_config()
  c.batch_size = 4001
  with pytest.raises(ConfigError, match="larger than the training split"):
    validate_against_data(c, load_dataset(c.dataset))



# ----------------------------------------------------------------- every branch, one line
# Every leaf of the contract is refused with a one-line message naming it when it gets a
# value of the wrong kind or out of range. The list is built from base_config(), so a new
# key without validation fails here until it is validated (or listed in NOT_CHECKED_HERE).

NOT_CHECKED_HERE = {
    # any non-empty string is a name to look up: an unknown dataset is refused when loading
    # (tests/data/test_registry.py), splits and keys by tensorflow-datasets
    "dataset.name": "load",
}


def _leaves(config, prefix=""):
  for key in config.keys():
    value = config[key]
    if hasattr(value, "keys"):
      yield from _leaves(value, f"{prefix}{key}.")
    else:
      yield f"{prefix}{key}", value


# tuples of labels, where () (no filter) and (0,) are valid
LABEL_TUPLES = ("dataset.classes", "dataset.exclude_classes")


def _bad_values(value, key=""):
  """Values of the wrong kind or out of range for a leaf whose default is ``value``."""
  if key in LABEL_TUPLES:
    return [(4, -1), (2.5,), 7, (True,)]
  if isinstance(value, bool):
    return ["yes", 1]
  if isinstance(value, int):
    return [-1, 2.5, True, "3"]
  if isinstance(value, float):        # (ml_collections stores True in a float field as 1.0)
    return [-1.0, "0.5"]
  if isinstance(value, str):
    return [3, None]
  if isinstance(value, tuple):
    return [(), (0,), (4, -1), (2.5,), 7]
  raise AssertionError(f"no bad values known for {value!r}")


def _set(config, key, value):
  *path, last = key.split(".")
  target = config
  for p in path:
    target = target[p]
  with target.ignore_type():
    target[last] = value


CASES = [(k, bad) for k, v in _leaves(base_config()) if k not in NOT_CHECKED_HERE
         for bad in _bad_values(v, k)]


def test_every_leaf_has_cases():
  keys = {k for k, _ in CASES}
  assert len(keys) + len(NOT_CHECKED_HERE) == len(list(_leaves(base_config())))
  assert {"gan.g_optimizer.b1", "eval.nll_chunk", "dataset.label_key", "gan.mb_normalize"} <= keys


@pytest.mark.parametrize("key,bad", CASES, ids=[f"{k}={b!r}" for k, b in CASES])
def test_every_bad_leaf_is_refused_in_one_line_naming_it(key, bad):
  c = base_config()
  _set(c, key, bad)
  with pytest.raises(ConfigError) as e:
    check_config(c)
  msg = str(e.value)
  assert "\n" not in msg and key in msg, msg


@pytest.mark.parametrize("changes,needle", [
    ({"model.net": "dcgan"}, "does not fit model 'vae'"),
    ({"model.name": "gan", "model.net": "conv"}, "does not fit model 'gan'"),
    ({"num_seeds": 2}, "num_seeds > 1 is supported for GANs only"),
    ({"dataset.name": ""}, "dataset.name must be a dataset name"),
    ({"dataset.preprocess": "symmetric"}, "Bernoulli decoder needs data in [0, 1]"),
    ({"lr_schedule": "cosine", "lr_final_fraction": 1.5}, "lr_final_fraction"),
    ({"gan.real_label": 0.5}, "real_label must be a number in (0.5, 1]"),
    ({"gan.g_ema": 1.0}, "g_ema must be a number in [0, 1)"),
    ({"gan.d_optimizer.b2": 1.0}, "gan.d_optimizer.b2"),
    ({"eval.nll_samples_during_training": -1}, "nll_samples_during_training must be >= 0"),
    ({"model.name": "pix2pix", "pix2pix.l1_weight": 0.0, "pix2pix.gan_weight": 0.0},
     "l1_weight and gan_weight are both 0"),
    ({"model.name": "cvae", "model.objective": "iwae", "model.beta": 2.0}, "which has no beta"),
    ({"model.name": "gan", "gan.pack": 3}, "cannot be cut into packs of config.gan.pack=3"),
    ({"gan.pack": 2}, "config.gan.pack applies to model.name='gan' only"),
    ({"model.name": "pix2pix", "gan.r1_gamma": 10.0}, "gan.r1_gamma applies to model.name='gan'"),
    ({"model.name": "gan", "gan.r1_every": 4}, "gan.r1_every=4 spaces out the R1 penalty, which is off"),
    ({"model.name": "gan", "gan.r1_every": 0}, "gan.r1_every must be >= 1"),
    ({"model.name": "gan", "gan.truncation": -1.0}, "gan.truncation must be a number >= 0"),
    ({"gan.truncation": 1.0}, "config.gan.truncation applies to model.name='gan' only"),
    ({"dataset.perturb_rate": 1.0}, "dataset.perturb_rate must be a number in [0, 1)"),
    ({"model.name": "pix2pix", "dataset.perturb_rate": 0.2}, "perturbs the images of an unconditional"),
    ({"model.name": "ae", "eval.background_rate": 0.2}, "model 'ae' has no likelihood"),
    ({"model.name": "gan", "gan.augment": "color,flip"}, "unknown augmentation 'flip'"),
    ({"model.name": "gan", "gan.discriminator_loss": "wasserstein"}, "gan.discriminator_loss"),
])
def test_cross_field_and_boundary_branches(changes, needle):
  c = base_config()
  for k, v in changes.items():
    _set(c, k, v)
  with pytest.raises(ConfigError) as e:
    check_config(c)
  assert "\n" not in str(e.value) and needle in str(e.value), str(e.value)
  # and the boundary just inside is accepted
  if "gan.real_label" in changes:
    _set(c, "gan.real_label", 0.51)
    check_config(c)


def test_hinge_has_no_label_smoothing():
  c = base_config()
  c.model.name, c.gan.discriminator_loss, c.gan.real_label = "gan", "hinge", 0.9
  with pytest.raises(ConfigError, match="set --config.gan.real_label=1 or"):
    check_config(c)
  c.gan.real_label = 1.0
  check_config(c)
  c.gan.pack, c.batch_size = 4, 128                # packs that fit the batch
  check_config(c)


def test_boundaries_inside_are_accepted():
  c = base_config()
  for key, value in [("gan.real_label", 1.0), ("gan.g_ema", 0.0), ("lr_final_fraction", 1.0),
                     ("lr_final_fraction", 0.0), ("model.beta", 0.0), ("seed", 0),
                     ("eval.nll_samples_during_training", 0), ("gan.g_optimizer.b1", 0.0),
                     ("gan.g_optimizer.learning_rate", 0.0)]:
    _set(c, key, value)
    check_config(c)


def _data(kind="images", shape=(28, 28, 1), n=4000, name="fake", paired=False, labels=None,
          n_test=1000):
  import types
  import numpy as np
  labels = None if labels is None else np.asarray(labels)
  return types.SimpleNamespace(kind=kind, name=name, example_shape=shape,
                               train=np.zeros((n,) + shape, np.uint8),
                               test=np.zeros((n_test,) + shape, np.uint8), paired=paired,
                               train_labels=labels, test_labels=labels)


PIX2PIX = {"model.name": "pix2pix", "dataset.preprocess": "symmetric",
           "dataset.eval_preprocess": "symmetric"}


@pytest.mark.parametrize("changes,data,needle", [
    ({}, _data("points", (2,)), "set --config.dataset.preprocess=none"),
    ({"dataset.preprocess": "none", "dataset.eval_preprocess": "none"}, _data("points", (2,)),
     "use model.name='gan' with model.net='mlp'"),
    ({"batch_size": 129}, _data(n=128), "larger than the training split"),
    ({"batch_size": 64}, _data(n_test=63), "holds 63 examples, fewer than one batch (64)"),
    ({"model.net": "conv"}, _data(shape=(30, 30, 1)), "use --config.model.net=mlp"),
    ({"model.name": "gan", "model.net": "dcgan"}, _data(shape=(30, 30, 1)),
     "use --config.model.net=mlp"),
    ({"model.name": "gan", "model.net": "dcgan"}, _data(shape=(784,)), "need images"),
    (PIX2PIX, _data(), "use a paired dataset: --config.dataset.name=mnist_sr4"),
    ({**PIX2PIX, "pix2pix.depth": 3}, _data(paired=True), "28x28 allows depth <= 2"),
    ({**PIX2PIX, "pix2pix.d_layers": 4}, _data(paired=True), "lower --config.pix2pix.d_layers"),
    ({}, _data(paired=True), "train it with --config.model.name=pix2pix"),
    ({"model.name": "cvae"}, _data(), "use a labelled dataset"),
    ({"model.name": "gan", "gan.augment": "color", "dataset.preprocess": "none",
      "dataset.eval_preprocess": "none"}, _data("points", (2,)), "set --config.gan.augment=''"),
    ({"model.name": "cvae", "model.num_classes": 3}, _data(labels=[0, 1, 2, 3]),
     "set --config.model.num_classes=4"),
    ({"dataset.dihedral": True}, _data("image", (28, 32, 1)), "turns and flips square images"),
])
def test_data_dependent_branches(changes, data, needle):
  c = base_config()
  for k, v in changes.items():
    _set(c, k, v)
  check_config(c)                                     # fine on its own
  with pytest.raises(ConfigError) as e:
    validate_against_data(c, data)
  assert "\n" not in str(e.value) and needle in str(e.value), str(e.value)
  c.batch_size = 128                               # and the same data is fine for a fitting config
  if "model.net" in changes:
    c.model.net = "mlp"
    if data.kind == "images":
      validate_against_data(c, data)
