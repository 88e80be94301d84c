"""Scale-out: meshes of forced CPU devices, two real processes (jax.distributed + gloo), a
dead peer, checkpoints across process counts, one compilation per run.

Tolerance. Splitting the batch over devices changes only the order in which float32 sums
are added (each device sums its rows, then the all-reduce sums the devices), so gradients
differ in the last bits (relative ~1e-7 per reduction); Adam turns a gradient into a step of
about ``learning_rate`` whatever its size, so after T steps a parameter may differ by a few
ulps per step. PARAM_TOL = 1e-4 is ~50x the largest difference measured here (tiny VAE,
40 steps: 2e-6; tiny GAN, 20 steps: see docs/scale.md) and ~1/10 of one Adam step (lr 1e-3):
a dropped gradient slice, a missing all-reduce or a wrong row gives differences of the
order of the step itself. EVAL_RTOL = 1e-4 on eval.json's figures, for the same reason.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import chex
import numpy as np
import pytest


# The slow tier (python -m pytest tests -m slow; CI runs it): real multi-process runs, about 3 minutes.
pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PARAM_TOL = 1e-4
EVAL_RTOL = 1e-4
# The dead-peer test's timeout: short, but long enough that a process starved of CPU by the
# other tests (their workers share the 2 cores) is not taken for dead. The runs that must succeed
# get a longer one.
PEER_TIMEOUT = 10
LAUNCH_PEER_TIMEOUT = 30
# The multi-process runs: the tiny VAE of scale_runs.VAE, as train.py flags.
MP_FLAGS = ["--config", "configs/vae_mnist.py", "--config.model.hidden=(32,)",
            "--config.model.latent_dim=4", "--config.batch_size=48", "--config.num_steps=40",
            "--config.log_every=10", "--config.eval_every=40", "--config.checkpoint_every=10",
            "--config.keep_checkpoints=10", "--config.eval.nll_samples=20",
            "--config.eval.num_images=16", "--config.eval.sample_metrics=False",
            "--config.progress=False"]


def _env(**extra):
  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)
  env["XLA_FLAGS"] = " ".join(
      f for f in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in f)
  env.update(extra)
  return env


@pytest.fixture(scope="module")
def mesh_runs(tmp_path_factory):
  """scale_runs.py's report and workdirs (one process, 8 forced CPU devices)."""
  work = tmp_path_factory.mktemp("mesh_runs")
  out = work / "report.json"
  env = _env(XLA_FLAGS=(_env()["XLA_FLAGS"] + " --xla_force_host_platform_device_count=8").strip())
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "train", "scale_runs.py"),
                         str(out), str(work)], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(out.read_text()), work


@pytest.fixture
def params(load_config, tiny):
  """``params(workdir, step)``: the state in checkpoint ``step`` of a multi-process test
  run, restored by jaxgen's Checkpointer into the state of the same config on this one
  device (as any later use of the run restores it)."""
  from jaxgen.checkpoint import Checkpointer
  from jaxgen.train import run as run_lib
  config = tiny(load_config("vae_mnist"), batch_size=48, num_steps=40, checkpoint_every=10,
                 keep_checkpoints=10)
  template = run_lib.build_run(config).init_state()

  def restore(workdir, step):
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
    try:
      return ckpt.restore(template, step)
    finally:
      ckpt.close()
  return restore


def _assert_close_trees(a, b, atol):
  import jax
  chex.assert_trees_all_equal_structs(a, b)
  chex.assert_trees_all_close(jax.tree.map(np.asarray, a), jax.tree.map(np.asarray, b),
                              atol=atol, rtol=0)


def _assert_eval_close(a: dict, b: dict):
  assert a.keys() == b.keys()
  for k in a:
    np.testing.assert_allclose(a[k], b[k], rtol=EVAL_RTOL, err_msg=k)


# --------------------------------------------------------------------------- the mesh


@pytest.mark.parametrize("name, ref", [("vae_4", "vae_1"), ("vae_8", "vae_1"),
                                       ("gan_8", "gan_1")])
def test_data_axis_gives_the_one_device_result(mesh_runs, name, ref):
  report, _ = mesh_runs
  r = report[name]
  assert r["reference"] == ref
  assert r["max_param_diff"] < PARAM_TOL, r["max_param_diff"]
  _assert_eval_close(r["eval"], report[ref]["eval"])


