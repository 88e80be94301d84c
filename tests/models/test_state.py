"""Training-state helpers: the learning-rate schedules."""
import math

import pytest

from jaxgen.config import base_config, validate
from jaxgen import models
from jaxgen.models.state import learning_rate


@pytest.mark.parametrize("kind", ["constant", "cosine", "linear"])
def test_learning_rate_schedules(kind):
  c = base_config()
  c.num_steps, c.lr_schedule, c.lr_final_fraction = 100, kind, 0.1
  validate(c)
  optimization = models.settings(c)["optimization"]
  lr = learning_rate(2e-3, optimization)
  values = [float(lr(t)) if callable(lr) else lr for t in (0, 50, 100, 150)]
  if kind == "constant":
    assert values == [2e-3] * 4
  else:
    middle = 1.1e-3   # cosine and linear both sit halfway between 2e-3 and 2e-4 at t = 50
    assert values[0] == pytest.approx(2e-3) and values[1] == pytest.approx(middle)
    assert values[2] == pytest.approx(2e-4) and values[3] == pytest.approx(2e-4)
  # between those points cosine and linear differ: each against its formula by hand
  peak, end = 2e-3, 2e-4
  for t in (10, 25, 75, 90):
    got = float(lr(t)) if callable(lr) else lr
    if kind == "cosine":
      want = end + (peak - end) * 0.5 * (1 + math.cos(math.pi * t / 100))
    elif kind == "linear":
      want = peak + (end - peak) * t / 100
    else:
      want = peak
    assert got == pytest.approx(want, rel=1e-5), (kind, t)
  two = learning_rate(2e-3, optimization, updates_per_step=2)        # a discriminator with d_steps = 2
  if callable(two):
    assert float(two(100)) == pytest.approx(1.1e-3)
