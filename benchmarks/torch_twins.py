"""PyTorch twins of jaxgen's benchmark workloads: the same layers, sizes, initializers,
optimizers, losses, batch and step structure, written as a PyTorch user would (eager mode,
``torch.optim.Adam``), to time beside jaxgen in :mod:`benchmarks.suite`.

What "the same step structure" means here, workload by workload:

* ``vae``: the pytorch/examples VAE (784-400-2x20 encoder, 20-400-784 decoder, ReLU,
  Bernoulli logits), one reparameterized sample, loss -mean ELBO, Adam 1e-3; each step
  takes its batch from the epoch's permutation of the on-device training split and
  binarizes it afresh (dynamic binarization), as jaxgen's trainer does.
* ``dcgan``: the pytorch/examples DCGAN layout jaxgen builds (transposed convs with
  BatchNorm + ReLU, tanh output; strided convs with LeakyReLU 0.2 and BatchNorm from the
  second block, a linear logit), kernels N(0, 0.02), BatchNorm scales N(1, 0.02); one D
  update on a real batch and a detached fake batch (separate calls, so BatchNorm sees each
  alone), then one G update with *fresh* noise (a second generator forward), both with the
  non-saturating loss and Adam(lr, betas=(0.5, 0.999)), as ``jaxgen.models.gan`` does.
* ``mlp_gan`` (the 2-D mixtures): MLP G and D (ReLU / LeakyReLU 0.2), the same game,
  Adam(betas=(0.5, 0.999)) on jaxgen's cosine schedule; several seeds are independent
  model pairs trained one after the other in each step (what a PyTorch user writes).

Initial weights follow jaxgen's initializers (Flax's LeCun-normal, truncated, for dense
layers; zeros for biases), so the arithmetic per step is the same; the random streams are
PyTorch's own, so values differ from jaxgen's run.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def _lecun_normal_(weight: torch.Tensor, fan_in: int) -> None:
  """Flax's ``lecun_normal``: a normal truncated at 2 sigma, rescaled to variance 1/fan_in."""
  std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
  nn.init.trunc_normal_(weight, 0.0, std, -2 * std, 2 * std)


def dense(n_in: int, n_out: int) -> nn.Linear:
  layer = nn.Linear(n_in, n_out)
  with torch.no_grad():
    _lecun_normal_(layer.weight, n_in)
    layer.bias.zero_()
  return layer


def _dcgan_init(module: nn.Module) -> None:
  if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
    nn.init.normal_(module.weight, 0.0, 0.02)
  elif isinstance(module, nn.BatchNorm2d):
    nn.init.normal_(module.weight, 1.0, 0.02)
    nn.init.zeros_(module.bias)