def test_each_device_computes_only_its_rows(mesh_runs):
  """The GAN step on 8 devices: each device's share of the compiled work is about 1/8 of
  the whole (measured 0.17: replicated work such as the optimizer update keeps it above
  1/8). Without the generator's noise split over the devices (jaxgen.scale.sharding.batch_rows
  in GAN.noise) every device runs G on the whole batch: 0.83."""
  report, _ = mesh_runs
  flops = report["flops"]
  assert flops["gan_8"] < 0.3 * flops["gan_1"], flops


def test_seeds_over_the_runs_axis_are_bit_identical(mesh_runs):
  report, _ = mesh_runs
  assert report["seeds_runs4"]["hash"] == report["seeds_1"]["hash"]
  assert report["seeds_runs4"]["eval"] == report["seeds_1"]["eval"]
  # seeds and data together: the data axis's summation order, within the tolerance
  assert report["seeds_runs4_data2"]["max_param_diff"] < PARAM_TOL


def test_streamed_runs_equal_on_device_runs_on_a_mesh(mesh_runs):
  """The training split streamed from host memory, its batches placed over the mesh (rows over
  ``data``, seeds over ``runs``): the same bits as the split on the devices."""
  report, _ = mesh_runs
  assert report["vae_8_host"]["hash"] == report["vae_8"]["hash"]
  assert report["seeds_runs4_data2_host"]["hash"] == report["seeds_runs4_data2"]["hash"]
  # what each of two 4-device processes reads: its half of every batch's rows (one seed), or
  # its two seeds' whole batches (4 seeds over runs=4, each runs row 2 data devices)
  shares = report["local_slices"]
  assert shares["data8"] == [[[None, None], [0, 24]], [[None, None], [24, 48]]]
  assert shares["runs4_data2"] == [[[0, 2], [0, 48]], [[2, 4], [0, 48]]]


def test_two_processes_streaming_their_shares_equal_one_process(mesh_runs, params, tmp_path):
  """2 processes x 2 devices, the split streamed (each process gathers its 24 of the 48 rows
  of every batch and builds the global batch with make_array_from_process_local_data): the
  parameters of the one-process 4-device run, within the all-reduce's rounding."""
  _, work = mesh_runs
  two = tmp_path / "two_host"
  proc = _launch(two, 2, 2, extra=["--config.dataset.stream=host"])
  assert proc.returncode == 0, proc.stderr[-3000:]
  for step in (20, 40):
    _assert_close_trees(params(two, step), params(work / "vae_4", step), PARAM_TOL)


def test_the_step_compiles_once_per_run_whatever_the_mesh(mesh_runs):
  report, _ = mesh_runs
  runs = {name: r for name, r in report.items() if name not in ("flops", "local_slices")}
  assert {name: r["traces"] for name, r in runs.items()} == {name: 1 for name in runs}


# --------------------------------------------------------------------------- processes


def _launch(workdir, processes, devices, timeout=240, extra=()):
  cmd = [sys.executable, "-m", "jaxgen.scale.launch", "--processes", str(processes),
         "--devices_per_process", str(devices), "--peer_timeout", str(LAUNCH_PEER_TIMEOUT), "--",
         "train.py", "--workdir", str(workdir), *MP_FLAGS, *extra]
  return subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True,
                        timeout=timeout)


def _copy_until(src, dst, step):
  """``src``'s workdir with the checkpoints after ``step`` left out."""
  shutil.copytree(src, dst, ignore=lambda d, names: [
      n for n in names if d.endswith("checkpoints") and n.isdigit() and int(n) > step])


def test_two_processes_equal_one_and_checkpoints_cross_process_counts(mesh_runs, params,
                                                                     tmp_path):
  """Reference: one process x 4 devices, 40 steps (scale_runs' vae_4). Then: 2 processes x
  2 devices resume its step-20 checkpoint; their step-40 checkpoint resumed at step 30 by
  one process x 4 devices; both end like the uninterrupted run."""
  _, work = mesh_runs
  ref = work / "vae_4"
  with open(ref / "eval.json") as f:
    ref_eval = json.load(f)
  # 1 process -> 2 processes
  two = tmp_path / "two"
  _copy_until(ref, two, 20)
  os.remove(two / "metrics.jsonl")
  proc = _launch(two, 2, 2)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "resumed from the checkpoint of step 20" in proc.stdout + proc.stderr
  for step in (30, 40):
    _assert_close_trees(params(two, step), params(ref, step), PARAM_TOL)
  with open(two / "eval.json") as f:
    _assert_eval_close(json.load(f), ref_eval)
  # only process 0 wrote: one line per logged step in metrics.jsonl
  with open(two / "metrics.jsonl") as f:
    logged = [json.loads(line)["step"] for line in f if "train/loss" in line]
  assert logged == [30, 40]
  # 2 processes -> 1 process
  one = tmp_path / "one"
  _copy_until(two, one, 30)
  proc = _launch(one, 1, 4)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "resumed from the checkpoint of step 30" in proc.stdout + proc.stderr
  _assert_close_trees(params(one, 40), params(ref, 40), PARAM_TOL)


