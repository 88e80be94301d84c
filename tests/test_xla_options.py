"""jaxgen's XLA defaults: added to XLA_FLAGS at import unless the user set the option or
turned them off, and in effect (a compiled matrix product is no YNNPACK fusion, a compiled
reduction is one)."""
import os
import subprocess
import sys

import pytest

from jaxgen import xla_options

FLAG = "--xla_cpu_experimental_ynn_fusion_type=reduce"


def test_defaults_are_added_where_missing_and_never_override_the_user():
  env = {}
  assert xla_options.apply(env) == [FLAG]
  assert env["XLA_FLAGS"] == FLAG
  env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
  xla_options.apply(env)
  assert env["XLA_FLAGS"] == f"--xla_force_host_platform_device_count=4 {FLAG}"
  mine = "--xla_cpu_experimental_ynn_fusion_type=individual_dot"
  env = {"XLA_FLAGS": mine}
  assert xla_options.apply(env) == [] and env["XLA_FLAGS"] == mine
  env = {"JAXGEN_XLA_DEFAULTS": "off"}
  assert xla_options.apply(env) == [] and "XLA_FLAGS" not in env


@pytest.mark.skipif(os.environ.get("JAXGEN_XLA_DEFAULTS") == "off", reason="defaults turned off")
def test_the_pytest_process_runs_under_the_defaults():
  """The test suite itself (its reproducibility tests included) runs with them."""
  assert FLAG in os.environ.get("XLA_FLAGS", "")


_PROBE = ("import jaxgen, jax, jax.numpy as jnp, os; "
          "t = jax.jit(lambda a, b: a @ b).lower(jnp.ones((64, 128)), jnp.ones((128, 32))).compile().as_text(); "
          "r = jax.jit(lambda x: x.sum((0, 1, 2))).lower(jnp.ones((8, 16, 16, 4))).compile().as_text(); "
          "print(os.environ.get('XLA_FLAGS', ''), '__ynn_fusion' in t, 'ynn_fusion' in r)")


def _probe(**env) -> str:
  full = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAXGEN_XLA_DEFAULTS")}
  full.update(env)
  return subprocess.run([sys.executable, "-c", _PROBE], env=full, capture_output=True, text=True,
                        check=True).stdout.strip()


@pytest.mark.skipif(sys.platform != "linux", reason="the option is XLA:CPU's; probed on Linux")
def test_the_option_takes_effect_at_import_and_the_switch_restores_xlas_default():
  """With jaxgen's defaults a compiled matrix product is XLA's own (no __ynn_fusion) while a
  reduction over an image batch's pixels (BatchNorm's statistics) stays YNNPACK's, as in
  XLA's default (XLA's own loop for it was 5-30x slower); with JAXGEN_XLA_DEFAULTS=off the
  product is XLA's default YNNPACK fusion again."""
  assert _probe().endswith("False True")
  assert _probe(JAXGEN_XLA_DEFAULTS="off").endswith("True True")


def test_a_backend_started_before_jaxgen_is_warned_about(monkeypatch):
  monkeypatch.setattr(xla_options, "_backend_started", lambda: True)
  monkeypatch.delenv("XLA_FLAGS", raising=False)
  monkeypatch.delenv("JAXGEN_XLA_DEFAULTS", raising=False)
  with pytest.warns(RuntimeWarning, match="import jaxgen first"):
    assert xla_options.apply() == [FLAG]


def test_one_cpu_device_per_core_unless_the_user_chose(monkeypatch):
  monkeypatch.setattr(xla_options, "usable_cores", lambda: 4)
  assert xla_options.cpu_devices_to_set("", {}) == 4
  assert xla_options.cpu_devices_to_set(FLAG, {}) == 4
  assert xla_options.cpu_devices_to_set("--xla_force_host_platform_device_count=8", {}) is None
  assert xla_options.cpu_devices_to_set("", {"JAX_NUM_CPU_DEVICES": "3"}) is None
  assert xla_options.cpu_devices_to_set("", {"JAXGEN_XLA_DEFAULTS": "off"}) is None
  monkeypatch.setattr(xla_options, "usable_cores", lambda: 1)
  assert xla_options.cpu_devices_to_set("", {}) is None


_DEVICES = ("import jaxgen, jax; from jaxgen import xla_options; from jaxgen.scale import distributed; "
            "import sys; sys.argv[1:] and distributed.use_cpu_devices(int(sys.argv[1])); "
            "print(jax.device_count(), xla_options.own_cpu_devices(), xla_options.usable_cores())")


def _devices(*args, **env) -> tuple[int, bool, int]:
  full = {k: v for k, v in os.environ.items()
          if k not in ("XLA_FLAGS", "JAXGEN_XLA_DEFAULTS", "JAX_NUM_CPU_DEVICES", "JAX_PLATFORMS")}
  full.update(env)
  out = subprocess.run([sys.executable, "-c", _DEVICES, *args], env=full, capture_output=True,
                       text=True, check=True).stdout.split()
  return int(out[0]), out[1] == "True", int(out[2])


@pytest.mark.slow       # three fresh processes importing jax: 12 s
def test_the_cpu_devices_at_import_are_jaxgens_or_the_users():
  """One device per core, marked as jaxgen's (the mesh lays seeds over them, never a batch);
  devices the user asked for (train.py --cpu_devices and the launcher, through
  distributed.use_cpu_devices; XLA_FLAGS and JAX_NUM_CPU_DEVICES: the test above) are the
  user's; the switch turns it off."""
  count, own, cores = _devices()
  assert (count, own) == ((cores, True) if cores > 1 else (1, False))
  assert _devices(JAXGEN_XLA_DEFAULTS="off")[:2] == (1, False)
  assert _devices(str(cores))[:2] == (cores, False)
