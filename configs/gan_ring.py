"""GAN on the ring of 8 Gaussians, sized for a 2-core CPU (10 seeds under 10 minutes).

Same protocol as PacGAN's 2-D experiments (100k points, batch 100, 2-D noise, Adam 1e-4
with beta1 0.8, metrics on 2,500 samples) with smaller MLPs and fewer steps; the exact
PacGAN setup is configs/gan_ring_pacgan.py.
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
  c.gan.maxout_pieces = 1
  c.gan.generator_loss = "non_saturating"
  c.gan.minibatch = "none"
  c.gan.g_optimizer.b1 = c.gan.d_optimizer.b1 = 0.8
  c.learning_rate = 1e-4
  c.batch_size = 100
  c.num_steps = 20_000
  c.log_every = 1_000
  c.eval_every = 5_000
  c.checkpoint_every = 5_000
  c.num_seeds = 10
  c.num_samples = 2_500
  c.eval.batch_size = 1_000
  return c
