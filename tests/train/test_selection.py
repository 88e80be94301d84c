"""Model selection on the validation split (eval.select_on): the best validation step is
the one kept, its test numbers are those of that checkpoint, the test split is never what
chooses, and bad requests fail before training."""
import json
import os

import numpy as np
import pytest

from jaxgen import train
from jaxgen.config import ConfigError
from jaxgen.evaluation import image_quality as iq
from jaxgen.train import selection
from jaxgen.uses import loading


def _photo_config(load_config, tiny, **changes):
  c = tiny(load_config("pix2pix_sr_photos"))
  c.pix2pix.features, c.pix2pix.max_features, c.pix2pix.d_features = 4, 8, 4
  c.pix2pix.depth, c.pix2pix.d_layers, c.pix2pix.bottleneck_blocks = 1, 1, 0
  c.pix2pix.gan_weight = 0.0
  c.learning_rate = 3e-3          # large steps: the validation PSNR moves between evaluations
  c.batch_size = 32
  c.num_steps, c.log_every, c.eval_every, c.checkpoint_every = 8, 2, 2, 4
  c.eval.batch_size = 600
  for k, v in changes.items():
    group, name = k.split(".")
    c[group][name] = v
  return c


def _logged(work: str, key: str) -> dict[int, float]:
  rows = [json.loads(line) for line in open(os.path.join(work, "metrics.jsonl"))]
  return {int(r["step"]): r[key] for r in rows if key in r}


def test_better_known_answers():
  assert selection.better(1.0, None, True) and selection.better(1.0, None, False)
  assert selection.better(2.0, 1.0, True) and not selection.better(0.5, 1.0, True)
  assert selection.better(0.5, 1.0, False) and not selection.better(2.0, 1.0, False)
  assert not selection.better(1.0, 1.0, True) and not selection.better(1.0, 1.0, False)  # tie
  assert not selection.better(float("nan"), 1.0, True)
  assert not selection.better(float("nan"), None, True)


@pytest.mark.slow       # a training with four validation scorings: 10 s
def test_the_best_validation_step_is_kept_and_scored_on_test(tmp_path, load_config, tiny):
  config = _photo_config(load_config, tiny)
  work = str(tmp_path / "sel")
  _, result = train.train(config, work, log=lambda s: None)
  val = _logged(work, "val/psnr")
  assert sorted(val) == [2, 4, 6, 8]
  assert len(set(val.values())) == 4                 # the steps differ: the choice matters
  best = max(val, key=lambda s: (val[s], -s))
  test = _logged(work, "eval/psnr")
  record = json.load(open(os.path.join(work, "selected.json")))
  assert record == {"step": best, "select_on": "psnr", "higher": True, "value": val[best]}
  assert result["step"] == 8                          # the top level stays the last step
  chosen = result["selected"]
  assert chosen["step"] == best and chosen["validation_psnr"] == val[best]
  np.testing.assert_allclose(chosen["psnr"], test[best], rtol=1e-6)
  assert json.load(open(os.path.join(work, "eval.json")))["selected"]["step"] == best
  # the selected checkpoint is that step's state: its translations give that test PSNR
  t = loading.load(work, checkpoint="selected")
  assert int(t.state.step) == best
  truth = t.dataset.test.astype(np.float32) / 255
  out = np.asarray(t.translate(t.test_x["cond"]))
  np.testing.assert_allclose(np.mean(iq.psnr(truth, out)), chosen["psnr"], rtol=1e-5)
  # the validation numbers are the validation photograph's, not the test split's
  assert t.dataset.val.shape[0] != t.dataset.test.shape[0]
  val_bicubic = _logged(work, "val/bicubic_psnr")[2]
  assert abs(val_bicubic - result["bicubic_psnr"]) > 1.0


