"""The studio's answers are the library's: decodes, interpolations, scores, the GAN lab's
training (bit-identical to train.py) and picture, the runs table; bad requests get a 4xx
and the server goes on; a missing, unfinished or damaged workdir gets a message."""
import copy
import json
import os
import shutil

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import studio
from jaxgen.studio import runs as runs_lib
from jaxgen.studio.gan_lab import GanLab
from jaxgen.studio.views import png_data_url
from jaxgen.train.loop import train
from jaxgen.uses import anomaly, explore
from jaxgen.uses.loading import load




@pytest.fixture(scope="module")
def vae(trained_tiny):
  _, workdir, _, _ = trained_tiny("vae_mnist")
  return studio.Studio(workdir, log=lambda s: None, warm=False), load(workdir)


def test_decode_is_the_library_decode(vae, png_pixels, as_uint8):
  s, t = vae
  p = s.page
  coords = np.linspace(-1.5, 2.0, p.axes.shape[0])
  status, body = studio.call(s, "latent/decode", {"coords": coords.tolist(), "base": 3})
  assert status == 200
  z = p.codes[3] + (coords * p.scales) @ p.axes          # the code the sliders name
  np.testing.assert_allclose(body["z"], z, rtol=1e-5, atol=1e-5)
  want = as_uint8(t.decode(z[None].astype(np.float32))[0])
  np.testing.assert_array_equal(png_pixels(body["image"]), want)
  other = studio.call(s, "latent/decode", {"coords": (coords * 0).tolist(), "base": 3})[1]
  assert not np.array_equal(png_pixels(other["image"]), want)    # the sliders are not ignored
  # the codes are the library's: test example 3's posterior mean
  np.testing.assert_allclose(p.codes[3], t.encode(t.test_x[3:4])[0], rtol=1e-6, atol=1e-6)


def test_paths_and_edits_are_the_library_s(vae, png_pixels, as_uint8):
  s, t = vae
  p = s.page
  za, zb = p.codes[5], p.codes[700]
  for method, at in (("linear", explore.lerp_at), ("spherical", explore.slerp_at)):
    body = studio.call(s, "latent/interpolate", {"a": 5, "b": 700, "t": 0.3, "method": method})[1]
    want = t.decode(at(za, zb, [0.3]).astype(np.float32))[0]
    np.testing.assert_array_equal(png_pixels(body["image"]), as_uint8(want))
  lin = studio.call(s, "latent/interpolate", {"a": 5, "b": 700, "t": 0.3})[1]["image"]
  sph = studio.call(s, "latent/interpolate", {"a": 5, "b": 700, "t": 0.3,
                                              "method": "spherical"})[1]["image"]
  assert lin != sph
  body = studio.call(s, "latent/attribute", {"index": 5, "from": 0, "to": 7, "strength": 0.8})[1]
  v = explore.attribute_vector(p.train_codes, p.train_labels, 0, 7)
  want = t.decode((za + 0.8 * v)[None].astype(np.float32))[0]
  np.testing.assert_array_equal(png_pixels(body["image"]), as_uint8(want))
  # the code map: a point's decode is the decode of mean + position on the two PCs
  m = studio.call(s, "latent/map")[1]
  assert m["method"] == "pca" and len(m["points"]) == min(1000, len(p.codes))
  _, _, vt = np.linalg.svd(p.train_codes - p.mean, full_matrices=False)
  row = m["rows"][10]
  np.testing.assert_allclose(m["points"][10], (p.codes[row] - p.mean) @ vt[:2].T, atol=1e-3)
  body = studio.call(s, "latent/map_decode", {"x": 0.5, "y": -0.25})[1]
  want = t.decode((p.mean + np.array([0.5, -0.25]) @ vt[:2])[None].astype(np.float32))[0]
  np.testing.assert_array_equal(png_pixels(body["image"]), as_uint8(want))


