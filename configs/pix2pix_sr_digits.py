"""pix2pix x4 super-resolution of digits (mnist_sr4: 7x7 box-averaged inputs -> the 28x28
mnist_subset digits, in [-1, 1]): U-Net (depth 2, 32 base channels, two residual blocks at
its 7x7 bottleneck) from the bicubic-upsampled input, 2-layer PatchGAN (34-pixel patches),
L_cGAN + 100 L1, Adam 2e-4 (beta1 0.5), batch 64. "L1 only": --config.pix2pix.gan_weight=0.
x2: --config.dataset.name=mnist_sr2."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.name = "mnist_sr4"
  c.dataset.preprocess = "symmetric"
  c.dataset.eval_preprocess = "symmetric"
  c.model.name = "pix2pix"
  c.pix2pix.features = 32
  c.pix2pix.depth = 2
  c.pix2pix.bottleneck_blocks = 2
  c.pix2pix.d_layers = 2
  c.pix2pix.d_features = 32
  c.pix2pix.residual = True
  c.learning_rate = 2e-4
  c.batch_size = 64
  c.num_steps = 3_000
  c.log_every = 250
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.num_samples = 64
  return c
