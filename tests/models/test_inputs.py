"""Bad arrays through the Python API: one-line errors naming the problem and the fix,
raised while tracing (before XLA compiles anything)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import models
from jaxgen.models.inputs import InputError, check_batch


def _vae(vae_config):
  return models.build(vae_config, (28, 28, 1))


@pytest.mark.parametrize("x, words", [
    (np.zeros((28, 28, 1), np.float32), "add a batch axis"),
    (np.zeros((5, 784), np.float32), "x.reshape(-1, 28, 28, 1)"),
    (np.zeros((5, 28, 28), np.float32), "x.reshape(-1, 28, 28, 1)"),
    (np.zeros((5, 32, 32, 1), np.float32), "expected shape [batch, 28, 28, 1], got [5, 32, 32, 1]"),
    (np.zeros((0, 28, 28, 1), np.float32), "empty batch"),
    (np.zeros((5, 28, 28, 1), np.uint8), "x.astype(np.float32) / 255"),
    (np.zeros((5, 28, 28, 1), bool), "dtype bool"),
    ([[0.0]], "got list"),
])
def test_check_batch_messages(x, words):
  with pytest.raises(InputError) as e:
    check_batch(x, (28, 28, 1), "VAE.encode")
  msg = str(e.value)
  assert words in msg and msg.startswith("VAE.encode: ") and "\n" not in msg


def test_check_batch_accepts_float_batches():
  for dtype in (np.float32, np.float16, jnp.bfloat16):
    check_batch(np.zeros((3, 28, 28, 1), dtype), (28, 28, 1), "f")
  check_batch(jnp.zeros((1, 2)), (2,), "f")


def test_models_reject_bad_batches_before_compiling(vae_config, ae_config):
  key = jax.random.PRNGKey(0)
  vae = _vae(vae_config)
  state = vae.init(key)
  good = jnp.zeros((4, 28, 28, 1))
  vae.eval_batch(state, good, key)                    # fine
  step = jax.jit(vae.train_step)
  with pytest.raises(InputError, match=r"^VAE\.train_step: expected a float array, got dtype uint8"):
    step(state, jnp.zeros((4, 28, 28, 1), jnp.uint8), key)
  with pytest.raises(InputError, match=r"^VAE\.nll_batch: .*reshape"):
    vae.nll_batch(state, jnp.zeros((4, 784)), key, 4)
  with pytest.raises(InputError, match=r"^VAE\.encode: .*batch axis"):
    vae.encode(state.params, jnp.zeros((28, 28, 1)))
  ae = models.build(ae_config, (28, 28, 1))
  with pytest.raises(InputError, match=r"^Autoencoder\.train_step: expected shape"):
    ae.train_step(ae.init(key), jnp.zeros((4, 14, 14, 1)), key)


def test_gan_rejects_bad_batches(load_config, tiny):
  config = tiny(load_config("gan_ring"), num_seeds=1)
  gan = models.build(config, (2,))          # 2-D points, as the ring dataset's
  key = jax.random.PRNGKey(0)
  state = gan.init(key)
  with pytest.raises(InputError, match=r"^GAN\.train_step: expected shape \[batch, 2\], got \[8, 3\]"):
    gan.train_step(state, jnp.zeros((8, 3)), key)
  with pytest.raises(InputError, match=r"^GAN\.discriminator_step: expected a float array"):
    gan.discriminator_step(state, jnp.zeros((8, 2), jnp.int32), key)

