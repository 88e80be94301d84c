"""GAN on the 5 x 5 grid of Gaussians (std 0.05), CPU-sized like configs/gan_ring.py."""
from configs.gan_ring import get_config as _ring


def get_config():
  c = _ring()
  c.dataset.name = "grid"
  return c
