"""configs/gan_grid_mbd.py with batch 256: the grid setting that meets the minibatch
discrimination targets (README, "Mode collapse on the 2-D mixtures").

Same networks (3 x 128 MLPs), B=4 kernels of C=1 dimension, Adam 1e-3 (beta1 0.5) with a
cosine decay over 20k steps; twice the batch of gan_grid_mbd, so twice its cost. Seeds are batched
with jax.vmap, the fast choice on accelerators (a seed then differs in the last bits from
its single-seed run; README, "How training runs").
"""
from configs.gan_grid_mbd import get_config as _base


def get_config():
  c = _base()
  c.batch_size = 256
  c.seed_batching = "vmap"
  return c
