"""train.py end to end, as a user runs it, and its one-line errors for bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = ["--config.num_steps=40", "--config.log_every=20", "--config.eval_every=40",
         "--config.checkpoint_every=20", "--config.eval.nll_samples=10",
         "--config.model.hidden=(64,)", "--config.progress=False",
         "--config.eval.sample_metrics=False"]


def run(*args, timeout=300):
  return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args],
                        capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.mark.slow       # a whole train.py run, then its evaluation: 30 s
def test_train_then_evaluate(tmp_path):
  work = str(tmp_path / "vae")
  p = run("--config", "configs/vae_mnist.py", "--workdir", work, *SMALL)
  assert p.returncode == 0, p.stderr[-2000:]
  assert sorted(os.listdir(work)) == ["checkpoints", "config.json", "environment.json",
                                      "eval.json", "metrics.jsonl", "samples", "tensorboard"]
  env = json.load(open(os.path.join(work, "environment.json")))
  assert env["gpu_deterministic_ops"] and env["backend"] == "cpu" and env["versions"]["jax"]
  cfg = json.load(open(os.path.join(work, "config.json")))
  assert cfg["num_steps"] == 40 and cfg["model"]["hidden"] == [64]
  result = json.load(open(os.path.join(work, "eval.json")))
  assert result["nll_num_samples"] == 10 and 0 < result["nll"] < 550
  p = run("--config", "configs/vae_mnist.py", "--workdir", work, "--mode", "evaluate", *SMALL,
          "--nll_ks=1,10")
  assert p.returncode == 0, p.stderr[-2000:]
  assert json.load(open(os.path.join(work, "eval.json"))) == result
  dens = json.load(open(os.path.join(work, "density.json")))     # the VAE's density figures
  assert dens["test_nll"] == result["nll"] and dens["step"] == 40
  assert sorted(dens["nll_vs_k"]) == ["1", "10"] and dens["train_num_examples"] == 4000
  assert os.path.getsize(os.path.join(work, "nll_vs_k.png")) > 1000
  p = run("--config", "configs/vae_mnist.py", "--workdir", work, "--mode", "sample", *SMALL,
          "--config.num_samples=12")
  assert p.returncode == 0, p.stderr[-2000:]
  samples = np.load(os.path.join(work, "samples.npy"))
  assert samples.shape == (12, 28, 28, 1) and 0 <= samples.min() and samples.max() <= 1
  assert os.path.getsize(os.path.join(work, "samples.png")) > 1000
  # the modes read the workdir's config.json: --config may be left out (num_samples: its 1000)
  p = run("--workdir", work, "--mode", "sample")
  assert p.returncode == 0, p.stderr[-2000:]
  assert np.load(os.path.join(work, "samples.npy")).shape == (1000, 28, 28, 1)
  # and a --config that is not the workdir's is refused in one line naming the keys
  # (it used to report every checkpoint as damaged and exit 1)
  p = run("--config", "configs/gan_ring.py", "--workdir", work, "--mode", "sample")
  lines = [l for l in p.stderr.splitlines() if l.strip()]
  assert p.returncode == 2 and len(lines) == 1, (p.returncode, p.stderr[-2000:])
  assert "model.name" in lines[0] and "dataset.name" in lines[0], lines
  assert "damaged" not in p.stderr and "leave out --config" in lines[0], lines
  # another learning rate in the same workdir: refused (resuming anyway with
  # --allow_config_change: test_loop.py::test_allow_config_change_resumes_from_the_checkpoint)
  more = [*SMALL, "--config.num_steps=60", "--config.learning_rate=2e-3"]
  p = run("--config", "configs/vae_mnist.py", "--workdir", work, *more)
  assert p.returncode == 2 and "--allow_config_change" in p.stderr, p.stderr[-2000:]


@pytest.mark.slow       # train.py in a fresh process: 9 s
def test_autoencoder_draws_random_codes(tmp_path):
  work = str(tmp_path / "ae")
  p = run("--config", "configs/ae_mnist.py", "--workdir", work, *SMALL,
          "--config.deterministic=False")
  assert p.returncode == 0, p.stderr[-2000:]
  assert "random_codes_0000040.png" in os.listdir(os.path.join(work, "samples"))
  # deterministic=False leaves XLA's GPU flags alone (train.py sets them otherwise)
  env = json.load(open(os.path.join(work, "environment.json")))
  assert not env["gpu_deterministic_ops"]


# One case per way train.py turns an error into its line (each value the config refuses is
# tested in-process in test_config.py): a dataset error, a flag parse error, a config value,
# a config that does not fit its data.
@pytest.mark.parametrize("override,needle", [
    ("--config.dataset.name=nope", "unknown dataset 'nope'"),
    ("--config.no_such_key=1", "no_such_key"),
    ("--config.num_steps=-5", "num_steps"),
    ("--config.batch_size=4001", "larger than the training split"),
])
def test_bad_input_is_one_line_with_exit_code_2(tmp_path, override, needle):
  p = run("--config", "configs/vae_mnist.py", "--workdir", str(tmp_path / "w"), override)
  assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
  lines = [l for l in p.stderr.splitlines() if l.strip()]
  assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], p.stderr
  assert "Traceback" not in p.stderr


@pytest.mark.slow       # three driver subprocesses: 12 s
def test_missing_config_file_and_unwritable_workdir_are_one_line(tmp_path):
  """A config path that does not exist, and a workdir that cannot be created (under a
  regular file: refused even for root), each fail in one line with exit code 2."""
  blocker = tmp_path / "a_file"
  blocker.write_text("x")
  for args, needle in [
      (["--config", "configs/no_such_config.py", "--workdir", str(tmp_path / "w")],
       "no_such_config.py"),
      (["--config", "configs/vae_mnist.py", "--workdir", str(blocker / "run")],
       "is not writable"),
      (["--config", "configs/vae_mnist.py", "--workdir", str(tmp_path / "w"), "extra"],
       "unexpected arguments"),
      (["--workdir", str(tmp_path / "w")], "--config is required for --mode train"),
      (["--workdir", str(tmp_path / "w"), "--mode", "evaluate"], "not a trained workdir"),
  ]:
    p = run(*args)
    assert p.returncode == 2, (args, p.returncode, p.stderr[-2000:])
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], p.stderr
