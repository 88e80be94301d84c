"""configs/gan_grid.py with minibatch discrimination (Salimans et al. 2016) in D."""
from configs.gan_grid import get_config as _base


def get_config():
  c = _base()
  c.gan.minibatch = "discrimination"
  return c
