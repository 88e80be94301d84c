"""Measurement scripts that drive jaxgen's own entry points; run them from the repository
root as modules, e.g. ``python -m benchmarks.gan_throughput gan_ring``."""
