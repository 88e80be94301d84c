"""PacGAN's 2-D setup on the 5 x 5 grid; see configs/gan_ring_pacgan.py."""
from configs.gan_ring_pacgan import get_config as _ring


def get_config():
  c = _ring()
  c.dataset.name = "grid"
  return c
