"""DCGAN on your own colour images (dataset 'image_folder': set --config.dataset.data_dir to
the folder), resized to 64x64x3 in [-1, 1]: dcgan_mnist's DCGAN (Radford et al.), sized by
the image (a 4x4 start, four up-steps), Adam 2e-4 (beta1 0.5), batch 64, 100-d noise, 5,000
steps. 32x32: --config.dataset.image_size=32; gray images: --config.dataset.channels=1."""
from configs.dcgan_mnist import get_config as _mnist_config


def get_config():
  c = _mnist_config()            # the same networks, optimizers and schedule
  c.dataset.name = "image_folder"
  c.dataset.channels = 3
  c.dataset.image_size = 64
  return c
