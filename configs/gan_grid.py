"""GAN on the 5 x 5 grid of Gaussians (std 0.05), CPU-sized like configs/gan_ring.py but
with batch 128 (10 seeds, also with minibatch discrimination).

Minibatch discrimination (configs/gan_grid_mbd.py) uses B=4 kernels of C=1 dimension:
on the grid, larger layers (B=8, C=3 as on the ring) let the discriminator win on batch
statistics and cost modes and sample quality (README, "Mode collapse on the 2-D mixtures").
"""
from configs.gan_ring import get_config as _ring


def get_config():
  c = _ring()
  c.dataset.name = "grid"
  c.batch_size = 128
  c.gan.mb_kernels = 4
  c.gan.mb_dims = 1
  return c
