"""``vae_mnist`` with a 2-D latent space (MLP 784-400-2): its decoded manifold and its code
map can be drawn directly (train.py --mode explore; Kingma & Welling 2014, Fig. 4)."""
from configs.vae_mnist import get_config as vae_mnist_config


def get_config():
  c = vae_mnist_config()
  c.model.latent_dim = 2
  return c
