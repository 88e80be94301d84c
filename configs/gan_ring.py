"""GAN on the ring of 8 Gaussians (std 0.01), sized for a 2-core CPU: 10 seeds in one
program.

PacGAN's 2-D protocol (100k training points, 2-D noise, metrics on 2,500 samples, 10
seeds) with smaller MLPs (3 x 128), batch 64, Adam 1e-3 (beta1 0.5) with a cosine decay
to 0 over 20k steps. The exact PacGAN setup is configs/gan_ring_pacgan.py (GPU work).
"""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.dataset.name = "ring"
  c.dataset.preprocess = "none"
  c.dataset.eval_preprocess = "none"
  c.model.name = "gan"
  c.model.net = "mlp"
  c.model.latent_dim = 2
  c.model.hidden = (128, 128, 128)
  c.gan.d_hidden = (128, 128, 128)
  c.gan.generator_loss = "non_saturating"
  c.gan.minibatch = "none"
  c.gan.mb_kernels = 8           # used by the _mbd variant (CPU-sized; PacGAN configs use 100)
  c.gan.mb_dims = 3
  c.gan.mb_normalize = True      # mean similarity in [0, 1]: the sum (up to 63) destabilizes D
  c.learning_rate = 1e-3
  c.lr_schedule = "cosine"
  c.batch_size = 64
  c.num_steps = 20_000
  c.log_every = 1_000
  c.eval_every = 5_000
  c.checkpoint_every = 5_000
  c.num_seeds = 10
  c.num_samples = 2_500
  c.eval.batch_size = 2_000
  return c
