"""The studio's web server: a Starlette app over one :class:`Studio`, served by uvicorn.

:class:`Studio` decides what a path is and loads it — a trained workdir (its model's page),
a GAN config to train live (the GAN lab), or a folder of runs (the runs table) — and keeps
a clear message instead when it cannot (a missing or damaged workdir, a run that has not
saved a checkpoint yet); :meth:`Studio.reload` tries again. :func:`make_app` exposes it as
a JSON API (listed in ``docs/guide/studio.md``) beside one static page; every request it
cannot answer gets a 4xx answer with a one-line ``error`` and the server goes on.
"""
from __future__ import annotations

import functools
import json
import os
import threading
import time
from typing import Any, Callable, Optional

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from jaxgen import config as config_lib
from jaxgen.studio import runs as runs_lib
from jaxgen.studio.gan_lab import GanLab
from jaxgen.studio.views import (ImageGanView, LatentView, StudioError, TranslationView,
                                 png_data_url)
from jaxgen.uses.loading import load, read_config

STATIC = os.path.join(os.path.dirname(__file__), "static")
LATENT_MODELS = ("ae", "vae", "cvae")


class RunsPage:
  """The runs under a folder (:mod:`jaxgen.studio.runs`)."""
  kind = "runs"

  def __init__(self, root: str):
    self.root = os.path.abspath(root)

  def info(self) -> dict:
    return {"kind": self.kind, "root": self.root}

  def table(self) -> dict:
    rows = runs_lib.list_runs(self.root)
    return {"rows": [{**r, "picture": r["picture"] is not None} for r in rows],
            "columns": runs_lib.metric_columns(rows)}

  def picture(self, name: str) -> str:
    """The path of run ``name``'s latest picture (only runs under the root are served)."""
    for r in runs_lib.list_runs(self.root):
      if r["name"] == name and r["picture"]:
        return r["picture"]
    raise StudioError(f"no run {name!r} with a picture under {self.root}")


class Studio:
  """What one studio serves.

  ``path``: a trained workdir (AE/VAE/CVAE: the latent page; a GAN on 2-D points: the GAN
  lab from its checkpoint; a GAN on images: samples and walks; pix2pix: translations), or a
  folder holding workdirs (the runs table). ``config``: a GAN config on 2-D points to train
  from step 0 in the GAN lab (no workdir needed). ``seed_index`` picks a seed of a
  multi-seed run; ``checkpoint`` 'latest' or 'selected' (:func:`jaxgen.load`).

  The studio never raises on a path it cannot serve: :attr:`error` holds the one-line
  message (what is wrong and what to do) and the page shows it; :meth:`reload` retries.
  """

  def __init__(self, path: Optional[str] = None, config=None, seed_index: int = 0,
               checkpoint: str = "latest", steps_per_update: int = 50,
               log: Callable[[str], None] = print, warm: bool = True):
    if path is None and config is None:
      raise ValueError("Studio needs a workdir or folder (path) or a GAN config (config)")
    self.path, self.config, self.seed_index = path, config, int(seed_index)
    self.checkpoint, self.steps_per_update, self.log = checkpoint, int(steps_per_update), log
    self.warm = warm
    self.page: Any = None
    self.error: Optional[str] = None
    self.reload()

  # -------------------------------------------------------------------- loading
  def reload(self) -> None:
    """(Re)loads the path or config: the page, or :attr:`error` with the message."""
    self.page, self.error = None, None
    try:
      self.page = self._load()
    except (config_lib.ConfigError, StudioError, ValueError, OSError) as e:
      self.error = str(e).splitlines()[0] if str(e) else type(e).__name__
    except Exception as e:  # noqa: BLE001 - a damaged checkpoint raises anything
      self.error = (f"{self.path!r} could not be loaded ({type(e).__name__}: "
                    f"{str(e).splitlines()[0] if str(e) else ''}); the workdir may be damaged: "
                    f"train again or point the studio at another run")
    if self.error:
      self.log(f"studio: {self.error}")
    elif self.warm:
      self._warm_up()

  def _load(self):
    if self.config is not None:
      return GanLab(self.config, None, self.seed_index, self.steps_per_update, self.log,
                    source="config")
    path = self.path
    if not os.path.exists(path):
      raise StudioError(f"{path!r} does not exist: train a run there first (python train.py "
                        f"--config configs/vae_mnist.py --workdir {path}) or pass a trained "
                        f"workdir")
    if not os.path.isdir(path):
      raise StudioError(f"{path!r} is a file: pass a trained workdir or a folder of runs")
    if not os.path.exists(os.path.join(path, "config.json")):
      if runs_lib.find_workdirs(path):
        return RunsPage(path)
      raise StudioError(f"{path!r} holds no trained run (no config.json in it or below): "
                        f"pass a workdir that train.py wrote")
    try:
      config = read_config(path)
    except ValueError as e:
      raise StudioError(f"{os.path.join(path, 'config.json')} does not parse ({e}); the "
                        f"workdir is damaged: train it again") from None
    ckpt_dir = os.path.join(path, "checkpoints")
    if not (os.path.isdir(ckpt_dir) and any(n.isdigit() for n in os.listdir(ckpt_dir))):
      raise StudioError(f"{path!r} has not saved a checkpoint yet (still training?): wait "
                        f"for its first checkpoint, then press reload")
    trained = load(path, config, self.seed_index, log=self.log, checkpoint=self.checkpoint)
    name = config.model.name
    if name in LATENT_MODELS:
      return LatentView(trained, log=self.log)
    if name == "pix2pix":
      return TranslationView(trained)
    if name == "gan" and trained.dataset.kind == "points":
      return GanLab.from_workdir(trained, self.steps_per_update, self.log)
    if name == "gan":
      return ImageGanView(trained)
    raise StudioError(f"the studio has no page for model {name!r}")

  def _warm_up(self) -> None:
    """Compiles what the first requests call (the persistent cache makes this a load), and
    starts the slow one-off work (the latent page's test scores, its classifier) in a
    background thread."""
    p = self.page
    if isinstance(p, LatentView):
      p.decode(p.mean, 0 if p.conditional else None)
      threading.Thread(target=self._background, args=(p,), daemon=True).start()
    elif isinstance(p, ImageGanView):
      p.samples(0)
    elif isinstance(p, TranslationView):
      p.example(0)
    elif p is not None and p.kind == "gan2d":
      p.view()

  def _background(self, p: LatentView) -> None:
    try:
      p.classifier()
      if not p.conditional:
        p.reference()
        p.score(np.zeros(p.test.shape[1:]))
    except Exception as e:  # noqa: BLE001 - reported, the page goes on without it
      self.log(f"studio: background scoring failed ({type(e).__name__}: {e})")

  # -------------------------------------------------------------------- answers
  @functools.cached_property
  def api(self) -> dict[str, Callable[[dict], dict]]:
    """The API's handlers, ``name -> fn(params) -> JSON-able dict`` (made once)."""
    return _handlers(self)

  def info(self) -> dict:
    if self.page is None:
      return {"kind": "error", "error": self.error, "path": self.path}
    return {**self.page.info(), "path": self.path}

  def need(self, kind: str):
    """The page if it is of ``kind``; else a StudioError saying what this studio serves."""
    if self.page is None:
      raise StudioError(self.error or "nothing loaded")
    if self.page.kind != kind:
      raise WrongPage(f"this studio serves a {self.page.kind!r} page, not {kind!r}")
    return self.page


