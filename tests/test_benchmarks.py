"""The benchmark suite times what it says: its per-step jit loop is jaxgen's step, and the
PyTorch twins have jaxgen's layer sizes (tested only where torch is installed)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import dcgan_layers, gan_throughput, step_profile, suite
from jaxgen.nets import adversarial


def test_jit_loop_runs_the_same_steps_as_the_trainers_chunk():
  """The suite's second reference (one jitted step per call, epoch permutations on the
  host) trains exactly as the compiled chunk does: same batches, keys and updates."""
  run = suite._jaxgen_run("gan_ring_1seed", batch_size=16)
  inputs = run.chunk_inputs()
  chunk_state, _ = run.compile_chunk(3)(run.init_state(), *inputs, jnp.int32(0))
  loop_state = suite._jit_loop(run, 3)(run.init_state(), 0)
  for a, b in zip(jax.tree.leaves(chunk_state), jax.tree.leaves(loop_state)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
  assert int(loop_state.step) == 3


@pytest.mark.parametrize("size,channels", [(28, 1), (64, 3)])
def test_the_layer_benchmark_times_every_convolution_of_the_dcgan(size, channels):
  """benchmarks.dcgan_layers lists the kernels of jaxgen's DCGAN at each size, no more and
  no fewer (its 28 x 28 list once missed the discriminator's third block), with the
  layer shapes that produce them."""
  convs = dcgan_layers.dcgan_convs(size, channels, 8, 100)
  g = adversarial.DCGANGenerator(features=8, out_shape=(size, size, channels))
  d = adversarial.DCGANDiscriminator(features=8)
  g_params = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), jnp.zeros((2, 100)), train=False))
  d_params = jax.eval_shape(lambda: d.init(jax.random.PRNGKey(0), jnp.zeros((2, size, size, channels)),
                                           train=False))
  kernels = lambda p, kind: [v["kernel"].shape for n, v in p["params"].items() if n.startswith(kind)]
  assert [c["k"] for c in convs if c["kind"] == "transpose"] == kernels(g_params, "ConvTranspose")
  assert [c["k"] for c in convs if c["kind"] == "conv"] == kernels(d_params, "Conv_")
  for c in convs:                             # each layer's input is the previous one's output
    x = jnp.zeros((1,) + c["x"])
    op = dcgan_layers._op(c)
    assert jax.eval_shape(op, x, jnp.zeros(c["k"])).shape[-1] == c["k"][-1]
  d_in = [c["x"][0] for c in convs if c["kind"] == "conv"]
  assert d_in[-1] > 4 and all(a == 2 * b or a == 2 * b + 1 for a, b in zip(d_in, d_in[1:]))


def test_step_profile_sums_operation_events_by_kind():
  """Operations are summed by name without their numeric suffix; runtime and Python spans
  and events that are not complete ('X') are left out; the largest kind comes first."""
  events = [{"ph": "X", "name": "wrapped_reduce-window.9", "dur": 100.0},
            {"ph": "X", "name": "wrapped_reduce-window.23", "dur": 50.0},
            {"ph": "X", "name": "transpose_copy_fusion", "dur": 120.0},
            {"ph": "X", "name": "ThunkExecutor::Execute", "dur": 900.0},
            {"ph": "X", "name": "$api.py:2479 block_until_ready", "dur": 900.0},
            {"ph": "i", "name": "copy.3", "dur": 70.0}]
  kinds = step_profile.op_kinds(events)
  assert list(kinds) == ["wrapped_reduce-window", "transpose_copy_fusion"]
  assert kinds["wrapped_reduce-window"] == {"us": 150.0, "count": 2}


def test_a_spec_names_a_config_or_a_suite_workload_on_random_images():
  """gan_throughput's SPEC: a config (built by build_run later), or a 64 x 64 suite
  workload, whose Run trains on random 64 x 64 x 3 images."""
  config, run = gan_throughput.spec_run("gan_ring,num_seeds=2")
  assert run is None and config.num_seeds == 2
  config, run = gan_throughput.spec_run("dcgan64_b64")
  assert run.train_x.shape[1:] == (64, 64, 3) and config.batch_size == 64
  with pytest.raises(ValueError, match="takes no overrides"):
    gan_throughput.spec_run("dcgan64_b64,batch_size=8")


def test_a_workload_on_random_images_builds_a_chunk():
  """The 64 x 64 workloads train on random images through a hand-built Run: it must carry
  the config's mesh as build_run's does (a Run without one failed at the chunk's
  shardings, and the suite lost its 64 x 64 rows)."""
  run = suite._jaxgen_run("dcgan64_b64", batch_size=2)
  assert run.mesh is not None
  state = jax.eval_shape(run.init_state)
  run.compile_chunk(1).lower(state, *run.chunk_inputs(), jnp.int32(0))


def _jax_param_count(run) -> int:
  shapes = jax.eval_shape(run.model.init, jax.random.PRNGKey(0))
  params = [shapes.generator.params, shapes.discriminator.params] if hasattr(shapes, "generator") \
      else [shapes.params]
  return sum(math.prod(x.shape) for p in params for x in jax.tree.leaves(p))


@pytest.mark.parametrize("workload", ["vae_mnist", "dcgan_mnist", "dcgan64_b64", "gan_ring_1seed"])
def test_torch_twins_have_jaxgens_parameter_count(workload):
  """A twin with another width, depth or bias layout than jaxgen's model would time other
  arithmetic; equal parameter counts (every weight, bias and BatchNorm scale) catch that."""
  torch = pytest.importorskip("torch")
  from benchmarks import torch_twins
  run = suite._jaxgen_run(workload, batch_size=None)
  c, shape = run.config, suite.WORKLOADS[workload].get("shape", (28, 28, 1))
  if workload == "vae_mnist":
    nets = [torch_twins.VAE(784, c.model.hidden[0], c.model.latent_dim)]
  elif workload.startswith("dcgan"):
    nets = [torch_twins.DCGANGenerator(c.model.latent_dim, c.gan.features, shape[0], shape[2]),
            torch_twins.DCGANDiscriminator(c.gan.features, shape[0], shape[2])]
  else:
    nets = [torch_twins.mlp(c.model.latent_dim, c.model.hidden, 2, torch.nn.ReLU),
            torch_twins.mlp(2, c.gan.d_hidden, 1, torch.nn.ReLU)]
  assert sum(p.numel() for n in nets for p in n.parameters()) == _jax_param_count(run)


def test_sample_tables_average_the_seeds_and_list_every_source(tmp_path):
  """benchmarks.sample_tables: one Stacked MNIST row per workdir with the mean ± (population)
  std of its seeds, and the judged sources of every workdir, the real-data rows once."""
  import json
  from benchmarks import sample_tables
  wd = tmp_path / "dcgan_stacked_x"
  wd.mkdir()
  seeds = [{"modes": 900, "reverse_kl": 0.5, "confident": 10.0},
           {"modes": 950, "reverse_kl": 0.3, "confident": 30.0}]
  (wd / "eval.json").write_text(json.dumps({"step": 2000, "per_seed": seeds}))
  (wd / "config.json").write_text(json.dumps({"gan": {"minibatch": "stddev", "d_features": 8,
                                                      "features": 16},
                                              "eval": {"num_mode_samples": 26000}}))
  row = sample_tables.stacked_row(str(wd))
  assert row["modes_mean"] == 925 and row["modes_std"] == 25
  assert row["kl_mean"] == pytest.approx(0.4) and row["confident_mean"] == 20
  assert row["d_features"] == 8 and row["num_seeds"] == 2
  assert "925.0 ± 25.0" in sample_tables.stacked_markdown([row])
  judged = []
  for name, model_row in (("a", "AE decodes of N(0, I) codes"), ("b", "GAN samples")):
    d = tmp_path / name
    d.mkdir()
    rows = [{"source": s, "num_images": 10, "fd": 1.0, "classifier_score": 2.0, "label_kl": 0.1,
             "precision": 0.5, "recall": 0.5, "density": 1.0, "coverage": 0.5}
            for s in ("test split", "training split", model_row)]
    (d / "judge.json").write_text(json.dumps({"step": 7, "rows": rows}))
    judged.append(str(d))
  text = sample_tables.judge_markdown(judged)
  assert text.count("test split") == 1 and text.count("training split") == 1
  assert "| `a` (step 7) | AE decodes of N(0, I) codes |" in text and "GAN samples" in text


def test_translation_tables_read_each_run_and_its_baselines(tmp_path):
  """The README's pix2pix table: the baselines and the targets from the runs' eval.json,
  each model's own figures in its row; the CVAE table from style_transfer.json."""
  import json
  from benchmarks import translation_tables as tt
  base = {"bicubic_psnr": 14.5, "bicubic_ssim": 0.51, "nearest_psnr": 13.9, "nearest_ssim": 0.53,
          "truth_accuracy": 0.975, "bicubic_accuracy": 0.84, "nearest_accuracy": 0.85,
          "num_test_examples": 1000, "step": 30}
  dirs = []
  for name, psnr, acc in (("l1", 20.26, 0.936), ("gan", 19.89, 0.939)):
    d = tmp_path / name
    d.mkdir()
    (d / "eval.json").write_text(json.dumps({**base, "psnr": psnr, "ssim": 0.8, "accuracy": acc}))
    dirs.append(str(d))
  table = tt.pair_table("sr", *dirs)
  rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if "|" in line}
  assert "20.26" in rows["pix2pix, L1 only"] and "93.6%" in rows["pix2pix, L1 only"]
  assert "19.89" in rows["pix2pix, L1 + GAN"] and "93.9%" in rows["pix2pix, L1 + GAN"]
  assert "14.50" in rows["bicubic upsampling"] and "97.5%" in rows["truth (held-out targets)"]
  assert "colourfulness" not in table            # columns only for what the runs measured
  c = tmp_path / "cvae"
  (c / "explore").mkdir(parents=True)
  (c / "explore" / "style_transfer.json").write_text(json.dumps(
      {"model": "cvae z4", "transfer_accuracy": 0.9512, "slant_correlation": 0.81,
       "slant_correlation_shuffled": 0.002}))
  (c / "eval.json").write_text(json.dumps({"nll": 82.4}))
  assert "| cvae z4 | 95.1% | 0.810 | 0.002 | 82.40 |" in tt.cvae_table([str(c)])


