"""configs/dcgan_mnist.py with minibatch discrimination (Salimans et al. 2016) in D, as in
configs/gan_mnist_mbd.py (50 kernels of 5 dimensions, the mean similarity)."""
from configs.dcgan_mnist import get_config as _base
from configs.gan_mnist_mbd import with_minibatch_discrimination


def get_config():
  return with_minibatch_discrimination(_base())