@pytest.mark.slow  # reason: 5 s, the test split's NLL with K = 1000
def test_a_drawn_digit_is_scored_as_the_library_scores(vae, png_pixels, as_uint8):
  s, t = vae
  p = s.page
  raw = np.asarray(t.dataset.test[42], np.float64) / 255.0      # a test digit, "drawn"
  status, body = studio.call(s, "latent/score", {"pixels": raw.ravel().tolist()})
  assert status == 200
  x = np.asarray(t.test_x[42:43])                               # thresholded as the split
  np.testing.assert_array_equal(png_pixels(body["input"]), as_uint8(x[0]))
  want = anomaly.anomaly_scores(t.model, t.state, x, t.key, int(t.config.eval.nll_samples),
                                batch_size=1)
  assert set(body["scores"]) == set(want)
  for k, v in want.items():
    assert body["scores"][k] == pytest.approx(float(v[0]), rel=1e-5)
    assert body["percentile"][k] == pytest.approx(float(np.mean(p.reference()[k] < v[0])))
  assert body["label"] == int(p.classifier().predict(x)[0])
  # the reference is the test split scored with the run's keys: its NLL mean is eval.json's
  with open(os.path.join(t.workdir, "eval.json")) as f:
    assert float(np.mean(p.reference()["nll"])) == pytest.approx(json.load(f)["nll"], rel=1e-5)


@pytest.mark.parametrize("name,params,status", [
    ("latent/decode", {"coords": [0.0]}, 400),                    # wrong length
    ("latent/decode", {"coords": ["a", 1, 2, 3]}, 400),
    ("latent/decode", {"coords": [0, 0, 0, 0], "base": 10**6}, 400),
    ("latent/interpolate", {"a": 0, "b": 1, "t": 2.0}, 400),
    ("latent/interpolate", {"a": 0, "b": 1, "method": "cubic"}, 400),
    ("latent/attribute", {"index": 0, "from": 0, "to": 42}, 400),
    ("latent/score", {"pixels": [0.5] * 10}, 400),
    ("latent/score", {}, 400),
    ("latent/map", {"method": "umap"}, 400),
    ("gan/step", {}, 409),                                         # another page's request
    ("nothing/here", {}, 404),
])
@pytest.mark.filterwarnings("ignore::Warning")   # starlette's TestClient on httpx
def test_bad_requests_get_a_4xx_and_the_server_goes_on(vae, name, params, status):
  from starlette.testclient import TestClient
  s, _ = vae
  client = TestClient(studio.make_app(s))
  r = client.post(f"/api/{name}", json=params)
  assert r.status_code == status and r.json()["error"]
  assert client.post("/api/latent/decode", content=b"{not json").status_code == 400
  assert client.post("/api/latent/decode", json=[1, 2]).status_code == 400
  assert client.get("/api/info").json()["kind"] == "latent"        # still serving
  assert client.get("/").status_code == 200 and b"studio.js" in client.get("/").content
  assert client.get("/static/studio.js").status_code == 200


def test_missing_unfinished_and_damaged_workdirs_get_a_message(vae, tmp_path):
  s, t = vae
  quiet = dict(log=lambda m: None, warm=False)
  assert "does not exist" in studio.Studio(str(tmp_path / "nope"), **quiet).error
  (tmp_path / "empty").mkdir()
  assert "no trained run" in studio.Studio(str(tmp_path / "empty"), **quiet).error
  run = tmp_path / "run"
  run.mkdir()
  shutil.copy(os.path.join(t.workdir, "config.json"), run / "config.json")
  started = studio.Studio(str(run), **quiet)
  assert "not saved a checkpoint yet" in started.error
  assert studio.call(started, "info")[1]["kind"] == "error"
  assert studio.call(started, "latent/decode", {"coords": [0] * 4})[0] == 400
  shutil.copytree(os.path.join(t.workdir, "checkpoints"), run / "checkpoints")
  studio.call(started, "reload")                                   # the first checkpoint came
  assert started.error is None and started.page.kind == "latent"
  (run / "config.json").write_text("{ damaged")
  started.reload()
  assert "does not parse" in started.error


