"""PacGAN's 2-D setup on the ring (Lin et al. 2018, section 5.1), unpacked (the 'GAN' row):
G and D MLPs of 4 hidden layers x 400 units (D with 5-piece maxout units), Adam 1e-4 with
beta1 0.8, batch 100, 2-D Gaussian noise, 400 epochs over 100k points (400k steps), 10
seeds, metrics on 2,500 samples. Add --config.gan.minibatch=discrimination (B=100, C=5)
for the minibatch-discrimination row. GPU work (400k steps).
Starts from configs/gan_ring.py (same data, noise and metrics) and changes the rest.
"""
from configs.gan_ring import get_config as _cpu_sized


def get_config():
  c = _cpu_sized()
  c.model.hidden = (400, 400, 400, 400)
  c.gan.d_hidden = (400, 400, 400, 400)
  c.gan.maxout_pieces = 5
  c.gan.mb_kernels = 100
  c.gan.mb_dims = 5
  c.gan.mb_normalize = False     # the paper's sum
  c.gan.g_optimizer.b1 = c.gan.d_optimizer.b1 = 0.8
  c.learning_rate = 1e-4
  c.lr_schedule = "constant"
  c.batch_size = 100
  c.num_steps = 400_000
  c.log_every = 10_000
  c.eval_every = 50_000
  c.checkpoint_every = 50_000
  c.seed_batching = "vmap"
  return c
