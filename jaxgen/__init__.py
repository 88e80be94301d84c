"""jaxgen: classic deep generative models — autoencoders, VAEs, GANs — in JAX and Flax."""
__version__ = "0.1.0"
