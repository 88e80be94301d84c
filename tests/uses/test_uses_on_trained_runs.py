"""Anomaly scores, sweeps, exploration and sampling on tiny trained runs: the wiring (the
right split, keys, classes and seeds), checked against direct computations."""
import json
import os
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest

import jaxgen
from jaxgen import modes
from jaxgen import train
from jaxgen.config import ConfigError
from jaxgen.evaluation import detection as metrics
from jaxgen.evaluation.classifier import ClassifierConfig, train_classifier
from jaxgen.train import steps
from jaxgen.uses import anomaly, explore


def _copy(workdir, tmp_path):
  dst = str(tmp_path / "run")
  shutil.copytree(workdir, dst)
  return dst


def test_ae_scores_and_auroc_of_a_filtered_run(trained_tiny):
  config, workdir, _, _ = trained_tiny("ae_mnist", **{"dataset.classes": (0, 1)})
  t = jaxgen.load(workdir)
  assert t.dataset.info["train_classes"] == [0, 1]
  out = anomaly.score_trained(t)
  recon = np.asarray(t.model.recon_loss(t.state.params, t.test_x))
  np.testing.assert_allclose(out["scores"]["recon"], recon, rtol=1e-5)  # the whole test split
  labels = t.test_labels
  assert out["auroc"]["recon"] == metrics.auroc(recon, ~np.isin(labels, [0, 1]))
  assert out["train_classes"] == [0, 1] and out["num_test_examples"] == 1000
  for c in range(10):
    assert out["mean_score_per_class"]["recon"][str(c)] == pytest.approx(
        float(recon[labels == c].mean()), rel=1e-5)


def test_vae_scores_use_the_keys_of_eval_json(trained_tiny):
  config, workdir, _, result = trained_tiny("vae_mnist")
  t = jaxgen.load(workdir)
  out = anomaly.score_trained(t, elbo_samples=4)
  assert set(out["scores"]) == {"neg_elbo", "nll", "nll_minus_png", "nll_minus_zlib"}
  assert "auroc" not in out                                                # trained on all
  # the complexity scores: the NLL minus the code length of the very images scored
  x = np.asarray(t.test_x)
  for codec in ("png", "zlib"):
    np.testing.assert_allclose(out["scores"][f"nll_minus_{codec}"],
                               out["scores"]["nll"] - metrics.code_length_nats(x, codec))
  assert float(np.mean(out["scores"]["nll"])) == pytest.approx(result["nll"], rel=1e-6)
  # the L-sample -ELBO averages the one-sample -ELBO of eval.json's kind: close, not equal
  assert float(np.mean(out["scores"]["neg_elbo"])) == pytest.approx(result["neg_elbo"], rel=0.02)
  assert np.all(out["scores"]["nll"] <= out["scores"]["neg_elbo"] + 5.0)


def test_a_gan_has_no_anomaly_score(trained_tiny):
  config, workdir, _, _ = trained_tiny("gan_ring")
  t = jaxgen.load(workdir)
  with pytest.raises(TypeError, match="no anomaly score"):
    anomaly.score_names(t.model)


def test_sweep_trains_scores_tabulates_and_reuses(load_config, tiny, tmp_path, monkeypatch):
  config = tiny(load_config("ae_mnist"), num_steps=10, log_every=10, eval_every=10,
                checkpoint_every=10)
  logs = []
  out = anomaly.sweep(config, str(tmp_path), "leave_one_out", seeds=(0,), digits=(1, 7),
                      log=logs.append)
  for name in ("anomaly.json", "anomaly.md", "auroc.png", "histograms.png"):
    assert os.path.getsize(tmp_path / name) > 0, name
  for d in (1, 7):
    with open(tmp_path / f"digit{d}" / "seed0" / "anomaly.json") as f:
      run = json.load(f)
    assert run["train_classes"] == [c for c in range(10) if c != d]
    assert out["summary"]["recon"][str(d)]["mean"] == run["auroc"]["recon"]
  assert [r["digit"] for r in out["runs"]] == [1, 7]
  assert "| recon |" in open(tmp_path / "anomaly.md").read()

  def no_training(*a, **k):
    raise AssertionError("trained again")
  monkeypatch.setattr(anomaly, "train", no_training)
  again = anomaly.sweep(config, str(tmp_path), "leave_one_out", seeds=(0,), digits=(1, 7),
                        log=logs.append)
  assert again["summary"] == out["summary"]