def test_runs_table(vae, tmp_path):
  _, t = vae
  shutil.copytree(t.workdir, tmp_path / "a" / "vae")
  shutil.copytree(t.workdir, tmp_path / "ring")
  cfg = json.loads((tmp_path / "ring" / "config.json").read_text())
  cfg["model"]["name"] = "gan"
  (tmp_path / "ring" / "config.json").write_text(json.dumps(cfg))
  (tmp_path / "ring" / "eval.json").write_text(json.dumps({"step": cfg["num_steps"], "modes": 3}))
  (tmp_path / "b").mkdir()
  shutil.copy(os.path.join(t.workdir, "config.json"), tmp_path / "b" / "config.json")
  shutil.copytree(t.workdir, tmp_path / "c")
  (tmp_path / "c" / "eval.json").write_text("[")
  shutil.copytree(t.workdir, tmp_path / "d")
  (tmp_path / "d" / "eval.json").write_text(json.dumps({"step": 5, "nll": 1.0}))
  s = studio.Studio(str(tmp_path), log=lambda m: None)
  assert s.page.kind == "runs"
  table = studio.call(s, "runs")[1]
  rows = {r["name"]: r for r in table["rows"]}
  assert sorted(rows) == [os.path.join("a", "vae"), "b", "c", "d", "ring"]
  assert rows["d"]["status"] == "training" and "step 5" in rows["d"]["message"]
  assert rows[os.path.join("a", "vae")]["status"] == "finished"
  with open(os.path.join(t.workdir, "eval.json")) as f:
    assert rows[os.path.join("a", "vae")]["metrics"]["nll"] == json.load(f)["nll"]
  assert rows["b"]["status"] == "no checkpoint yet"
  assert rows["c"]["status"] == "damaged" and "eval.json" in rows["c"]["message"]
  assert rows["ring"]["model"] == "gan" and rows["ring"]["metrics"] == {"modes": 3}
  assert "nll" in table["columns"] and "modes" in table["columns"]
  path = s.page.picture("ring")
  assert path == runs_lib.latest_picture(str(tmp_path / "ring")) and path.endswith(".png")
  with pytest.raises(ValueError):
    s.page.picture("../../etc")


@pytest.mark.slow  # reason: 10 s, a t-SNE of 1,000 codes
def test_the_tsne_code_map(vae, png_pixels, as_uint8):
  s, t = vae
  p = s.page
  m = studio.call(s, "latent/map", {"method": "tsne"})[1]
  xy = explore.project_2d(p.codes[p.map_rows], "tsne", seed=int(t.config.seed))
  np.testing.assert_allclose(m["points"], xy, atol=1e-3)
  near = 17
  body = studio.call(s, "latent/map_decode", {"x": xy[near, 0] + 1e-3, "y": xy[near, 1],
                                              "method": "tsne"})[1]
  want = t.decode(p.codes[p.map_rows[near]][None])[0]          # t-SNE: the nearest code
  np.testing.assert_array_equal(png_pixels(body["image"]), as_uint8(want))


@pytest.mark.slow  # reason: 15 s, trains a tiny pix2pix
def test_translation_page_and_upload(trained_tiny, png_pixels, as_uint8):
  from jaxgen.evaluation import image_quality as iq
  _, workdir, _, _ = trained_tiny("pix2pix_sr_digits")
  s = studio.Studio(workdir, log=lambda m: None, warm=False)
  t = load(workdir)
  d = t.dataset
  body = studio.call(s, "translation/example", {"index": 4})[1]
  out = np.asarray(t.translate(t.test_x["cond"][4:5]))
  truth = d.test[4:5] / 255.0
  bicubic = iq.upsample(d.test_inputs[4:5] / 255.0, truth.shape[1:3], "bicubic")
  np.testing.assert_array_equal(png_pixels(body["output"]), as_uint8(out[0]))
  np.testing.assert_array_equal(png_pixels(body["truth"]), as_uint8(truth[0]))
  np.testing.assert_array_equal(png_pixels(body["baseline"]), as_uint8(bicubic[0]))
  assert body["output_psnr"] == pytest.approx(float(iq.psnr(truth, out)[0]), rel=1e-6)
  assert body["baseline_ssim"] == pytest.approx(float(iq.ssim(truth, bicubic)[0]), rel=1e-6)
  # an upload of test input 4 (a PNG) gives that input's output
  up = studio.call(s, "translation/upload", {"image": png_data_url(d.test_inputs[4] / 255.0)})
  assert up[0] == 200
  np.testing.assert_array_equal(png_pixels(up[1]["output"]), as_uint8(out[0]))
  assert "truth" not in up[1]
  assert studio.call(s, "translation/upload", {"image": "data:image/png;base64,AAAA"})[0] == 400
  assert studio.call(s, "translation/example", {"index": len(d.test)})[0] == 400


def _quiet(config):
  c = copy.deepcopy(config)
  c.progress = False
  return c


