"""configs/gan_mnist.py with minibatch discrimination (Salimans et al. 2016) in D: 50 kernels of
5 dimensions, the mean similarity (mb_normalize) as in the Stacked MNIST configs."""
from configs.gan_mnist import get_config as _base


def with_minibatch_discrimination(c):
  """``c`` with the minibatch-discrimination layer of the MNIST GAN configs."""
  c.gan.minibatch = "discrimination"
  c.gan.mb_kernels = 50
  c.gan.mb_dims = 5
  c.gan.mb_normalize = True
  return c


def get_config():
  return with_minibatch_discrimination(_base())
