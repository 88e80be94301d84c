"""DCGAN on Stacked MNIST (``stacked_mnist_subset``: 1,000 modes), sized for a 2-core CPU:
5 seeds in one program, 2,000 steps. At this size the samples are still
immature: resume with a larger
``--config.num_steps`` (the learning rate is constant, so that is exact), or on a GPU use
``--config.gan.features=64`` (PacGAN's width) and many more steps.

PacGAN's protocol (Lin et al. 2018, section 5.2): three MNIST digits as the channels of one
28x28x3 image, 26,000 samples per seed, each channel read by a digit classifier (here the
judge classifier of mnist_subset), the modes covered out of 1,000 and KL(sample mode
histogram || uniform). The nets are jaxgen's DCGAN at a quarter of PacGAN's width (base
16 channels instead of 64), batch 64, Adam 2e-4 (beta1 0.5). Variants:
``dcgan_stacked_mbd`` (minibatch discrimination), ``dcgan_stacked_stddev`` (minibatch
stddev), and ``dcgan_stacked_weak`` (D at half the channels, a quarter of the parameters:
PacGAN's Table 3 setting, where collapse is strong).
"""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.name = "stacked_mnist_subset"
  c.dataset.preprocess = "symmetric"
  c.dataset.eval_preprocess = "symmetric"
  c.model.name = "gan"
  c.model.net = "dcgan"
  c.model.latent_dim = 100
  c.gan.features = 16
  c.gan.mb_kernels = 50
  c.gan.mb_dims = 5
  c.gan.mb_normalize = True
  c.learning_rate = 2e-4
  c.batch_size = 64
  c.num_steps = 2_000
  c.num_seeds = 5
  c.log_every = 250
  c.eval_every = 2_000
  c.checkpoint_every = 1_000
  c.num_samples = 64
  c.eval.num_mode_samples = 26_000
  c.eval.batch_size = 1_000
  return c