# ---------------------------------------------------------------------------- VAE
class VAE(nn.Module):
  def __init__(self, dim: int = 784, hidden: int = 400, latent: int = 20):
    super().__init__()
    self.enc1, self.enc2 = dense(dim, hidden), dense(hidden, 2 * latent)
    self.dec1, self.dec2 = dense(latent, hidden), dense(hidden, dim)

  def loss(self, x: torch.Tensor) -> torch.Tensor:
    mean, logvar = self.enc2(F.relu(self.enc1(x))).chunk(2, dim=-1)
    z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
    logits = self.dec2(F.relu(self.dec1(z)))
    recon = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
    kl = 0.5 * (mean ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return -(recon - kl).mean()


def vae_trainer(train_u8: np.ndarray, batch_size: int, lr: float = 1e-3, latent: int = 20,
                hidden: int = 400, device: str = "cpu") -> Callable[[], None]:
  """A function that runs one training step of the VAE twin (binarized MNIST-style data)."""
  data = torch.from_numpy(train_u8.reshape(train_u8.shape[0], -1).astype(np.float32) / 255.0)
  data = data.to(device)
  model = VAE(data.shape[1], hidden, latent).to(device)
  opt = torch.optim.Adam(model.parameters(), lr=lr)
  batches = _batches(data.shape[0], batch_size, device)

  def step():
    x = torch.bernoulli(data[next(batches)])
    opt.zero_grad(set_to_none=True)
    model.loss(x).backward()
    opt.step()
  return step


def _batches(n: int, batch_size: int, device: str = "cpu"):
  """Batch indices from a fresh permutation each epoch (the remainder dropped)."""
  while True:
    perm = torch.randperm(n, device=device)
    for i in range(n // batch_size):
      yield perm[i * batch_size:(i + 1) * batch_size]


# ---------------------------------------------------------------------------- DCGAN
class DCGANGenerator(nn.Module):
  def __init__(self, nz: int, f: int, size: int, channels: int):
    super().__init__()
    start, mults = (size // 16, (8, 4, 2, 1)) if size % 16 == 0 else (size // 4, (4, 2))
    layers, c_in = [], nz
    for i, m in enumerate(mults):
      conv = (nn.ConvTranspose2d(c_in, f * m, start, 1, 0, bias=False) if i == 0 else
              nn.ConvTranspose2d(c_in, f * m, 4, 2, 1, bias=False))
      layers += [conv, nn.BatchNorm2d(f * m, momentum=0.1, eps=1e-5), nn.ReLU(True)]
      c_in = f * m
    layers += [nn.ConvTranspose2d(c_in, channels, 4, 2, 1, bias=False), nn.Tanh()]
    self.net = nn.Sequential(*layers)
    self.apply(_dcgan_init)

  def forward(self, z):
    return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
  def __init__(self, f: int, size: int, channels: int):
    super().__init__()
    layers, c_in, block = [], channels, 0
    while block == 0 or size > 4:
      c_out = f * 2 ** min(block, 3)
      layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False))
      if block > 0:
        layers.append(nn.BatchNorm2d(c_out, momentum=0.1, eps=1e-5))
      layers.append(nn.LeakyReLU(0.2, True))
      c_in, size, block = c_out, (size + 2 - 4) // 2 + 1, block + 1
    self.net = nn.Sequential(*layers, nn.Flatten())
    self.out = nn.Linear(c_in * size * size, 1)
    self.apply(_dcgan_init)
    nn.init.normal_(self.out.weight, 0.0, 0.02)
    nn.init.zeros_(self.out.bias)

  def forward(self, x):
    return self.out(self.net(x))[:, 0]


def gan_game_step(G, D, opt_g, opt_d, real: torch.Tensor, nz: int, sched=None) -> None:
  """One D update (real and detached fake batches, separate calls) and one G update with
  fresh noise, non-saturating loss: jaxgen.models.gan's train_step with d_steps = 1."""
  n = real.shape[0]
  fake = G(torch.randn(n, nz, device=real.device)).detach()
  opt_d.zero_grad(set_to_none=True)
  d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
  d_loss.backward()
  opt_d.step()
  opt_g.zero_grad(set_to_none=True)
  g_loss = F.softplus(-D(G(torch.randn(n, nz, device=real.device)))).mean()
  g_loss.backward()
  opt_g.step()
  if sched is not None:
    for s in sched:
      s.step()


def dcgan_trainer(train_u8: np.ndarray, batch_size: int, lr: float = 2e-4, nz: int = 100,
                  f: int = 64, device: str = "cpu") -> Callable[[], None]:
  """One training step of the DCGAN twin on NHWC uint8 images (mapped to [-1, 1])."""
  size, channels = train_u8.shape[1], train_u8.shape[3]
  data = torch.from_numpy(np.ascontiguousarray(train_u8.transpose(0, 3, 1, 2))).to(device)
  G = DCGANGenerator(nz, f, size, channels).to(device)
  D = DCGANDiscriminator(f, size, channels).to(device)
  opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
  opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
  batches = _batches(data.shape[0], batch_size, device)

  def step():
    real = data[next(batches)].float() / 127.5 - 1.0
    gan_game_step(G, D, opt_g, opt_d, real, nz)
  return step


# ---------------------------------------------------------------------------- 2-D GANs
def mlp(n_in: int, hidden, n_out: int, act) -> nn.Sequential:
  layers = []
  for width in hidden:
    layers += [dense(n_in, width), act()]
    n_in = width
  return nn.Sequential(*layers, dense(n_in, n_out))


class _Squeeze(nn.Module):
  def __init__(self, net):
    super().__init__()
    self.net = net

  def forward(self, x):
    return self.net(x)[:, 0]


def mlp_gan_trainer(points: np.ndarray, batch_size: int, seeds: int, lr: float, nz: int,
                    g_hidden, d_hidden, total_steps: int, device: str = "cpu") -> Callable[[], None]:
  """One training step of ``seeds`` independent MLP GANs on 2-D points, one after another,
  each with Adam(betas=(0.5, 0.999)) on a cosine decay to 0 over ``total_steps``."""
  data = torch.from_numpy(points.astype(np.float32)).to(device)
  pairs = []
  for _ in range(seeds):
    G = mlp(nz, g_hidden, data.shape[1], nn.ReLU).to(device)
    D = _Squeeze(mlp(data.shape[1], d_hidden, 1, lambda: nn.LeakyReLU(0.2))).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    cosine = lambda t: 0.5 * (1 + math.cos(math.pi * min(t, total_steps) / total_steps))
    sched = [torch.optim.lr_scheduler.LambdaLR(o, cosine) for o in (opt_g, opt_d)]
    pairs.append((G, D, opt_g, opt_d, sched, _batches(data.shape[0], batch_size, device)))

  def step():
    for G, D, opt_g, opt_d, sched, batches in pairs:
      gan_game_step(G, D, opt_g, opt_d, data[next(batches)], nz, sched)
  return step
