"""PacGAN's 2-D setup on the ring (Lin et al. 2018, section 5.1), unpacked (the 'GAN' row):
G and D MLPs of 4 hidden layers x 400 units (D with 5-piece maxout units), Adam 1e-4 with
beta1 0.8, batch 100, 2-D Gaussian noise, 400 epochs over 100k points (400k steps), 10
seeds, metrics on 2,500 samples. Add --config.gan.minibatch=discrimination (B=100, C=5)
for the minibatch-discrimination row. GPU work: about 25 steps/s for 5 seeds on a 2-core CPU.
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
  c.model.hidden = (400, 400, 400, 400)
  c.gan.d_hidden = (400, 400, 400, 400)
  c.gan.maxout_pieces = 5
  c.gan.generator_loss = "non_saturating"
  c.gan.minibatch = "none"
  c.gan.mb_kernels = 100
  c.gan.mb_dims = 5
  c.gan.g_optimizer.b1 = c.gan.d_optimizer.b1 = 0.8
  c.learning_rate = 1e-4
  c.batch_size = 100
  c.num_steps = 400_000
  c.log_every = 10_000
  c.eval_every = 50_000
  c.checkpoint_every = 50_000
  c.num_seeds = 10
  c.seed_batching = "vmap"
  c.num_samples = 2_500
  c.eval.batch_size = 2_000
  return c
