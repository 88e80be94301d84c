"""jaxgen's single driver.

    python train.py --config configs/vae_mnist.py --workdir runs/vae [--config.KEY=VALUE ...]
    python train.py --workdir runs/vae --mode evaluate
    python train.py --workdir runs/ring --mode sample
    python train.py --workdir runs/vae --mode anomaly
    python train.py --config configs/vae_anomaly.py --workdir runs/oc --mode anomaly --protocol one_class
    python train.py --workdir runs/vae --mode explore
    python train.py --workdir runs/ae --mode judge

Every mode but training (and ``--mode anomaly --protocol``, which trains) reads the config
of the trained workdir (its ``config.json``); a ``--config`` there is optional, and one
that differs from the workdir's (beyond evaluation settings such as ``--config.eval.*``
and ``--config.num_samples``) is refused (:func:`jaxgen.modes.workdir_config`).

Bad input (unknown dataset or config key, values out of range, unwritable workdir, a
config that is not the workdir's) is reported in one line on stderr with exit code 2,
before anything is compiled.
"""
from __future__ import annotations

import json
import os
import signal
import sys

from absl import app, flags, logging
from ml_collections import config_flags

MODES = ("train", "evaluate", "sample", "anomaly", "explore", "judge")

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a config file in configs/.",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and pictures.")
flags.DEFINE_enum("mode", "train", MODES, "What to do.")
flags.DEFINE_string("compilation_cache", None,
                    "Directory for XLA's compiled programs, reused by later runs ('' = off; "
                    "default: $JAXGEN_COMPILATION_CACHE, else ~/.cache/jaxgen/xla).")
flags.DEFINE_enum("protocol", "", ["", "one_class", "leave_one_out"],
                  "--mode anomaly: '' scores the trained --workdir; a protocol trains and scores "
                  "every digit and seed under --workdir and writes one table.")
flags.DEFINE_integer("seeds", 3, "--mode anomaly --protocol: seeds per digit (config.seed, +1, ...).")
flags.DEFINE_integer("seed_index", None, "--mode sample/explore/anomaly on a run of several "
                     "seeds: which seed (0 = the first); sample writes every seed if unset.")
flags.DEFINE_enum("sampler", "prior", ["prior", "gaussian", "gmm", "vae2"],
                  "--mode sample of an AE or VAE: draw codes from the prior, or from a density "
                  "fitted to the training codes (fitted once, saved in WORKDIR/samplers/).")
flags.DEFINE_list("nll_ks", ["1", "10", "100", "1000", "5000"],
                  "--mode evaluate: the K values of the NLL-against-K table ('' = skip).")
flags.DEFINE_bool("allow_config_change", False,
                  "Resume a workdir whose checkpoints were written with a different config.")
flags.DEFINE_enum("distributed", "off", ["off", "auto"],
                  "'auto': join the other processes of this job as JAX detects them (SLURM, "
                  "Open MPI, Kubernetes, Cloud TPU); or give --coordinator_address etc.")
flags.DEFINE_string("coordinator_address", None, "Many processes: host:port of process 0.")
flags.DEFINE_integer("num_processes", None, "Many processes: how many in all.")
flags.DEFINE_integer("process_id", None, "Many processes: this one's index (0 = the writer).")
flags.DEFINE_integer("cpu_devices", 0, "Use this many CPU devices (with the gloo collectives "
                     "between processes) instead of the default backend; 0 = off.")
flags.DEFINE_float("peer_timeout", 60.0, "Many processes: seconds without a heartbeat after "
                   "which a peer counts as dead and this process exits (code 3).")


def _fail(message: str) -> None:
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)


