"""Latent samplers fitted after training: each recovers a density it can represent, draws
codes as a function of its key alone, and comes back from disk unchanged."""
import jax
import numpy as np
import pytest

from jaxgen.uses import judge as judge_lib
from jaxgen.uses import samplers


def _mixture(rng, n):
  weights = np.array([0.5, 0.3, 0.2])
  means = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
  scales = np.array([[1.0, 0.5], [0.5, 1.5], [0.8, 0.8]])
  comp = rng.choice(3, size=n, p=weights)
  return means[comp] + rng.normal(size=(n, 2)) * scales[comp], weights, means, scales


def test_gmm_recovers_a_known_mixture_and_samples_it():
  rng = np.random.RandomState(0)
  x, weights, means, scales = _mixture(rng, 6000)
  s = samplers.fit_gmm(x, components=(1, 2, 3, 4, 5))
  assert s.info["components"] == 3                           # BIC picks the true size
  order = np.argsort(s.arrays["means"][:, 0] + 10 * s.arrays["means"][:, 1])
  np.testing.assert_allclose(s.arrays["weights"][order], weights[[0, 1, 2]], atol=0.02)
  np.testing.assert_allclose(s.arrays["means"][order], means, atol=0.1)
  covs = np.einsum("kij,klj->kil", s.arrays["roots"], s.arrays["roots"])[order]
  np.testing.assert_allclose(np.diagonal(covs, axis1=1, axis2=2), scales ** 2, rtol=0.1)
  z = s.sample(jax.random.PRNGKey(0), 20_000)
  near = np.argmin(((z[:, None] - means[None]) ** 2).sum(-1), axis=1)
  np.testing.assert_allclose(np.bincount(near, minlength=3) / len(z), weights, atol=0.02)
  np.testing.assert_array_equal(s.sample(jax.random.PRNGKey(0), 5), z[:5])
  assert not np.array_equal(s.sample(jax.random.PRNGKey(1), 5), z[:5])


def test_the_gaussian_sampler_is_the_fitted_gaussian_of_the_judge():
  codes = np.random.RandomState(1).normal(size=(300, 4)) @ np.diag([1.0, 2.0, 0.5, 3.0])
  s = samplers.fit_sampler("gaussian", codes)
  key = jax.random.PRNGKey(3)
  np.testing.assert_allclose(s.sample(key, 50),
                             judge_lib.fitted_gaussian_codes(codes, key, 50), rtol=1e-6)


@pytest.mark.slow       # a second stage trained 3,000 steps: 5 s
def test_vae2_learns_the_gap_of_a_bimodal_density():
  """Codes at (±3, 0) with sd 0.3: a second-stage VAE puts fewer samples in the gap between
  the modes than the one Gaussian fitted to them (38%: P(|N(0, 1)| < 0.5)); its decoder
  variance gamma falls well below the 1 of the trivial optimum (codes modelled as N(0, I),
  u ignored)."""
  rng = np.random.RandomState(0)
  x = np.concatenate([rng.normal([-3, 0], 0.3, size=(1000, 2)),
                      rng.normal([3, 0], 0.3, size=(1000, 2))])
  s = samplers.fit_vae2(x, num_steps=3000, hidden=(64, 64))
  assert s.info["gamma"] < 0.5
  z = s.sample(jax.random.PRNGKey(0), 4000)
  in_gap = lambda v: np.mean(np.abs(v[:, 0]) < 1.5)
  gauss = samplers.fit_gaussian(x).sample(jax.random.PRNGKey(0), 4000)
  assert in_gap(gauss) > 0.33 and in_gap(z) < 0.25
  assert abs(np.mean(z[:, 0] > 0) - 0.5) < 0.1               # both modes kept


def test_samplers_come_back_from_disk_for_their_step_only(tmp_path):
  codes = np.random.RandomState(2).normal(size=(400, 3))
  for name in ("gaussian", "gmm", "vae2"):
    s = samplers.fit_sampler(name, codes) if name != "vae2" else samplers.fit_vae2(
        codes, num_steps=50, hidden=(8,))
    samplers.save_sampler(s, str(tmp_path), step=7)
    back = samplers.load_sampler(str(tmp_path), name, 7)
    key = jax.random.PRNGKey(4)
    np.testing.assert_array_equal(back.sample(key, 20), s.sample(key, 20))
    assert back.info == s.info
    assert samplers.load_sampler(str(tmp_path), name, 8) is None
  assert samplers.load_sampler(str(tmp_path / "none"), "gmm", 7) is None
  with pytest.raises(ValueError, match="unknown sampler"):
    samplers.fit_sampler("flow", codes)


@pytest.mark.slow       # a run loaded twice with a fit between: 5 s
def test_a_trained_run_fits_its_sampler_once_and_restores_it(trained_tiny, tmp_path,
                                                             monkeypatch):
  import shutil
  import jaxgen
  monkeypatch.setattr(samplers, "GMM_COMPONENTS", (1, 2))
  _, workdir, _, _ = trained_tiny("ae_mnist")
  wd = str(tmp_path / "ae")
  shutil.copytree(workdir, wd)
  t = jaxgen.load(wd)
  key = jax.random.PRNGKey(5)
  first = np.asarray(t.generate(16, key, sampler="gmm"))
  codes = np.concatenate([np.asarray(t.encode(np.asarray(t.train_x)[i:i + 500]))
                          for i in range(0, t.train_x.shape[0], 500)])
  want = samplers.fit_gmm(codes, seed=int(t.config.seed))
  np.testing.assert_allclose(t.sampler("gmm").arrays["means"], want.arrays["means"])
  np.testing.assert_allclose(first, np.asarray(t.decode(want.sample(key, 16))), rtol=1e-5,
                             atol=1e-6)
  monkeypatch.setattr(samplers, "fit_sampler",
                      lambda *a, **k: pytest.fail("refitted a saved sampler"))
  again = jaxgen.load(wd)                                   # a new process's view
  np.testing.assert_array_equal(np.asarray(again.generate(16, key, sampler="gmm")), first)
  np.testing.assert_array_equal(np.asarray(again.generate(16, key)),
                                np.asarray(t.generate(16, key)))     # 'prior' by default
  with pytest.raises(ValueError, match="unknown sampler"):
    again.sampler("prior")
