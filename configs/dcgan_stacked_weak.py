"""configs/dcgan_stacked.py with a weaker discriminator: half the channels (8 instead of
16), about a quarter of the parameters — PacGAN's Table 3 setting, where DCGAN collapses to
about 30 of the 1,000 modes. ``--config.gan.minibatch=discrimination`` (or ``stddev``) gives
the same setting with the anti-collapse layer."""
from configs.dcgan_stacked import get_config as _base


def get_config():
  c = _base()
  c.gan.d_features = 8
  return c
