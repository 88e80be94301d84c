"""The persistent compilation cache: where it lives, how it is turned off, and that it
changes no result (train.py with it cold, warm and off gives the same bits)."""
import json
import os
import subprocess
import sys

import chex
import orbax.checkpoint as ocp
import pytest

from jaxgen import compilation_cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("value, want", [
    (None, "XDG/jaxgen/xla"), ("/somewhere/xla", "/somewhere/xla"), ("~/c", "HOME/c"),
    ("off", None), ("0", None), ("", None), ("False", None), ("none", None)])
def test_default_directory(monkeypatch, value, want):
  monkeypatch.setenv("XDG_CACHE_HOME", "XDG")
  monkeypatch.setenv("HOME", "HOME")
  if value is None:
    monkeypatch.delenv(compilation_cache.ENV, raising=False)
  else:
    monkeypatch.setenv(compilation_cache.ENV, value)
  assert compilation_cache.default_directory() == want


def test_default_directory_without_xdg(monkeypatch):
  monkeypatch.delenv(compilation_cache.ENV, raising=False)
  monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
  monkeypatch.setenv("HOME", "/home/u")
  assert compilation_cache.default_directory() == "/home/u/.cache/jaxgen/xla"


def _train(workdir, cache_env, *flags):
  env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
  env.update(cache_env)
  args = [sys.executable, os.path.join(ROOT, "train.py"), "--config", "configs/gan_ring.py",
          "--workdir", str(workdir), "--config.num_steps=30", "--config.num_seeds=1",
          "--config.log_every=10", "--config.eval_every=30", "--config.checkpoint_every=30",
          "--config.eval.num_mode_samples=200", "--config.progress=False", *flags]
  p = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
  assert p.returncode == 0, p.stderr[-2000:]
  state = ocp.StandardCheckpointer().restore(os.path.join(workdir, "checkpoints", "30", "default"))
  with open(os.path.join(workdir, "eval.json")) as f:
    return json.load(f), state


@pytest.mark.slow     # four train.py processes (about 40 s)
def test_results_are_the_same_with_the_cache_cold_warm_and_off(tmp_path):
  cache = tmp_path / "cache"
  cold = _train(tmp_path / "cold", {compilation_cache.ENV: str(cache)})
  entries = len(os.listdir(cache))
  assert entries > 3                               # the programs were written to it
  warm = _train(tmp_path / "warm", {compilation_cache.ENV: str(cache)})
  assert len(os.listdir(cache)) == entries         # ... and read back, not compiled again
  off = _train(tmp_path / "off", {compilation_cache.ENV: "off",
                                  "HOME": str(tmp_path / "home")})
  assert not (tmp_path / "home" / ".cache" / "jaxgen" / "xla").exists()
  flag_off = _train(tmp_path / "flag_off", {compilation_cache.ENV: str(tmp_path / "unused")},
                    "--compilation_cache=")
  assert not (tmp_path / "unused").exists()
  assert cold[0] == warm[0] == off[0] == flag_off[0]
  for other in (warm, off, flag_off):
    chex.assert_trees_all_equal(cold[1], other[1])
