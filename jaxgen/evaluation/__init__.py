"""Metrics on arrays: anomaly detection (:mod:`~jaxgen.evaluation.detection`), mode coverage
(:mod:`~jaxgen.evaluation.mode_collapse`), sample quality with the judge classifier
(:mod:`~jaxgen.evaluation.sample_quality`, :mod:`~jaxgen.evaluation.classifier`), image
quality and translation (:mod:`~jaxgen.evaluation.image_quality`,
:mod:`~jaxgen.evaluation.translation`). Nothing here imports :mod:`jaxgen.train` or
:mod:`jaxgen.uses`."""
