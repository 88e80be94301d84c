"""jaxgen's single driver.

    python train.py --config configs/vae_mnist.py --workdir runs/vae [--config.KEY=VALUE ...]
    python train.py --config configs/vae_mnist.py --workdir runs/vae --mode evaluate

Bad input (unknown dataset or config key, values out of range, unwritable workdir) is
reported in one line on stderr with exit code 2, before anything is compiled.
"""
from __future__ import annotations

import sys

from absl import app, flags, logging
from ml_collections import config_flags

MODES = ("train", "evaluate")

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a config file in configs/.",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and pictures.")
flags.DEFINE_enum("mode", "train", MODES, "What to do.")


def _fail(message: str) -> None:
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)


def main(argv):
  if len(argv) > 1:
    _fail(f"unexpected arguments {' '.join(argv[1:])!r}; overrides look like --config.KEY=VALUE")
  if FLAGS.workdir is None:
    _fail("--workdir is required, e.g. --workdir runs/vae_mnist")
  logging.set_verbosity(logging.WARNING)
  from jaxgen import trainer
  from jaxgen.config import ConfigError
  from jaxgen.data import DataError
  try:
    if FLAGS.mode == "train":
      trainer.train(FLAGS.config, FLAGS.workdir)
    else:
      trainer.evaluate(FLAGS.config, FLAGS.workdir)
  except (ConfigError, DataError) as e:
    _fail(str(e))
  except trainer.TrainingError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


def run():
  """Parses flags (turning flag errors into one line, exit 2) and runs :func:`main`."""
  try:
    argv = FLAGS(sys.argv)
  except flags.Error as e:
    _fail(str(e).splitlines()[0])
  if FLAGS.config is None:
    _fail("--config is required, e.g. --config configs/vae_mnist.py")
  app.run(main, argv=argv)


if __name__ == "__main__":
  run()
