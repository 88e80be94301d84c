"""pix2pix x4 super-resolution of photographs (photos_sr4: 8x8 box-averaged inputs -> 32x32
RGB patches of the photographs shipped with scikit-image and scikit-learn, held-out
photographs for test, one more for validation, in [-1, 1]; each training pair under the 8
flips and quarter turns): U-Net (depth 3, 32 base channels up to 128, two residual blocks at
the 4x4 bottleneck, no normalization, no dropout, resize-convolution up-steps, residual: it
corrects the bicubic-upsampled input), 2-layer PatchGAN, L_cGAN + 100 L1, Adam 2e-4 (beta1
0.5), batch 64; the step with the best validation PSNR is kept (eval.json["selected"]).
"L1 only": --config.pix2pix.gan_weight=0."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.name = "photos_sr4"
  c.dataset.preprocess = "symmetric"
  c.dataset.eval_preprocess = "symmetric"
  c.dataset.dihedral = True      # 8x the training pairs: flips and quarter turns
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
  c.pix2pix.g_upsampling = "resize"  # nearest x2 + 3x3 conv: no checkerboard (Odena et al.)
  c.learning_rate = 2e-4
  c.batch_size = 64
  c.num_steps = 2_000
  c.log_every = 250
  c.eval_every = 250
  c.eval.select_on = "psnr"      # the best step on the validation photograph (never the test)
  c.checkpoint_every = 500
  c.num_samples = 64
  return c
