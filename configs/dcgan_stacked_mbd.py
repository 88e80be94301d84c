"""configs/dcgan_stacked.py with minibatch discrimination (Salimans et al. 2016) in D."""
from configs.dcgan_stacked import get_config as _base


def get_config():
  c = _base()
  c.gan.minibatch = "discrimination"
  return c
