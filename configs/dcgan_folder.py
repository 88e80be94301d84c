"""DCGAN on your own colour images (dataset 'image_folder': set --config.dataset.data_dir to
the folder), resized to 64x64x3 in [-1, 1]: the DCGAN of Radford et al. sized by the image
(a 4x4 start, four up-steps), Adam 2e-4 (beta1 0.5), batch 64, 100-d noise, 5,000 steps.
32x32: --config.dataset.image_size=32; gray images: --config.dataset.channels=1."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.name = "image_folder"
  c.dataset.channels = 3
  c.dataset.image_size = 64
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
