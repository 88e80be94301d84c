"""The MLP GAN recipe for ``mnist_subset`` so far: ``configs/gan_mnist.py`` (the lecture's MLP
GAN) with the R1 penalty (gamma 1) on real data and the generator EMA (decay 0.999).

Chosen by the ablation in the results record ("GANs on images"): R1 is the stabilizer that
helps alone by far (Frechet distance 98.9 -> 44.1 over 3 seeds); with the EMA, 39.6 and
classifier score 7.55 (the targets are <= 40 and >= 8.5: the score is not met yet).
"""
from configs.gan_mnist import get_config as _base


def get_config():
  c = _base()
  c.gan.r1_gamma = 1.0
  c.gan.g_ema = 0.999
  return c
