"""Training, generic over models.

* :mod:`jaxgen.train.run`: the one place a run is assembled (config checks, dataset, model,
  keys, device splits, mesh, the judge of its samples);
* :mod:`jaxgen.train.steps`: the compiled step loop and the key plan;
* :mod:`jaxgen.train.loop`: the host loop (resume, signals, log/eval/checkpoint cadence);
* :mod:`jaxgen.train.evaluator`: the evaluation during and after training (test-split
  metrics and pictures);
* :mod:`jaxgen.train.outputs`: metrics files, pictures, environment capture.

Training is one call: :func:`train`. The driver's other modes (evaluate, sample, ...) are
in :mod:`jaxgen.modes`.
"""
from jaxgen.compilation_cache import use_compilation_cache
from jaxgen.train.loop import Preempted, TrainingError, train
from jaxgen.train.run import Run, build_run

__all__ = ["train", "build_run", "Run", "TrainingError", "Preempted", "use_compilation_cache"]