@pytest.mark.slow  # reason: 10 s, 1,800 steps twice
def test_the_gan_lab_trains_as_train_py(ring_config, tmp_path):
  """N steps in the lab (chunks of 200, across an epoch boundary) give train.py's parameters for N steps, bit for bit;
  its picture is the model's (D on the grid, the generator's gradient) and its mode metrics
  are eval.json's."""
  c = _quiet(ring_config)
  c.num_steps = 1_800                   # past the first epoch (1,562 steps of 64 points)
  c.log_every = c.eval_every = c.checkpoint_every = 900
  state, result = train(c, str(tmp_path / "cli"), log=lambda s: None)
  lab = GanLab(c, steps_per_update=200, log=lambda s: None)
  lab.step(1_800)
  chex.assert_trees_all_equal(lab.state, state)
  v = lab.view()
  for k in ("modes", "high_quality", "reverse_kl"):
    assert v["metrics"][k] == result[k]
  model = lab.model
  heat = jax.nn.sigmoid(model.judge_each(lab.state, jnp.asarray(lab.grid)))
  np.testing.assert_allclose(v["heatmap"].ravel(), heat, rtol=1e-5, atol=1e-6)
  fake = jnp.asarray(v["fake"])
  g = jax.grad(lambda x: model.generator_loss(model.judge_each(lab.state, x)))(fake)
  np.testing.assert_allclose(v["arrows"], -g * fake.shape[0], rtol=1e-4, atol=1e-6)
  assert v["step"] == 1_800 and set(v["losses"]) == {"d_loss", "g_loss"}


@pytest.mark.slow  # reason: 5 s, two trainings
def test_the_gan_lab_continues_a_workdir_exactly(ring_config, tmp_path):
  c = _quiet(ring_config)
  c.lr_schedule = "constant"          # num_steps may then change on resume
  c.num_steps = 10
  train(c, str(tmp_path / "w"), log=lambda s: None)
  s = studio.Studio(str(tmp_path / "w"), steps_per_update=10, log=lambda m: None, warm=False)
  assert s.page.kind == "gan2d" and s.page.step_count == 10
  studio.call(s, "gan/step", {"steps": 10})
  c20 = copy.deepcopy(c)
  c20.num_steps = 20
  state, _ = train(c20, str(tmp_path / "w20"), log=lambda s: None)
  chex.assert_trees_all_equal(s.page.state, state)


@pytest.mark.slow  # reason: 6 s, four GAN labs compiled
def test_the_gan_lab_switches_loss_and_minibatch(ring_config, differ):
  c = _quiet(ring_config)
  a = GanLab(c, steps_per_update=10, log=lambda s: None)
  b = GanLab(c, steps_per_update=10, log=lambda s: None)
  a.step(10), b.step(10)
  b.configure(generator_loss="saturating")
  assert b.step_count == 10 and b.config.gan.generator_loss == "saturating"
  a.step(10), b.step(10)
  assert differ(a.state.generator.params, b.state.generator.params)
  b.configure(minibatch="discrimination")
  assert b.step_count == 0 and b.config.gan.minibatch == "discrimination"
  assert jax.tree.structure(b.state.discriminator.params) != jax.tree.structure(
      a.state.discriminator.params)
  assert studio.call(studio.Studio(config=c, steps_per_update=10, log=lambda m: None, warm=False),
                     "gan/configure", {"generator_loss": "wasserstein"})[0] == 400


@pytest.mark.slow  # reason: 3 s, trains a GAN on digits
def test_gan_image_page_is_the_library_s(trained_tiny, png_pixels, as_uint8):
  _, workdir, _, _ = trained_tiny("gan_mnist")
  s = studio.Studio(workdir, log=lambda m: None, warm=False)
  t = load(workdir)
  assert s.page.kind == "gan_images"
  body = studio.call(s, "gan_images/samples", {"seed": 3})[1]
  z = t.model.sample_noise(jax.random.PRNGKey(3), s.page.grid)
  from jaxgen.plotting import image_grid
  np.testing.assert_array_equal(png_pixels(body["image"]),
                                as_uint8(image_grid(np.asarray(t.generate_from(z)))))
  walk0 = studio.call(s, "gan_images/walk", {"a": 3, "b": 4, "t": 0.0})[1]
  np.testing.assert_array_equal(png_pixels(walk0["image"]), as_uint8(t.generate_from(z[:1])[0]))
  walk1 = studio.call(s, "gan_images/walk", {"a": 3, "b": 4, "t": 1.0})[1]
  assert walk1["image"] != walk0["image"]
  # generate_from is generate's own computation
  key = jax.random.PRNGKey(9)
  np.testing.assert_array_equal(t.generate(5, key), t.generate_from(t.model.sample_noise(key, 5)))


def test_png_data_url_round_trip(png_pixels, as_uint8):
  x = np.random.default_rng(0).random((7, 5, 3))
  np.testing.assert_array_equal(png_pixels(png_data_url(x)), as_uint8(x))
  g = np.random.default_rng(1).random((4, 6, 1))
  np.testing.assert_array_equal(png_pixels(png_data_url(g)), as_uint8(g))
