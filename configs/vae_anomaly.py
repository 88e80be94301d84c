"""The VAE of ``vae_mnist`` (MLP 784-400-20, Bernoulli decoder) for the anomaly-detection
sweeps (train.py --mode anomaly --protocol one_class|leave_one_out): 3,000 steps of batch
128 whatever the training filter keeps (1,000 epochs of one digit's 400 examples, 110 of
nine digits' 3,600), no evaluation during training, and no sample metrics (a model of
some digits against the test split of all ten says nothing about anomaly detection)."""
from configs.vae_mnist import get_config as vae_mnist_config


def get_config():
  c = vae_mnist_config()
  c.num_steps = 3_000
  c.eval_every = 3_000
  c.checkpoint_every = 3_000
  c.keep_checkpoints = 1
  c.eval.sample_metrics = False
  return c
