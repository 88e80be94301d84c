"""configs/dcgan_stacked.py with minibatch standard deviation (Karras et al. 2018) in D."""
from configs.dcgan_stacked import get_config as _base


def get_config():
  c = _base()
  c.gan.minibatch = "stddev"
  return c
