"""Process ``PID`` of two (``python dead_peer_in_collective.py HOST:PORT PID``): both meet
in one collective, then process 1 dies without a word while process 0 goes on with
collectives inside a :func:`jaxgen.scale.distributed.watched` function. Process 0's collective
then fails at once (gloo: the peer's connection closed), before its watchdog has seen the
peer's silence; it must still end with the watchdog's one line and exit code 3."""
import os
import sys

from jaxgen.scale import distributed

address, pid = sys.argv[1], int(sys.argv[2])
distributed.use_cpu_devices(1)
distributed.initialize(address, 2, pid, peer_timeout=3)

import numpy as np  # noqa: E402
from jax.experimental import multihost_utils  # noqa: E402

multihost_utils.process_allgather(np.ones(1))
if pid == 1:
  os._exit(0)


@distributed.watched
def collectives():
  for _ in range(10_000):
    multihost_utils.process_allgather(np.ones(1))


collectives()
print("error: the collectives went on without process 1", file=sys.stderr)
sys.exit(1)
