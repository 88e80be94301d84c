"""What people do with a trained model: load it (:func:`jaxgen.uses.loading.load`, also
``jaxgen.load``), estimate density (:mod:`jaxgen.uses.density`), detect anomalies
(:mod:`jaxgen.uses.anomaly`), explore and edit the latent space (:mod:`jaxgen.uses.explore`).
"""
