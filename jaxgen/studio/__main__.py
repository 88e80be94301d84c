"""``python -m jaxgen.studio PATH`` (a workdir or a folder of runs) or ``--config FILE``
(the GAN lab from step 0): serves the studio on 127.0.0.1 and prints its address."""
from __future__ import annotations

import argparse
import sys

from jaxgen import config as config_lib
from jaxgen.studio.server import Studio, serve


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(
      prog="python -m jaxgen.studio",
      description="A local web page for a trained workdir, a folder of runs, or a 2-D GAN "
                  "config trained live.")
  parser.add_argument("path", nargs="?", help="a trained workdir, or a folder of workdirs")
  parser.add_argument("--config", help="a GAN config on 2-D points (configs/gan_ring.py) to "
                                       "train from step 0 in the GAN lab")
  parser.add_argument("--seed_index", type=int, default=0,
                      help="which seed of a multi-seed run (0 = the first)")
  parser.add_argument("--checkpoint", default="latest", choices=("latest", "selected"))
  parser.add_argument("--steps_per_update", type=int, default=50,
                      help="GAN lab: training steps between pictures")
  parser.add_argument("--host", default="127.0.0.1")
  parser.add_argument("--port", type=int, default=8000)
  args = parser.parse_args(argv)
  if (args.path is None) == (args.config is None):
    parser.error("pass a workdir (or folder of runs) or --config FILE, one of the two")
  config = None
  if args.config:
    try:
      config = config_lib.load_config_file(args.config)
    except (config_lib.ConfigError, OSError) as e:
      print(f"error: {e}", file=sys.stderr)
      return 2
  studio = Studio(args.path, config, args.seed_index, args.checkpoint, args.steps_per_update)
  serve(studio, args.host, args.port)
  return 0


if __name__ == "__main__":
  sys.exit(main())
