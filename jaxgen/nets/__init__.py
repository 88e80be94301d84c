"""Networks (Flax linen): encoders and decoders in :mod:`jaxgen.nets.autoencoders`, GAN
generators and discriminators in :mod:`jaxgen.nets.adversarial`, pix2pix's U-Net and
PatchGAN in :mod:`jaxgen.nets.conditional`, all built from the XLA:CPU-friendly layers of
:mod:`jaxgen.nets.layers`."""