def test_a_spec_override_may_hold_commas():
  from benchmarks.cli import load_config
  c = load_config("dcgan_mnist,gan.pack=2,gan.augment=color,cutout,gan.g_ema=0.999")
  assert (c.gan.pack, c.gan.augment, c.gan.g_ema) == (2, "color,cutout", 0.999)


def test_ablation_reads_variants_and_tables_a_finished_run(tmp_path):
  import json
  from benchmarks import ablation
  variants = tmp_path / "v.txt"
  variants.write_text("# comment\nplain\nema --config.gan.g_ema=0.999  # EMA\n")
  assert ablation.read_variants(str(variants)) == [("plain", []), ("ema", ["--config.gan.g_ema=0.999"])]
  run = tmp_path / "ema"
  run.mkdir()
  (run / "config.json").write_text(json.dumps({"num_steps": 20}))
  (run / "eval.json").write_text(json.dumps({"step": 20, "fd": 12.5, "per_seed": [{}]}))
  (run / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in (
      {"step": 10, "train/steps_per_sec": 5.0}, {"step": 20, "train/steps_per_sec": 2.0})))
  assert ablation.finished(str(run))
  row = ablation.row("ema", ["--config.gan.g_ema=0.999"], str(run))
  assert row["metrics"] == {"step": 20, "fd": 12.5} and row["train_seconds"] == 7.0


