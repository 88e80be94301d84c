"""Config validation: every bad value is refused with a message that names it."""
import glob
import os

import pytest

from jaxgen.config import ConfigError, base_config, validate, validate_against_data
from jaxgen.data import load_dataset


SHIPPED = sorted(os.path.basename(f)[:-3] for f in glob.glob(
    os.path.join(os.path.dirname(__file__), "..", "configs", "*.py")) if not f.endswith("__init__.py"))


def test_all_configs_found():
  assert {"vae_mnist", "gan_grid_mbd", "gan_grid_mbd_b256", "dcgan_mnist"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_are_valid(name, load_config):
  validate(load_config(name))


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
    validate(c)


def test_unknown_key_in_a_config_file():
  c = base_config()
  c.model.laten_dim = 3
  with pytest.raises(ConfigError, match="unknown config key 'model.laten_dim'"):
    validate(c)


def test_bernoulli_needs_unit_data():
  c = base_config()
  c.dataset.preprocess = "symmetric"
  with pytest.raises(ConfigError, match="Bernoulli"):
    validate(c)


def test_batch_larger_than_split():
  c = base_config()
  c.batch_size = 4001
  with pytest.raises(ConfigError, match="larger than the training split"):
    validate_against_data(c, load_dataset(c.dataset))

