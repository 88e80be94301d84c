"""configs/dcgan_mnist.py with minibatch discrimination (Salimans et al. 2016) in D: 50 kernels of
5 dimensions, the mean similarity (mb_normalize) as in the Stacked MNIST configs."""
from configs.dcgan_mnist import get_config as _base


def get_config():
  c = _base()
  c.gan.minibatch = "discrimination"
  c.gan.mb_kernels = 50
  c.gan.mb_dims = 5
  c.gan.mb_normalize = True
  return c