def main(argv):
  if len(argv) > 1:
    _fail(f"unexpected arguments {' '.join(argv[1:])!r}; overrides look like --config.KEY=VALUE")
  if FLAGS.workdir is None:
    _fail("--workdir is required, e.g. --workdir runs/vae_mnist")
  if FLAGS.protocol and FLAGS.mode != "anomaly":
    _fail(f"--protocol is for --mode anomaly, not --mode {FLAGS.mode}")
  if FLAGS.seeds < 1:
    _fail(f"--seeds must be >= 1, got {FLAGS.seeds}")
  if any(not k.strip().isdigit() or int(k) < 1 for k in FLAGS.nll_ks if k.strip()):
    _fail(f"--nll_ks must be positive integers separated by commas, got {','.join(FLAGS.nll_ks)}")
  if FLAGS.config is None and (FLAGS.mode == "train" or FLAGS.protocol):
    _fail(f"--config is required for --mode {FLAGS.mode}"
          f"{' --protocol' if FLAGS.protocol else ''}, e.g. --config configs/vae_mnist.py")
  logging.set_verbosity(logging.WARNING)
  xla_flags = os.environ.get("XLA_FLAGS", "")
  if _deterministic() and "xla_gpu_deterministic_ops" not in xla_flags:
    # Read when JAX initializes its backend, at the first computation: nothing has run yet.
    os.environ["XLA_FLAGS"] = (xla_flags + " --xla_gpu_deterministic_ops=true").strip()
  if FLAGS.peer_timeout <= 0:
    _fail(f"--peer_timeout must be > 0 seconds, got {FLAGS.peer_timeout}")
  # Imported here, after XLA_FLAGS is final (JAX reads it when its backend starts).
  from jaxgen.scale import distributed  # lazy: after XLA_FLAGS is final (see above)
  try:   # before anything touches a device
    if FLAGS.cpu_devices < 0:
      _fail(f"--cpu_devices must be >= 0, got {FLAGS.cpu_devices}")
    if FLAGS.cpu_devices:
      distributed.use_cpu_devices(FLAGS.cpu_devices)
    if not distributed.initialize_from_env():
      distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id,
                             auto=FLAGS.distributed == "auto", peer_timeout=FLAGS.peer_timeout)
  except distributed.DistributedError as e:
    _fail(str(e))
  from jaxgen import compilation_cache  # lazy: after XLA_FLAGS is final (see above)
  from jaxgen import modes  # lazy: as above
  from jaxgen import train as training  # lazy: as above
  from jaxgen.checkpoint import CheckpointError  # lazy: as above
  from jaxgen.config import ConfigError  # lazy: as above
  from jaxgen.data import DataError  # lazy: as above
  try:
    cache = (compilation_cache.default_directory() if FLAGS.compilation_cache is None
             else os.path.expanduser(FLAGS.compilation_cache))
    if cache and not compilation_cache.use_compilation_cache(cache):
      print(f"warning: cannot create the compilation cache {cache!r}; compiling without it",
            file=sys.stderr)
    modes.run_mode(FLAGS.mode, FLAGS.workdir, FLAGS.config, protocol=FLAGS.protocol,
                   seeds=FLAGS.seeds, seed_index=FLAGS.seed_index, sampler=FLAGS.sampler,
                   nll_ks=[int(k) for k in FLAGS.nll_ks if k.strip()],
                   allow_config_change=FLAGS.allow_config_change)
  except (ConfigError, DataError) as e:
    _fail(str(e))
  except (training.TrainingError, CheckpointError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  except training.Preempted as e:
    print(str(e), file=sys.stderr)
    sys.exit(130 if e.signum == signal.SIGINT else 0)


def _deterministic() -> bool:
  """config.deterministic of --config, else of the workdir's config.json (default True)."""
  if FLAGS.config is not None:
    return bool(FLAGS.config.get("deterministic", True))
  try:
    with open(os.path.join(FLAGS.workdir, "config.json")) as f:
      return bool(json.load(f).get("deterministic", True))
  except (OSError, ValueError):
    return True


def _explain_flag_error(error: Exception, argv: list[str]) -> str:
  """One line for a flag that could not be parsed; names an unknown config key if any."""
  from jaxgen.config import base_config  # lazy: only on a flag error, before main() runs
  known = base_config()
  for arg in argv[1:]:
    if arg.startswith("--config."):
      path = arg[len("--config."):].split("=", 1)[0]
      node = known
      for i, part in enumerate(path.split(".")):
        if not hasattr(node, "keys") or part not in node:
          group = ".".join(path.split(".")[:i]) or "top level"
          choices = ", ".join(sorted(node.keys())) if hasattr(node, "keys") else ""
          return (f"unknown config key '{path}' (from {arg}); keys at the {group}: {choices}")
        node = node[part]
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  if any(line.startswith("Traceback") for line in lines):   # an error inside a config file
    return f"{lines[0].split(' Traceback')[0]} {lines[-1]}"
  return " ".join(lines)[:400] or type(error).__name__


def _config_path(argv: list[str]):
  for i, arg in enumerate(argv):
    if arg in ("--config", "-config") and i + 1 < len(argv):
      return argv[i + 1]
    if arg.startswith(("--config=", "-config=")):
      return arg.split("=", 1)[1]
  return None


def run():
  """Parses flags (turning flag errors into one line, exit 2) and runs :func:`main`."""
  path = _config_path(sys.argv)
  if path is not None and not os.path.isfile(path.split(":")[0]):
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")
    names = ", ".join(sorted(f for f in os.listdir(here) if f.endswith(".py") and f[0] != "_"))
    _fail(f"config file {path!r} not found; the shipped configs are in {here}: {names}")
  try:
    argv = FLAGS(sys.argv)
  except (flags.Error, KeyError, AttributeError, ValueError, TypeError) as e:
    _fail(_explain_flag_error(e, sys.argv))
  app.run(main, argv=argv)


if __name__ == "__main__":
  run()