class WrongPage(StudioError):
  """A request for another kind of page than the one served (HTTP 409)."""


# ------------------------------------------------------------------------------ JSON
def _json(value):
  """NumPy values as JSON: arrays as nested lists rounded to 5 significant digits' worth."""
  if isinstance(value, dict):
    return {k: _json(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_json(v) for v in value]
  if isinstance(value, np.ndarray):
    return np.round(value.astype(np.float64), 5).tolist() if value.dtype.kind == "f" \
        else value.tolist()
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, float) and not np.isfinite(value):
    return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
  return value


def _images(result: dict, keys) -> dict:
  return {k: (png_data_url(v) if k in keys else v) for k, v in result.items()}


def _handlers(studio: Studio) -> dict[str, Callable[[dict], dict]]:
  """The API: ``name -> fn(params) -> JSON-able dict``."""
  def latent():
    return studio.need("latent")

  def image(x) -> dict:
    return {"image": png_data_url(x)}

  def decode(q):
    p = latent()
    z = (np.asarray(q["z"], np.float64) if "z" in q
         else p.code(q.get("coords"), q.get("base", "mean")))
    return {**image(p.decode(z, q.get("label"))), "z": z}

  def example(q):
    return _images(latent().example(q.get("index", 0)), ("image",))

  def gan_step(q):
    lab = studio.need("gan2d")
    losses = lab.step(q.get("steps"))
    return {**lab.view(), "losses": losses}

  def gan_configure(q):
    lab = studio.need("gan2d")
    lab.configure(q.get("generator_loss"), q.get("minibatch"), bool(q.get("restart", False)))
    return {"info": lab.info(), **lab.view()}

  def translation(q):
    return _images(studio.need("translation").example(q.get("index", 0)),
                   ("input", "baseline", "output", "truth"))

  def upload(q):
    if "image" not in q:
      raise StudioError("send the image as {'image': 'data:image/png;base64,...'}")
    return _images(studio.need("translation").upload(q["image"]), ("input", "baseline", "output"))

  def score(q):
    if "pixels" not in q:
      raise StudioError("send the drawing as {'pixels': [...]} with values in [0, 1]")
    out = latent().score(q["pixels"], q.get("label"))
    return _images(out, ("input", "recon")) | (
        {"styles": [png_data_url(s) for s in out["styles"]]} if "styles" in out else {})

  def reload(q):
    studio.reload()
    return studio.info()

  return {
      "info": lambda q: studio.info(),
      "reload": reload,
      "latent/decode": decode,
      "latent/example": example,
      "latent/interpolate": lambda q: image(latent().interpolate(
          q.get("a", 0), q.get("b", 1), q.get("t", 0.5), q.get("method", "linear"),
          q.get("label"))),
      "latent/attribute": lambda q: image(latent().attribute(
          q.get("index", 0), q.get("from", 0), q.get("to", 1), q.get("strength", 1.0),
          q.get("label"))),
      "latent/map": lambda q: latent().code_map(q.get("method", "pca")),
      "latent/map_decode": lambda q: image(latent().decode(
          latent().map_code(q.get("x"), q.get("y"), q.get("method", "pca")), q.get("label"))),
      "latent/score": score,
      "gan/view": lambda q: studio.need("gan2d").view(),
      "gan/step": gan_step,
      "gan/configure": gan_configure,
      "gan_images/samples": lambda q: image(studio.need("gan_images").samples(q.get("seed", 0))),
      "gan_images/walk": lambda q: image(studio.need("gan_images").walk(
          q.get("a", 0), q.get("b", 1), q.get("t", 0.5))),
      "translation/example": translation,
      "translation/upload": upload,
      "runs": lambda q: studio.need("runs").table(),
  }


