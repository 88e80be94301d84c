"""Training, evaluating and sampling, generic over models.

* :mod:`jaxgen.train.steps`: the compiled step loop and the key plan;
* :mod:`jaxgen.train.loop`: the host loop (resume, signals, log/eval/checkpoint cadence);
* :mod:`jaxgen.train.evaluator`: test-split metrics and pictures;
* :mod:`jaxgen.train.outputs`: metrics files, pictures, environment capture;
* :mod:`jaxgen.train.run`: a config made ready to run, and the evaluate/sample entry points.

The three entry points are one call each: :func:`train`, :func:`evaluate`, :func:`sample`.
"""
from jaxgen.train.loop import Preempted, TrainingError, train
from jaxgen.train.run import Run, build_run, evaluate, sample, use_compilation_cache

__all__ = ["train", "evaluate", "sample", "build_run", "Run", "TrainingError", "Preempted",
           "use_compilation_cache"]
