"""Bit-identity as users run it: XLA's default optimization level, not the suite's level 0.

The suite compiles at ``--xla_backend_optimization_level=0`` to save time (conftest.py).
Users run the default level, where XLA may fuse and vectorize differently; the guarantees
must hold there too: a seed trained among others ('map') equals its single-seed run, and a
run resumed from a checkpoint equals an uninterrupted one. Checked in a fresh process
whose XLA_FLAGS carry no optimization-level setting."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent("""
    import os, sys
    assert "optimization_level" not in os.environ.get("XLA_FLAGS", "")
    sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
    import chex
    import conftest
    from jaxgen import train
    from jaxgen.train import steps
    work = sys.argv[2]
    quiet = lambda s: None

    def config():
      c = conftest._load_config("gan_ring")
      c.model.hidden = c.gan.d_hidden = (16, 16)
      c.num_steps, c.log_every, c.eval_every, c.checkpoint_every = 20, 10, 20, 10
      c.lr_schedule = "constant"            # so that num_steps may change on resume
      c.eval.num_mode_samples, c.progress = 200, False
      return c

    c = config(); c.num_seeds, c.seed_batching = 2, "map"
    many, _ = train.train(c, os.path.join(work, "many"), log=quiet)
    c = config(); c.num_seeds, c.seed = 1, 1
    one, _ = train.train(c, os.path.join(work, "one"), log=quiet)
    chex.assert_trees_all_equal(steps.seed_slice(many, 1), one)

    c = config(); c.num_seeds, c.seed, c.num_steps = 1, 1, 10
    train.train(c, os.path.join(work, "resumed"), log=quiet)
    c.num_steps = 20
    resumed, _ = train.train(c, os.path.join(work, "resumed"), log=quiet)
    chex.assert_trees_all_equal(resumed, one)
    print("bit-identical at the default optimization level")
""")


@pytest.mark.slow       # runs trained, repeated and resumed: 11 s
def test_seeds_and_resume_are_bit_identical_at_the_default_level(tmp_path):
  env = dict(os.environ)
  flags = [f for f in env.get("XLA_FLAGS", "").split() if "optimization_level" not in f]
  env["XLA_FLAGS"] = " ".join(flags)
  p = subprocess.run([sys.executable, "-c", SCRIPT, ROOT, str(tmp_path)], env=env, cwd=ROOT,
                     capture_output=True, text=True, timeout=600)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "bit-identical at the default optimization level" in p.stdout
