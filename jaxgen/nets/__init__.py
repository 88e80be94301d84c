"""Networks (Flax linen): encoders and decoders in :mod:`jaxgen.nets.autoencoders`, GAN
generators and discriminators in :mod:`jaxgen.nets.gan`, both built from the layers of
:mod:`jaxgen.layers`."""
