"""jaxgen.modes: the modes other than train take their config from the workdir they are
given, and refuse a config that is not the workdir's (no training needed: a config.json)."""
import json
import os

import pytest

from jaxgen import modes
from jaxgen.config import ConfigError, base_config


@pytest.fixture()
def workdir(tmp_path):
  c = base_config()
  c.num_steps, c.model.hidden = 40, (64,)
  with open(tmp_path / "config.json", "w") as f:
    f.write(c.to_json_best_effort(indent=2, sort_keys=True))
  return str(tmp_path)


def test_without_config_the_workdir_config_is_used(workdir):
  c = modes.workdir_config(workdir)
  assert c.num_steps == 40 and c.model.hidden == (64,)
  assert json.loads(c.to_json_best_effort()) == json.load(open(os.path.join(workdir, "config.json")))


def test_evaluation_overrides_are_kept(workdir):
  c = modes.workdir_config(workdir)
  c.eval.nll_samples, c.num_samples, c.progress = 10, 12, False
  got = modes.workdir_config(workdir, c)
  assert got.eval.nll_samples == 10 and got.num_samples == 12
  c.gan.truncation = 1.0                   # a sampling setting: judged at any truncation
  assert modes.workdir_config(workdir, c).gan.truncation == 1.0


def test_a_config_that_is_not_the_workdirs_is_refused_naming_the_keys(workdir):
  c = base_config()                        # hidden (400,), num_steps 10k: not this run's
  c.model.name, c.learning_rate = "gan", 2e-3
  with pytest.raises(ConfigError) as e:
    modes.workdir_config(workdir, c)
  msg = str(e.value)
  assert "\n" not in msg and "model.name: 'vae' -> 'gan'" in msg and "learning_rate" in msg
  assert "model.hidden" in msg and "num_steps" not in msg      # num_steps may differ


def test_no_config_json_and_no_config_for_training_are_one_line(tmp_path):
  with pytest.raises(ConfigError, match="not a trained workdir"):
    modes.run_mode("sample", str(tmp_path))
  with pytest.raises(ConfigError, match="needs --config"):
    modes.run_mode("train", str(tmp_path))
  with pytest.raises(ConfigError, match="needs --config"):
    modes.run_mode("anomaly", str(tmp_path), protocol="one_class")