@pytest.mark.slow       # two more trainings: 30 s
def test_lower_is_better_and_a_resumed_run_compares_with_its_record(tmp_path, load_config, tiny):
  config = _photo_config(load_config, tiny, **{"eval.select_on": "l1",
                                               "eval.select_higher": False})
  work = str(tmp_path / "low")
  config.num_steps = 4
  train.train(config, work, log=lambda s: None)
  first = json.load(open(os.path.join(work, "selected.json")))
  config.num_steps = 8                                 # resumed: the record carries over
  _, result = train.train(config, work, log=lambda s: None)
  l1 = _logged(work, "val/l1")
  best = min(l1, key=lambda s: (l1[s], s))
  assert result["selected"]["step"] == best
  assert json.load(open(os.path.join(work, "selected.json")))["value"] == l1[best] <= first["value"]
  config.eval.select_higher = True                     # another rule in the same workdir
  with pytest.raises(ConfigError, match="different config .*select_higher"):
    train.train(config, work, log=lambda s: None)
  with pytest.raises(ConfigError, match="selected on 'l1' .*lowest.*this run on 'l1' .*highest"):
    train.train(config, work, log=lambda s: None, allow_config_change=True)


def test_bad_selection_requests_fail_before_training(tmp_path, load_config, tiny):
  config = _photo_config(load_config, tiny, **{"eval.select_on": "accuracy"})
  work = str(tmp_path / "bad")
  with pytest.raises(ConfigError, match="'accuracy' is not a metric.*psnr"):
    train.train(config, work, log=lambda s: None)
  assert not os.listdir(os.path.join(work, "checkpoints"))   # nothing trained
  digits = tiny(load_config("pix2pix_sr_digits"))
  digits.eval.select_on = "psnr"
  with pytest.raises(ConfigError, match="validation split, which 'mnist_sr4' has not"):
    train.build_run(digits)
  config = _photo_config(load_config, tiny)
  config.num_seeds = 2
  with pytest.raises(ConfigError, match="train the seeds one at a time"):
    train.build_run(config)
  with pytest.raises(ConfigError, match="no checkpoint in .*selected"):
    loading.load(str(tmp_path / "none"), config=_photo_config(load_config, tiny),
                 checkpoint="selected")


class _Scripted:
  """An evaluator whose validation score is scripted per call, and whose test score of a
  state is the state's own number (so a test can tell which state was scored)."""

  def __init__(self, scores):
    self.scores = list(scores)

  def summary(self, state, key):
    return {"psnr": self.scores.pop(0), "l1": 0.0}

  def final(self, state, key):
    return {"step": int(state["step"]), "psnr": float(state["w"][0])}


class _Run:
  def abstract_state(self):
    return {"step": np.zeros((), np.int32), "w": np.zeros((3,), np.float32)}

  keys = [{"eval": None}]


def _selector(tmp_path, scores, higher=True):
  from jaxgen.checkpoint import Checkpointer
  sel = selection.Selector.__new__(selection.Selector)
  sel.metric, sel.higher, sel.key, sel.writer = "psnr", higher, None, True
  sel.evaluator = _Scripted(scores)
  sel.path = str(tmp_path / selection.RECORD)
  sel.ckpt = Checkpointer(str(tmp_path / selection.SELECTED_DIR), 1, log=lambda s: None,
                          writer=True)
  sel.record = None
  return sel


@pytest.mark.parametrize("higher, best", [(True, 20), (False, 40)])
def test_the_selector_keeps_the_best_offer_not_the_last(tmp_path, higher, best):
  scores = [1.0, 3.0, 2.0, 0.5, 3.0]            # steps 10..50; a tie at 50 keeps step 20
  sel = _selector(tmp_path, scores, higher)
  for i, step in enumerate(range(10, 60, 10)):
    state = {"step": np.int32(step), "w": np.full((3,), step, np.float32)}
    out = sel.offer(step, state)
    assert out["val/psnr"] == scores[i]
  assert out["val/selected_step"] == best
  assert sel.record["step"] == best and sel.ckpt.all_steps() == [best]
  # the test numbers of eval.json["selected"] are those of the kept state, not the last
  result = selection.selected_evaluation(sel, sel.evaluator, _Run(), str(tmp_path),
                                         {"step": 50, "psnr": 50.0})
  assert result["selected"]["step"] == best and result["selected"]["psnr"] == best
  assert result["selected"]["validation_psnr"] == (3.0 if higher else 0.5)
  assert result["step"] == 50 and result["psnr"] == 50.0
  sel.close()