@pytest.mark.slow       # a protocol swept twice with a background: 15 s
def test_sweep_adds_the_likelihood_ratio_to_stored_runs(load_config, tiny, tmp_path,
                                                        monkeypatch):
  config = tiny(load_config("vae_anomaly"), num_steps=10, log_every=10, eval_every=10,
                checkpoint_every=10, **{"eval.nll_samples": 4})
  first = anomaly.sweep(config, str(tmp_path), "leave_one_out", seeds=(0,), digits=(1,),
                        log=lambda s: None, elbo_samples=2)
  assert "llr" not in first["summary"]
  run = tmp_path / "digit1" / "seed0"
  before = dict(np.load(run / "anomaly_scores.npz"))
  trained_dirs = []
  real_train = anomaly.train

  def only_backgrounds(cfg, wd, **k):
    trained_dirs.append(wd)
    return real_train(cfg, wd, **k)
  monkeypatch.setattr(anomaly, "train", only_backgrounds)
  config.eval.background_rate = 0.2
  out = anomaly.sweep(config, str(tmp_path), "leave_one_out", seeds=(0,), digits=(1,),
                      log=lambda s: None, elbo_samples=2)
  assert trained_dirs == [str(run / "background_0.2")]        # the run itself is reused
  after = dict(np.load(run / "anomaly_scores.npz"))
  for k in before:
    np.testing.assert_array_equal(after[k], before[k])        # the stored scores kept
  bg = jaxgen.load(str(run / "background_0.2"))
  t = jaxgen.load(str(run))
  np.testing.assert_allclose(after["llr"], after["nll"] - np.asarray(
      bg.nll(t.test_x, 4, jax.random.fold_in(t.key, 7))), rtol=1e-6)
  assert out["summary"]["llr"]["1"]["mean"] == pytest.approx(metrics.auroc(
      after["llr"], t.test_labels == 1))
  with open(run / "anomaly.json") as f:
    assert json.load(f)["background_rate"] == 0.2


def test_interpolation_endpoints_decode_the_endpoint_codes(trained_tiny):
  _, workdir, _, _ = trained_tiny("vae_mnist")
  t = jaxgen.load(workdir)
  z = np.asarray(t.encode(t.test_x[:2]))
  for path in (explore.lerp(z[0], z[1], 6), explore.slerp(z[0], z[1], 6)):
    x = np.asarray(t.decode(path))
    np.testing.assert_allclose(x[0], np.asarray(t.decode(z[:1]))[0], atol=1e-5)
    np.testing.assert_allclose(x[-1], np.asarray(t.decode(z[1:]))[0], atol=1e-5)


