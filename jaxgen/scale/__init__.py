"""Scale-out: training on many devices and many processes.

* :mod:`jaxgen.scale.sharding`: the one sharding annotation model code may use;
* :mod:`jaxgen.scale.mesh`: the device mesh of a run and how its arrays are placed;
* :mod:`jaxgen.scale.distributed`: joining processes with ``jax.distributed`` and noticing
  when one dies;
* :mod:`jaxgen.scale.launch`: N local processes of one job (``python -m jaxgen.scale.launch``).

This package imports none of them up front: model code imports only ``sharding``.
"""
