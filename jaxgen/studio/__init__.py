"""jaxgen studio: a local web page to explore trained models and watch a GAN learn.

    python -m jaxgen.studio runs/vae_mnist            # a trained workdir: its model's page
    python -m jaxgen.studio --config configs/gan_ring.py   # the GAN lab from step 0
    python -m jaxgen.studio runs                      # every run under a folder, side by side

or in Python (a notebook)::

    from jaxgen import studio
    s = studio.Studio("runs/vae_mnist")
    studio.call(s, "latent/decode", {"coords": [0.0] * 10})   # what the page asks
    bg = studio.Background(s); print(bg.url)                   # served from this process

The pages (:mod:`jaxgen.studio.views`, :mod:`jaxgen.studio.gan_lab`,
:mod:`jaxgen.studio.runs`) compute with the library's own functions; the server
(:mod:`jaxgen.studio.server`) is Starlette under uvicorn, and the page one HTML file with a
script and a style sheet served from the package (nothing from the network).
"""
from jaxgen.studio.server import Background, Studio, call, make_app, serve

__all__ = ["Background", "Studio", "call", "make_app", "serve"]