def test_a_dead_peer_stops_the_other_in_one_line_and_the_rerun_resumes(tmp_path):
  work = tmp_path / "run"
  long = ["--config.num_steps=3000", "--config.checkpoint_every=10", "--config.eval_every=3000",
          "--config.keep_checkpoints=2"]
  env = _env(JAXGEN_COORDINATOR_ADDRESS=f"127.0.0.1:{_free_port()}", JAXGEN_NUM_PROCESSES="2",
             JAXGEN_CPU_DEVICES="2", JAXGEN_PEER_TIMEOUT=str(PEER_TIMEOUT), JAX_PLATFORMS="cpu")
  cmd = [sys.executable, "train.py", "--workdir", str(work), *MP_FLAGS, *long]
  procs = [subprocess.Popen(cmd, cwd=ROOT, env={**env, "JAXGEN_PROCESS_ID": str(i)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for i in range(2)]
  try:
    deadline = time.monotonic() + 180
    while not (work / "checkpoints" / "20").exists():
      assert time.monotonic() < deadline and procs[0].poll() is None, "no checkpoint 20"
      time.sleep(0.1)
    procs[1].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    _, err = procs[0].communicate(timeout=60)
    waited = time.monotonic() - killed
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
  assert procs[0].returncode == 3, err[-2000:]
  assert waited < PEER_TIMEOUT + 15, waited    # the peer timeout, plus the watchdog's slack
  errors = [line for line in err.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and "process 1 of 2 stopped answering" in errors[0], err[-2000:]
  assert "run the same command again to resume" in errors[0]
  saved = max(int(n) for n in os.listdir(work / "checkpoints") if n.isdigit())
  assert saved >= 20
  # the same command again (num_steps may change on resume): resumes, finishes
  proc = _launch(work, 2, 2, extra=[*long[1:], f"--config.num_steps={saved + 10}"])
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert f"resumed from the checkpoint of step {saved}" in proc.stdout + proc.stderr
  assert (work / "checkpoints" / str(saved + 10)).exists()


def test_a_collective_that_fails_on_a_dead_peer_still_ends_in_the_watchdogs_line():
  """The collective errs at once (connection closed) instead of blocking; the process must
  not die of that error's traceback (nor hang at exit) but wait for the watchdog's verdict."""
  script = os.path.join(ROOT, "tests", "train", "dead_peer_in_collective.py")
  address = f"127.0.0.1:{_free_port()}"
  env = _env(JAX_PLATFORMS="cpu")
  peer = subprocess.Popen([sys.executable, script, address, "1"], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    proc = subprocess.run([sys.executable, script, address, "0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
  finally:
    peer.kill()
    peer.wait()
  assert proc.returncode == 3, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
  errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and "process 1 of 2 stopped answering" in errors[0], proc.stderr


def _free_port():
  from jaxgen.scale.launch import free_port
  return free_port()


# --------------------------------------------------------------------------- arguments


def test_launcher_and_join_refuse_bad_arguments_in_one_line(capsys):
  from jaxgen.scale import distributed, launch
  assert launch.main(["--processes", "2", "train.py"]) == 2           # no "--"
  assert "give the command after --" in capsys.readouterr().err
  assert launch.main(["--processes", "0", "--", "train.py"]) == 2
  assert launch.main(["--processes", "2", "--"]) == 2
  envs = launch.process_environments(3, 2, 1234, 7.0, base={})
  assert [e[distributed.ENV_PROCESS_ID] for e in envs] == ["0", "1", "2"]
  assert {e[distributed.ENV_COORDINATOR] for e in envs} == {"127.0.0.1:1234"}
  assert {e[distributed.ENV_CPU_DEVICES] for e in envs} == {"2"}
  with pytest.raises(distributed.DistributedError, match="need --coordinator_address"):
    distributed.initialize(None, 2, 1)
  with pytest.raises(distributed.DistributedError, match="must be in 0..1"):
    distributed.initialize("localhost:1", 2, 2)
  with pytest.raises(distributed.DistributedError, match="needs --num_processes"):
    distributed.initialize("localhost:1", None, 0)
  assert distributed.initialize(None, None, None) is False            # one process: nothing
  assert distributed.initialize("localhost:1", 1, 0) is False
