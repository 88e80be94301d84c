"""pix2pix colorization of photographs (photos_color: 32x32 luminance inputs -> 32x32 RGB
patches of the colour photographs shipped with scikit-image and scikit-learn, held-out
photographs for test, one more for validation, in [-1, 1]; flips and quarter turns): U-Net
(depth 3, 32 base channels up to 128, two residual blocks at the 4x4 bottleneck, no
normalization, no dropout, resize-convolution up-steps, residual: it corrects the gray
image, Y in R, G and B), 2-layer PatchGAN, L_cGAN + 100 L1, Adam 2e-4 (beta1 0.5), batch
64, 1,000 steps; the step with the best validation PSNR is kept. "L1 only":
--config.pix2pix.gan_weight=0."""
from configs.pix2pix_sr_photos import get_config as _photo_config


def get_config():
  c = _photo_config()           # the same networks, optimizers and schedule
  c.dataset.name = "photos_color"
  c.num_steps = 1_000
  return c
