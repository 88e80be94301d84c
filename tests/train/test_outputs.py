"""What a run writes besides checkpoints: metrics lines, pictures, the environment."""
import json
import os

import numpy as np

from jaxgen.train import outputs


def test_environment_names_versions_backend_and_cpu(tmp_path):
  env = outputs.environment()
  assert env["backend"] == "cpu" and env["versions"]["jax"] and env["device_count"] >= 1
  cpu = env["cpu"]
  assert cpu == outputs.cpu_info()
  assert cpu["model"] and isinstance(cpu["vector_extensions"], list) and cpu["cores"] >= 1
  path = str(tmp_path / "environment.json")
  outputs.write_environment(path)
  assert json.load(open(path))["cpu"] == json.loads(json.dumps(cpu))
  assert not os.path.exists(path + ".tmp")


def test_format_scalars():
  assert outputs.format_scalars({"a": 1.23456, "b": 2, "c": "text"}) == "a=1.235 b=2"


def test_metrics_writer_and_pictures(tmp_path):
  work = str(tmp_path)
  writer = outputs.MetricsWriter(work, {"modes": np.zeros((1, 2)), "std": 0.1})
  writer.scalars(5, {"train/loss": 1.5})
  writer.scalars(10, {"train/loss": 0.5})
  writer.images(10, {"grid": np.full((4, 6, 6, 1), 0.5, np.float32),
                     "points": np.random.RandomState(0).normal(size=(50, 2))})
  writer.close()
  lines = [json.loads(l) for l in open(os.path.join(work, "metrics.jsonl"))]
  assert lines == [{"step": 5, "train/loss": 1.5}, {"step": 10, "train/loss": 0.5}]
  assert sorted(os.listdir(os.path.join(work, "samples"))) == ["grid_0000010.png",
                                                               "points_0000010.png"]
  assert any(f.startswith("events") for f in os.listdir(os.path.join(work, "tensorboard")))
  # non-finite pixels of a diverging model are drawn, not refused
  grid = outputs.save_picture(str(tmp_path / "nan.png"),
                              np.full((2, 3, 3, 1), np.nan, np.float32), {})
  assert np.all(np.isfinite(grid))
