"""Convolutional VAE on your own colour images (dataset 'image_folder': set
--config.dataset.data_dir to the folder), resized to 32x32x3, pixels in [0, 1] with a
Gaussian decoder: vae_conv_mnist's networks with a 64-d latent, batch 64, Adam 1e-3, 5,000
steps. 64x64: --config.dataset.image_size=64; gray images: --config.dataset.channels=1. A
labelled folder (class subfolders) also gets the sample metrics of its own judge
classifier."""
from configs.vae_conv_mnist import get_config as _mnist_config


def get_config():
  c = _mnist_config()            # conv encoder/decoder, hidden 256, batch 64
  c.dataset.name = "image_folder"
  c.dataset.channels = 3
  c.dataset.image_size = 32
  c.dataset.preprocess = "unit"  # colour pixels in [0, 1], not binarized digits
  c.dataset.eval_preprocess = "unit"
  c.model.likelihood = "gaussian"
  c.model.latent_dim = 64
  c.num_steps = 5_000
  c.num_samples = 64
  return c
