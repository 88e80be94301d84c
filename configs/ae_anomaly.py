"""The autoencoder of ``ae_mnist`` (MLP 784-400-20, Bernoulli cross-entropy) for the anomaly-detection
sweeps (train.py --mode anomaly --protocol one_class|leave_one_out): 3,000 steps of batch
128 whatever the training filter keeps (1,000 epochs of one digit's 400 examples, 110 of
nine digits' 3,600), no evaluation during training."""
from jaxgen.config import base_config


def get_config():
  c = base_config()
  c.model.name = "ae"
  c.model.net = "mlp"
  c.model.hidden = (400,)
  c.model.latent_dim = 20
  c.num_steps = 3_000
  c.batch_size = 128
  c.learning_rate = 1e-3
  c.log_every = 500
  c.eval_every = 3_000
  c.checkpoint_every = 3_000
  c.keep_checkpoints = 1
  return c
