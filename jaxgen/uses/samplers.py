"""Latent samplers fitted after training: densities over an autoencoder's training codes.

A VAE's prior N(0, I) puts mass where the encoder put no training code (the prior holes),
and a plain autoencoder has no prior at all: decoding N(0, I) codes draws noise. A density
fitted to the codes of the training split after training fixes both (Ghosh et al. 2020,
"From variational to deterministic autoencoders"; Dai & Wipf 2019, "Diagnosing and
enhancing VAE models"). Samplers (:data:`SAMPLERS`):

* ``prior``: the model's own prior (no fit; the VAE's N(0, I), the AE's N(0, I) codes);
* ``gaussian``: one Gaussian, mean and full covariance of the codes;
* ``gmm``: a Gaussian mixture with full covariances (scikit-learn's ``GaussianMixture``),
  its number of components chosen by the Bayesian information criterion on the training
  codes among :data:`GMM_COMPONENTS`;
* ``vae2``: a second-stage VAE on the codes (Dai & Wipf): an MLP VAE whose latent has the
  codes' dimension and whose Gaussian decoder learns one variance γ for all dimensions;
  sampling draws u ~ N(0, I) and returns the decoder's mean.

:func:`fit_sampler` fits one on codes [N, D]; :class:`CodeSampler` draws codes with an
explicit PRNG key and holds its state as named NumPy arrays, which :func:`save_sampler`
writes beside a run's checkpoints (``workdir/samplers/<name>.npz``, tagged with the step)
and :func:`load_sampler` reads back. :meth:`jaxgen.uses.loading.Trained.sampler` does
both: fits on first use, restores afterwards.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Callable, Optional, Sequence

import flax.linen as nn
import flax.traverse_util
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgen.distributions import gaussian_kl, gaussian_log_prob, reparameterize

SAMPLERS = ("prior", "gaussian", "gmm", "vae2")
GMM_COMPONENTS = (1, 2, 4, 8, 16, 32)
VAE2_STEPS = 6000          # the second stage's training steps (about 30 s on 2 CPU cores)


@dataclasses.dataclass
class CodeSampler:
  """A fitted density over codes: ``name`` (one of :data:`SAMPLERS` but 'prior') and its
  state ``arrays`` (NumPy, float64 unless stated); :meth:`sample` draws codes."""
  name: str
  arrays: dict
  info: dict = dataclasses.field(default_factory=dict)

  def sample(self, key: jax.Array, n: int) -> np.ndarray:
    """``n`` codes [n, D] (float32), a function of ``key`` alone."""
    a = self.arrays
    if self.name == "gaussian":
      eps = np.asarray(jax.random.normal(key, (n, a["mean"].shape[0])), np.float64)
      return (a["mean"] + eps @ a["root"].T).astype(np.float32)
    if self.name == "gmm":
      k_comp, k_eps = jax.random.split(key)
      comp = np.asarray(jax.random.categorical(k_comp, jnp.log(jnp.asarray(a["weights"])),
                                               shape=(n,)))
      eps = np.asarray(jax.random.normal(k_eps, (n, a["means"].shape[1])), np.float64)
      return (a["means"][comp] + np.einsum("nij,nj->ni", a["roots"][comp], eps)).astype(np.float32)
    if self.name == "vae2":
      params = _unflatten(a)
      u = jax.random.normal(key, (n, int(a["latent_dim"])))
      mean = _stage_two(a).apply({"params": params}, u, method=_StageTwo.decode)
      return (np.asarray(mean, np.float64) * a["scale"] + a["shift"]).astype(np.float32)
    raise ValueError(f"unknown sampler {self.name!r}")


# ------------------------------------------------------------------ fitting
def _gaussian_root(cov: np.ndarray) -> np.ndarray:
  w, v = np.linalg.eigh((cov + cov.T) / 2)
  return v * np.sqrt(np.clip(w, 0.0, None))            # cov = root root^T


def fit_gaussian(codes) -> CodeSampler:
  """Mean and full covariance of ``codes`` [N, D] (float64)."""
  codes = np.asarray(codes, np.float64)
  cov = np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])
  return CodeSampler("gaussian", {"mean": codes.mean(0), "root": _gaussian_root(cov)})


def fit_gmm(codes, components: Optional[Sequence[int]] = None, seed: int = 0,
            log: Callable[[str], None] = lambda s: None) -> CodeSampler:
  """A full-covariance Gaussian mixture over ``codes``, the number of components the one
  of ``components`` (default :data:`GMM_COMPONENTS`) with the lowest BIC on ``codes`` (fewer
  than 5 codes per parameter's worth of components are skipped); ``info`` records every
  candidate's BIC."""
  from sklearn.mixture import GaussianMixture  # lazy: only a fit needs scikit-learn
  components = GMM_COMPONENTS if components is None else components
  codes = np.asarray(codes, np.float64)
  n, d = codes.shape
  bics, best = {}, None
  for k in components:
    params = k * (d + d * (d + 1) / 2) + k - 1
    if k > 1 and n < 5 * params / d:
      continue
    gm = GaussianMixture(k, covariance_type="full", random_state=seed, reg_covar=1e-6,
                         max_iter=500).fit(codes)
    bics[k] = float(gm.bic(codes))
    log(f"  gmm: {k} components, BIC {bics[k]:.1f}")
    if best is None or bics[k] < bics[best[0]]:
      best = (k, gm)
  k, gm = best
  roots = np.stack([_gaussian_root(c) for c in gm.covariances_])
  return CodeSampler("gmm", {"weights": gm.weights_.astype(np.float64), "means": gm.means_,
                             "roots": roots},
                     {"components": k, "bic": {str(c): v for c, v in bics.items()},
                      "criterion": "lowest BIC on the training codes"})


class _StageTwo(nn.Module):
  """The second-stage VAE: MLP encoder u|z and decoder z|u, one learned log γ."""
  dim: int
  hidden: tuple[int, ...] = (512, 512)

  def setup(self):
    self.enc = [nn.Dense(h, name=f"enc_{i}") for i, h in enumerate(self.hidden)]
    self.enc_out = nn.Dense(2 * self.dim, name="enc_out")
    self.dec = [nn.Dense(h, name=f"dec_{i}") for i, h in enumerate(self.hidden)]
    self.dec_out = nn.Dense(self.dim, name="dec_out")
    self.log_gamma = self.param("log_gamma", nn.initializers.zeros, ())

  def encode(self, z):
    h = z
    for layer in self.enc:
      h = nn.relu(layer(h))
    mean, logvar = jnp.split(self.enc_out(h), 2, axis=-1)
    return mean, logvar

  def decode(self, u):
    h = u
    for layer in self.dec:
      h = nn.relu(layer(h))
    return self.dec_out(h)

  def __call__(self, z, key):
    mean, logvar = self.encode(z)
    u = reparameterize(key, mean, logvar)
    return self.decode(u), mean, logvar, self.log_gamma


def _stage_two(arrays) -> _StageTwo:
  return _StageTwo(int(arrays["latent_dim"]), tuple(int(h) for h in arrays["hidden"]))


def stage_two_loss(module: _StageTwo, params, z, key, kl_weight=1.0) -> jax.Array:
  """The negative ELBO per code, averaged: ||z - mu(u)||^2 / (2 γ) + (D/2) log(2 π γ) +
  KL(q(u|z) || N(0, I)) (times ``kl_weight``: 1 is the ELBO), one posterior sample."""
  recon, mean, logvar, log_gamma = module.apply({"params": params}, z, key)
  nll = -gaussian_log_prob(z, recon, jnp.broadcast_to(log_gamma, z.shape))
  return jnp.mean(nll + kl_weight * gaussian_kl(mean, logvar))


def fit_vae2(codes, seed: int = 0, num_steps: Optional[int] = None, batch_size: int = 128,
             learning_rate: float = 1e-3, hidden: tuple[int, ...] = (512, 512),
             warmup_fraction: float = 0.25,
             log: Callable[[str], None] = lambda s: None) -> CodeSampler:
  """The second-stage VAE on ``codes`` [N, D] (standardized per dimension first), trained
  with Adam for ``num_steps`` minibatch steps inside one compiled ``lax.scan``, the KL
  term's weight rising linearly from 0 to 1 over the first ``warmup_fraction`` of them (a
  second stage started at the full ELBO stays at the trivial optimum: u ignored, the codes
  modelled as N(0, I) with γ = 1); ``info`` holds the loss over the last 500 steps and the
  learned γ."""
  num_steps = int(num_steps or VAE2_STEPS)
  codes = np.asarray(codes, np.float64)
  n, d = codes.shape
  shift, scale = codes.mean(0), codes.std(0) + 1e-8
  z_all = jnp.asarray((codes - shift) / scale, jnp.float32)
  module = _StageTwo(d, tuple(hidden))
  key = jax.random.PRNGKey(seed)
  k_init, k_train = jax.random.split(key)
  params = module.init(k_init, z_all[:2], k_init)["params"]
  tx = optax.adam(optax.cosine_decay_schedule(learning_rate, num_steps, 0.05))
  opt_state = tx.init(params)
  loss_grad = jax.value_and_grad(lambda p, z, k, w: stage_two_loss(module, p, z, k, w))
  warmup = max(1, int(warmup_fraction * num_steps))

  @jax.jit
  def train(params, opt_state, key):
    def step(carry, inputs):
      params, opt_state = carry
      i, k = inputs
      k_batch, k_loss = jax.random.split(k)
      idx = jax.random.randint(k_batch, (batch_size,), 0, n)
      loss, grads = loss_grad(params, z_all[idx], k_loss, jnp.minimum(1.0, i / warmup))
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss
    (params, opt_state), losses = jax.lax.scan(
        step, (params, opt_state), (jnp.arange(num_steps, dtype=jnp.float32),
                                    jax.random.split(key, num_steps)))
    return params, losses

  params, losses = train(params, opt_state, k_train)
  losses = np.asarray(losses)
  log(f"  vae2: {num_steps} steps, loss {losses[:500].mean():.3f} -> {losses[-500:].mean():.3f}, "
      f"gamma {float(np.exp(params['log_gamma'])):.4f}")
  arrays = {f"params/{k}": np.asarray(v) for k, v in
            flax.traverse_util.flatten_dict(jax.device_get(params), sep="/").items()}
  arrays.update({"shift": shift, "scale": scale, "latent_dim": np.asarray(d),
                 "hidden": np.asarray(hidden)})
  return CodeSampler("vae2", arrays, {"num_steps": num_steps,
                                      "final_loss": float(losses[-500:].mean()),
                                      "gamma": float(np.exp(params["log_gamma"]))})


def _unflatten(arrays) -> dict:
  flat = {k[len("params/"):]: jnp.asarray(v) for k, v in arrays.items() if k.startswith("params/")}
  return flax.traverse_util.unflatten_dict(flat, sep="/")


def fit_sampler(name: str, codes, seed: int = 0,
                log: Callable[[str], None] = lambda s: None) -> CodeSampler:
  """The sampler ``name`` (:data:`SAMPLERS` but 'prior') fitted to ``codes`` [N, D]."""
  if name == "gaussian":
    return fit_gaussian(codes)
  if name == "gmm":
    return fit_gmm(codes, seed=seed, log=log)
  if name == "vae2":
    return fit_vae2(codes, seed=seed, log=log)
  raise ValueError(f"unknown sampler {name!r}; fitted samplers are "
                   f"{', '.join(s for s in SAMPLERS if s != 'prior')} ('prior' needs no fit)")


# ------------------------------------------------------------------ saving
def sampler_path(workdir: str, name: str) -> str:
  return os.path.join(workdir, "samplers", f"{name}.npz")


def save_sampler(sampler: CodeSampler, workdir: str, step: int) -> str:
  """Writes ``workdir/samplers/<name>.npz`` (the arrays, the step of the checkpoint whose
  codes it was fitted to, and ``info`` as JSON); returns the path."""
  path = sampler_path(workdir, sampler.name)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  np.savez(path, **sampler.arrays, __step__=np.asarray(step),
           __info__=np.asarray(json.dumps(sampler.info)))
  return path


def load_sampler(workdir: str, name: str, step: int) -> Optional[CodeSampler]:
  """The sampler ``name`` saved in ``workdir`` for checkpoint ``step``, or None (none
  saved, or saved for another step: codes change as training goes on)."""
  path = sampler_path(workdir, name)
  if not os.path.exists(path):
    return None
  with np.load(path) as z:
    if int(z["__step__"]) != int(step):
      return None
    arrays = {k: z[k] for k in z.files if not k.startswith("__")}
    info = json.loads(str(z["__info__"]))
  return CodeSampler(name, arrays, info)
