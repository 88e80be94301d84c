"""pix2pix colorization of photographs (photos_color: 32x32 luminance inputs -> 32x32 RGB
patches of the photographs shipped with scikit-image and scikit-learn, held-out photographs
for test, in [-1, 1]): U-Net (depth 3, 32 base channels up to 128, two residual blocks at
the 4x4 bottleneck, no normalization, no dropout, residual: it corrects the gray image, Y in
R, G and B), 2-layer PatchGAN, L_cGAN + 100 L1, Adam 2e-4 (beta1 0.5), batch 64. "L1 only":
--config.pix2pix.gan_weight=0."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.name = "photos_color"
  c.dataset.preprocess = "symmetric"
  c.dataset.eval_preprocess = "symmetric"
  c.model.name = "pix2pix"
  c.pix2pix.features = 32
  c.pix2pix.depth = 3            # 4x4 bottleneck: at depth 5 (1x1) the GAN painted a fixed
  c.pix2pix.bottleneck_blocks = 2  # pattern at every patch's centre (docs/conditional.md)
  c.pix2pix.max_features = 128
  c.pix2pix.d_layers = 2
  c.pix2pix.d_features = 32
  c.pix2pix.residual = True
  c.pix2pix.norm = "none"        # no BatchNorm (as EDSR): its train/eval switch costs dB here
  c.pix2pix.dropout = 0.0        # and no dropout noise: G is a deterministic regressor + GAN
  c.learning_rate = 2e-4
  c.batch_size = 64
  c.num_steps = 1_000            # 6 training photographs: longer runs overfit (docs/conditional.md)
  c.log_every = 250
  c.eval_every = 250
  c.checkpoint_every = 500
  c.num_samples = 64
  return c