def call(studio: Studio, name: str, params: Optional[dict] = None) -> tuple[int, dict]:
  """Answers API request ``name`` with ``params`` as the server does: (HTTP status, JSON
  body). 400 for a request the studio cannot answer as sent, 404 for an unknown name, 409
  for another page's request, 500 (with the exception's name) for anything else."""
  handlers = studio.api
  if name not in handlers:
    return 404, {"error": f"no API {name!r}; the API is {', '.join(sorted(handlers))}"}
  t0 = time.perf_counter()
  try:
    body = _json(handlers[name](dict(params or {})))
  except WrongPage as e:
    return 409, {"error": str(e)}
  except (StudioError, config_lib.ConfigError) as e:
    return 400, {"error": str(e)}
  except (KeyError, TypeError, ValueError) as e:
    return 400, {"error": f"bad request for {name!r}: {type(e).__name__}: {e}"}
  except Exception as e:  # noqa: BLE001 - the server goes on; the page shows it
    studio.log(f"studio: {name} failed: {type(e).__name__}: {e}")
    return 500, {"error": f"{name} failed: {type(e).__name__}: {e}"}
  if isinstance(body, dict):
    body["server_ms"] = round(1e3 * (time.perf_counter() - t0), 3)
  return 200, body


def make_app(studio: Studio):
  """The Starlette app: ``GET /`` the page, ``/static/*`` its script and style, and
  ``GET|POST /api/<name>`` (query parameters and a JSON body merged) for :func:`call`;
  ``GET /api/runs/picture?name=`` a run's latest picture as PNG."""
  async def api(request):
    params = dict(request.query_params)
    if request.method == "POST":
      raw = await request.body()
      if raw:
        try:
          body = json.loads(raw)
        except ValueError:
          return JSONResponse({"error": "the request body is not JSON"}, status_code=400)
        if not isinstance(body, dict):
          return JSONResponse({"error": "the request body must be a JSON object"},
                              status_code=400)
        params.update(body)
    status, body = await run_in_threadpool(call, studio, request.path_params["name"], params)
    return JSONResponse(body, status_code=status)

  async def picture(request):
    try:
      path = studio.need("runs").picture(request.query_params.get("name", ""))
    except StudioError as e:
      return JSONResponse({"error": str(e)}, status_code=404)
    return FileResponse(path, media_type="image/png")

  async def index(request):
    return FileResponse(os.path.join(STATIC, "index.html"), media_type="text/html")

  return Starlette(routes=[
      Route("/", index),
      Route("/api/runs/picture", picture),
      Route("/api/{name:path}", api, methods=["GET", "POST"]),
      Mount("/static", StaticFiles(directory=STATIC), name="static"),
  ])


class Background:
  """A studio served by uvicorn in a thread of this process (notebooks, tests): ``url``;
  :meth:`stop` ends it."""

  def __init__(self, studio: Studio, host: str = "127.0.0.1", port: int = 0):
    self.studio = studio
    self.server = uvicorn.Server(uvicorn.Config(make_app(studio), host=host, port=port,
                                                log_level="warning", lifespan="off"))
    self.thread = threading.Thread(target=self.server.run, daemon=True)
    self.thread.start()
    deadline = time.time() + 30
    while not self.server.started:
      if not self.thread.is_alive() or time.time() > deadline:
        raise RuntimeError(f"the studio server did not start on {host}:{port}")
      time.sleep(0.01)
    bound = self.server.servers[0].sockets[0].getsockname()
    self.url = f"http://{host}:{bound[1]}/"

  def stop(self) -> None:
    self.server.should_exit = True
    self.thread.join(timeout=10)


def serve(studio: Studio, host: str = "127.0.0.1", port: int = 8000,
          log: Callable[[str], None] = print) -> None:
  """Serves ``studio`` at http://host:port/ until interrupted (Ctrl-C)."""
  server = uvicorn.Server(uvicorn.Config(make_app(studio), host=host, port=port,
                                         log_level="warning", lifespan="off"))
  original = server.startup

  async def startup(sockets=None):
    await original(sockets)
    if server.started:
      log(f"jaxgen studio: http://{host}:{port}/  ({studio.info()['kind']} page; Ctrl-C stops)")
  server.startup = startup
  server.run()
