"""Starts N local processes of one job, each with its own CPU devices, joined by
``jax.distributed`` with the gloo collectives: a multi-process run without a cluster.

    python -m jaxgen.scale.launch --processes 2 --devices_per_process 2 -- \\
        train.py --config configs/vae_mnist.py --workdir runs/vae_2x2

Process ``i`` gets the environment variables of :mod:`jaxgen.scale.distributed` (coordinator
``127.0.0.1:<free port>``, ``N``, ``i``, its CPU device count); ``train.py`` reads them.
Everything the processes print goes to this terminal (only process 0 logs). The launcher
forwards SIGINT/SIGTERM to every process, waits for all, and exits with the first non-zero
exit code (0 if all succeeded). A process that dies is noticed by the others within
``--peer_timeout`` seconds (they exit with code 3 and one line); the launcher then stops any
that are left after a grace period.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from jaxgen.scale import distributed


def free_port() -> int:
  """A TCP port that is free on this machine now."""
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return int(s.getsockname()[1])


def process_environments(processes: int, devices_per_process: int, port: int,
                         peer_timeout: float, base: dict | None = None) -> list[dict]:
  """The environment of each process (``base``: the launcher's own, by default)."""
  envs = []
  for i in range(processes):
    env = dict(os.environ if base is None else base)
    env.update({distributed.ENV_COORDINATOR: f"127.0.0.1:{port}",
                distributed.ENV_NUM_PROCESSES: str(processes),
                distributed.ENV_PROCESS_ID: str(i),
                distributed.ENV_CPU_DEVICES: str(devices_per_process),
                distributed.ENV_PEER_TIMEOUT: str(peer_timeout),
                "JAX_PLATFORMS": "cpu"})
    envs.append(env)
  return envs


def launch(command: list[str], processes: int, devices_per_process: int = 1,
           peer_timeout: float = distributed.DEFAULT_PEER_TIMEOUT,
           port: int | None = None) -> int:
  """Runs ``command`` (a ``.py`` file runs with this Python) as ``processes`` processes and
  returns the first non-zero exit code, or 0."""
  if command and command[0].endswith(".py"):
    command = [sys.executable] + command
  envs = process_environments(processes, devices_per_process, port or free_port(), peer_timeout)
  procs = [subprocess.Popen(command, env=env) for env in envs]

  def forward(signum, frame):
    del frame
    for p in procs:
      if p.poll() is None:
        p.send_signal(signum)
  previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
  try:
    first_failure, failed_at = 0, None
    while any(p.poll() is None for p in procs):
      for p in procs:
        code = p.poll()
        if code not in (None, 0) and not first_failure:
          first_failure, failed_at = code, time.monotonic()
      # the survivors' watchdogs stop them within peer_timeout; after that, stop them here
      if failed_at is not None and time.monotonic() - failed_at > peer_timeout + 30:
        for p in procs:
          if p.poll() is None:
            p.kill()
      time.sleep(0.2)
    codes = [p.returncode for p in procs]
    return first_failure or next((c for c in codes if c), 0)
  finally:
    for s, handler in previous.items():
      signal.signal(s, handler)


def main(argv: list[str] | None = None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  if "--" not in argv:
    print("error: give the command after --, e.g. python -m jaxgen.scale.launch --processes 2 -- "
          "train.py --config configs/vae_mnist.py --workdir runs/vae", file=sys.stderr)
    return 2
  split = argv.index("--")
  parser = argparse.ArgumentParser(prog="python -m jaxgen.scale.launch", description=__doc__.split(
      "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--processes", type=int, required=True, help="how many processes")
  parser.add_argument("--devices_per_process", type=int, default=1,
                      help="CPU devices in each process (default 1)")
  parser.add_argument("--peer_timeout", type=float, default=distributed.DEFAULT_PEER_TIMEOUT,
                      help="seconds without a heartbeat before a peer counts as dead")
  parser.add_argument("--port", type=int, default=0, help="coordinator port (0: a free one)")
  args = parser.parse_args(argv[:split])
  command = argv[split + 1:]
  if args.processes < 1 or args.devices_per_process < 1 or args.peer_timeout <= 0:
    print("error: --processes and --devices_per_process must be >= 1 and --peer_timeout > 0",
          file=sys.stderr)
    return 2
  if not command:
    print("error: no command after --", file=sys.stderr)
    return 2
  return launch(command, args.processes, args.devices_per_process, args.peer_timeout,
                args.port or None)


if __name__ == "__main__":
  sys.exit(main())