def test_saturation_windows_average_steps_and_seeds():
  from benchmarks import saturation
  traces = {loss: {"d_fake": [[0.5] * 12, [0.3] * 12],
                   "g_grad_norm": [[scale] * 10 + [2 * scale] * 2, [scale] * 12]}
            for loss, scale in (("saturating", 1.0), ("non_saturating", 4.0))}
  rows = saturation.windows(traces, 12)
  assert [r["steps"] for r in rows] == ["1-10", "11-12"]
  assert rows[0]["saturating"]["d_fake"] == 0.4 and rows[0]["grad_ratio"] == 0.25
  assert rows[1]["saturating"]["g_grad_norm"] == 1.5        # (2 + 1) / 2 over the seeds


def test_ablation_table_mean_row_over_separate_seed_runs(tmp_path, monkeypatch):
  """``<!-- table: ablation FILE mean -->``: a last row with mean ± std over the rows."""
  import json
  from tools import results_record
  rows = [{"name": f"s{i}", "flags": [f"--config.seed={i}"], "workdir": "",
           "metrics": {"fd": fd, "classifier_score": cs}, "train_seconds": 60.0 * (i + 1)}
          for i, (fd, cs) in enumerate(((10.0, 8.0), (14.0, 8.5), (12.0, 9.0)))]
  (tmp_path / "a.json").write_text(json.dumps(
      {"machine": "m", "date": "d", "config": "c.py", "variants": "v.txt", "rows": rows}))
  monkeypatch.setattr(results_record, "ROOT", tmp_path)
  table = results_record.ablation(results_record.Sources(), "a.json mean")
  last = table.strip().splitlines()[-1]
  assert "mean ± std over 3 runs" in last and "12.0 ± 1.6" in last and "8.50 ± 0.41" in last
  assert "2.0 min" in last
  assert "mean ± std" not in results_record.ablation(results_record.Sources(), "a.json")