@pytest.mark.slow       # every picture and both domain changes: 17 s
def test_explore_writes_every_picture_and_the_domain_change(trained_tiny, tmp_path):
  config, workdir, _, _ = trained_tiny("vae_mnist", **{"model.latent_dim": 2})
  wd = _copy(workdir, tmp_path)
  t = jaxgen.load(wd)
  clf = train_classifier(t.dataset, ClassifierConfig(channels=(4,), hidden=8, epochs=1),
                         log=lambda s: None)
  result = explore.explore_workdir(wd, log=lambda s: None, classifier=clf)
  for name in ("interpolation_linear.png", "interpolation_slerp.png", "traversal.png",
               "manifold.png", "codes_identity.png", "edits.png", "domain_change.png",
               "domain_change.json", "domain_change.md", "edits_transport.png",
               "domain_change_transport.png", "domain_change_transport.json",
               "domain_change_transport.md"):
    assert os.path.getsize(os.path.join(wd, "explore", name)) > 0, name
  assert result["method"] == "vector" and result["transport"]["method"] == "transport"
  # strength 0 edits nothing whichever the method
  np.testing.assert_array_equal(result["transport"]["still_a"][0], result["still_a"][0])
  to_b = np.asarray(result["to_b"])
  assert to_b.shape == (len(result["strengths"]), 10, 10)
  assert np.all(np.isnan(np.diagonal(to_b, axis1=1, axis2=2)))
  assert 0.0 <= result["mean_to_b"][0] <= 1.0
  # strength 0 leaves every code alone: the share still classified as a is the share of
  # unedited decodes of class a classified as a, averaged the same way
  still = np.asarray(result["still_a"])[0]
  codes = np.asarray(t.encode(t.test_x))
  pred = clf.predict(np.asarray(t.decode(codes)))
  per_class = np.array([np.mean(pred[t.test_labels == a] == a) for a in range(10)])
  np.testing.assert_allclose(np.nanmean(still, axis=1), per_class, atol=1e-6)


def test_explore_refuses_a_gan(trained_tiny, tmp_path):
  _, workdir, _, _ = trained_tiny("gan_ring")
  with pytest.raises(ConfigError, match="needs a model with an encoder"):
    explore.explore_workdir(_copy(workdir, tmp_path), log=lambda s: None)


@pytest.mark.slow       # a 2-seed GAN trained for it, then --mode sample twice: 12 s
def test_sample_writes_every_seed_or_a_chosen_one(trained_tiny, tmp_path):
  config, workdir, state, _ = trained_tiny("gan_ring", num_seeds=2, num_samples=30)
  wd = _copy(workdir, tmp_path)
  every = modes.sample(config, wd, log=lambda s: None)
  assert every.shape == (2, 30, 2)
  assert os.path.exists(os.path.join(wd, "samples_seed0.png"))
  assert os.path.exists(os.path.join(wd, "samples_seed1.png"))
  np.testing.assert_array_equal(np.load(os.path.join(wd, "samples.npy")), every)
  run = train.build_run(config)
  for i in range(2):
    want = run.model.generate(steps.seed_slice(state, i),
                              jax.random.fold_in(run.keys[i]["eval"], 4), 30)
    np.testing.assert_allclose(every[i], want, rtol=1e-5, atol=1e-6)
  assert not np.allclose(every[0], every[1])               # two different seeds
  one = modes.sample(config, wd, log=lambda s: None, seed_index=1)
  np.testing.assert_array_equal(one, every[1])
  with pytest.raises(ConfigError, match="out of range"):
    modes.sample(config, wd, log=lambda s: None, seed_index=2)
  with pytest.raises(ConfigError, match="draws codes for an AE or a VAE"):
    modes.sample(config, wd, log=lambda s: None, sampler="gmm")


