"""The autoencoder of the anomaly-detection sweeps: ``vae_anomaly`` (MLP 784-400-20, 3,000
steps of batch 128) as a deterministic autoencoder scored by its reconstruction error."""
from configs.vae_anomaly import get_config as vae_anomaly_config


def get_config():
  c = vae_anomaly_config()
  c.model.name = "ae"
  return c