def test_paired_rounds_compare_each_jaxgen_window_with_the_twins_window_beside_it():
  """--paired: a round's ratio is the twin's window time over jaxgen's (jaxgen's rate over
  PyTorch's), round by round, not a ratio of two medians; the table gives the median and
  the range of the rounds."""
  out = suite.summarize({"times": [1.0, 1.0, 4.0], "torch_times": [2.0, 3.0, 2.0],
                         "batch": 8, "seeds": 1, "seed_devices": 1}, steps=2)
  assert out["ratios"] == [2.0, 3.0, 0.5] and out["ratio_median"] == 2.0
  assert out["examples_per_s"] == 16.0 and out["torch_examples_per_s"] == 8.0
  env = {"cpu": {"model": "X"}, "cores": 2, "jax": "0", "backend": "cpu", "device": "cpu"}
  row = suite.paired_table({"w": {"paired": out}}, env).splitlines()[-1]
  assert row == "| `w` | 8 × 1 | 3 × 2 | 16 | 8 | 2.00× | 0.50× – 3.00× |"


def test_a_paired_child_times_both_implementations_in_turn():
  """The paired child trains jaxgen's chunk and the twin alternately: as many windows of
  each as rounds asked, with the workload's batch and seeds."""
  pytest.importorskip("torch")
  out = suite._time_paired("gan_ring_1seed", steps=3, windows=2, batch_size=16, device="cpu")
  assert len(out["times"]) == len(out["torch_times"]) == 2
  assert min(out["times"] + out["torch_times"]) > 0
  assert out["batch"] == 16 and out["seeds"] == 1


def test_the_record_gives_each_paired_invocation_and_their_median(tmp_path, monkeypatch):
  """tools.results_record's paired_ratios: one figure per invocation (the folder's own
  first, then 'second', 'third'), the range of all rounds, and the median of the
  invocations, not of the rounds pooled."""
  import json
  from tools import results_record
  def write(rel, ratios):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    paired = {"ratios": ratios, "ratio_median": float(np.median(ratios))}
    path.write_text(json.dumps({"results": {"w": {"paired": paired}, "x": {}}}))
  write("p/paired.json", [1.0, 1.1, 1.2])
  write("p/third/paired.json", [1.3, 1.4, 1.5])
  write("p/second/paired.json", [0.8, 0.9, 2.0])
  monkeypatch.setattr(results_record, "ROOT", tmp_path)
  table = results_record.paired_ratios(results_record.Sources(), "p")
  assert "`p/paired.json`, `p/second/paired.json`, `p/third/paired.json`" in table
  assert table.splitlines()[-1] == "| `w` | 1.10×, 0.90×, 1.40× | 0.80× – 2.00× | **1.10×** |"


@pytest.mark.parametrize("size,channels", [(28, 1), (64, 3)])
def test_the_layer_benchmark_counts_every_pass_a_step_needs(size, channels):
  """Of a DCGAN's passes only the gradient with respect to the noise (G1's input gradient)
  is never needed; D1's input gradient carries the generator's update into G and counts in
  the step's total (it was once left out)."""
  convs = dcgan_layers.dcgan_convs(size, channels, 8, 100)
  left_out = [(c["name"][:2], p) for c in convs for p in ("fwd", "dx", "dk")
              if dcgan_layers.unused(c["name"], p)]
  assert left_out == [("G1", "dx")]
