"""Stacked MNIST in a setting where the plain DCGAN collapses on a 2-core CPU:
``configs/dcgan_stacked.py`` with D at a quarter of G's base width (4 channels instead of
16) and learning rate 1e-3 for both players (instead of 2e-4), 5 seeds, 6,000 steps.

Found by the search in ``benchmarks/sweeps/stacked_collapse_search.txt`` (one seed, 2,000
steps): the quarter-width D alone gave 831 modes, the learning rate alone 883, the two
together 188 modes (KL 4.27) and stayed collapsed at 4,000 and 6,000 steps (90 and 159
modes): G draws digits in one channel and the same faint strokes in the other two.
Variants with the anti-collapse layers: ``--config.gan.pack=2`` (PacGAN2),
``--config.gan.minibatch=discrimination``, ``--config.gan.minibatch=stddev``.
"""
from configs.dcgan_stacked import get_config as _base


def get_config():
  c = _base()
  c.gan.d_features = 4
  c.learning_rate = 1e-3
  c.num_steps = 6_000
  c.eval_every = 6_000
  c.checkpoint_every = 2_000
  c.log_every = 500
  return c
