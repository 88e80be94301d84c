"""``vae_mnist`` trained on the importance-weighted bound (Burda et al. 2016) with K = 50
samples per example instead of the ELBO: the same networks, data, optimizer and number of
steps. Each step costs about 50 decoder passes per example; the test NLL (K = 1000) is
logged every 500 steps so that it can be read at the training time of ``vae_mnist`` too."""
from configs.vae_mnist import get_config as vae_mnist_config


def get_config():
  c = vae_mnist_config()
  c.model.objective = "iwae"
  c.model.num_samples = 50
  c.eval_every = 500
  c.checkpoint_every = 500
  c.eval.nll_samples_during_training = 1000
  return c