def test_sample_with_a_fitted_sampler_decodes_its_codes(trained_tiny, tmp_path):
  config, workdir, _, _ = trained_tiny("ae_mnist")
  wd = _copy(workdir, tmp_path)
  out = modes.sample(config, wd, log=lambda s: None, sampler="gaussian")
  t = jaxgen.load(wd)
  key = jax.random.fold_in(t.key, 4)
  np.testing.assert_allclose(out, np.asarray(t.decode(t.sampler("gaussian").sample(
      key, config.num_samples))), rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(np.load(os.path.join(wd, "samples_gaussian.npy")), out)
  assert os.path.exists(os.path.join(wd, "samples_gaussian.png"))
  assert not os.path.exists(os.path.join(wd, "samples.npy"))      # the prior's untouched


@pytest.mark.slow  # reason: 10 s, a train.py process
def test_train_py_anomaly_mode_on_a_workdir(trained_tiny, tmp_path, repo_root):
  config, workdir, _, _ = trained_tiny("ae_mnist", **{"dataset.classes": (0, 1)})
  wd = _copy(workdir, tmp_path)
  cmd = [sys.executable, os.path.join(repo_root, "train.py"), "--config",
         os.path.join(repo_root, "configs", "ae_mnist.py"), "--workdir", wd, "--mode", "anomaly",
         "--config.model.hidden=(32,)", "--config.model.latent_dim=4",
         "--config.batch_size=50", "--config.dataset.classes=(0,1)"]
  p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
  assert p.returncode == 0, p.stderr[-2000:]
  with open(os.path.join(wd, "anomaly.json")) as f:
    out = json.load(f)
  assert out["train_classes"] == [0, 1] and 0.0 <= out["auroc"]["recon"] <= 1.0
  assert "AUROC" in p.stdout
  gan = [sys.executable, os.path.join(repo_root, "train.py"), "--config",
         os.path.join(repo_root, "configs", "gan_ring.py"), "--workdir", wd, "--mode", "explore"]
  p = subprocess.run(gan, capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
  assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr[-2000:]


@pytest.mark.slow       # a background model trained and scored: 20 s
def test_likelihood_ratio_divides_out_a_background_model_of_perturbed_inputs(trained_tiny,
                                                                             tmp_path):
  config, workdir, _, _ = trained_tiny("vae_mnist")
  wd = _copy(workdir, tmp_path)
  c = config.copy_and_resolve_references()
  c.eval.background_rate = 0.2
  bg_config = anomaly.background_config(c)
  assert bg_config.dataset.perturb_rate == 0.2 and bg_config.eval.background_rate == 0
  assert bg_config.model.to_dict() == c.model.to_dict() and bg_config.seed == c.seed
  t = jaxgen.load(wd, c)
  bg = anomaly.train_background(c, wd, log=lambda s: None)
  assert bg.workdir == os.path.join(wd, "background_0.2") and bg.step == c.num_steps
  # the background was trained on perturbed inputs: not the run's own parameters
  assert not np.allclose(jax.tree.leaves(bg.state.params)[0], jax.tree.leaves(t.state.params)[0])
  out = anomaly.score_trained(t, elbo_samples=2, background=bg)
  assert out["background_rate"] == 0.2
  want = out["scores"]["nll"] - np.asarray(bg.nll(t.test_x, int(c.eval.nll_samples),
                                                   jax.random.fold_in(t.key, 7)))
  np.testing.assert_allclose(out["scores"]["llr"], want, rtol=1e-6)
  r = anomaly.background_criterion(t, bg)
  assert -1.0 <= r <= 1.0
  # the criterion is the rank correlation of the background NLL with the code length
  from scipy.stats import spearmanr
  x = np.asarray(t.train_x)
  assert r == pytest.approx(spearmanr(np.asarray(bg.nll(x, int(c.eval.nll_samples))),
                                      metrics.code_length_nats(x, "png")).statistic)


@pytest.mark.slow       # two class-filtered runs, a classifier and two explorations: 40 s
def test_explore_of_a_class_filtered_run_edits_between_its_own_classes(trained_tiny, tmp_path):
  config, workdir, _, _ = trained_tiny("ae_mnist", **{"dataset.classes": (3, 5, 7)})
  wd = _copy(workdir, tmp_path)
  t = jaxgen.load(wd)
  clf = train_classifier(t.dataset, ClassifierConfig(channels=(4,), hidden=8, epochs=1),
                         log=lambda s: None)
  result = explore.explore_workdir(wd, log=lambda s: None, classifier=clf)
  assert result["classes"] == [3, 5, 7] and result["transport"]["classes"] == [3, 5, 7]
  assert np.asarray(result["to_b"]).shape == (len(result["strengths"]), 3, 3)
  one = trained_tiny("ae_mnist", **{"dataset.classes": (3,)})[1]
  out = explore.explore_workdir(_copy(one, tmp_path / "one"), log=lambda s: None,
                                classifier=clf)
  assert out["classes"] == [3] and "skipped" in out["domain_change"]
