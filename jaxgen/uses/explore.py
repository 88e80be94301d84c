"""Exploring and editing the latent space of a trained AE or VAE.

Pure functions on codes (NumPy in, NumPy out): :func:`lerp`, :func:`slerp`,
:func:`traversal`, :func:`manifold_grid`, :func:`project_2d`, :func:`attribute_vector`,
:func:`gaussian_transport`; the domain change by either, measured by the judge classifier
(:func:`domain_change`); and
:func:`explore_workdir`, the ``--mode explore`` command, which draws them all for a
trained workdir into ``workdir/explore/``. For a conditional VAE it draws the style
transfers instead (:func:`analogies`: one test digit per row, redrawn as every digit).
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Sequence

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from jaxgen import config as config_lib
from jaxgen.evaluation import image_quality as iq
from jaxgen.evaluation.classifier import Classifier, judge_classifier
from jaxgen.evaluation.translation import StyleTransferJudge
from jaxgen.plotting import heatmap, image_table, labelled_scatter
from jaxgen.json_output import write_json
from jaxgen.uses.loading import Trained, load, read_config

DEFAULT_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


# --------------------------------------------------------------------------- paths in code space
def lerp(z0, z1, num: int) -> np.ndarray:
  """``num`` points on the straight line from ``z0`` to ``z1`` (both ends included)."""
  return lerp_at(z0, z1, np.linspace(0.0, 1.0, num))


def lerp_at(z0, z1, t) -> np.ndarray:
  """The points ``(1 - t) z0 + t z1`` for each of the fractions ``t [T]``: ``[T, dim]``."""
  t = np.asarray(t, np.float64).reshape(-1, 1)
  z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
  return (1 - t) * z0 + t * z1


def slerp(z0, z1, num: int) -> np.ndarray:
  """``num`` points of the spherical interpolation from ``z0`` to ``z1`` (White 2016):
  the direction moves along the great circle between the two directions, at constant
  angular speed, and the norm moves linearly from |z0| to |z1| (so it stays between the
  endpoints' norms; White's formula on the raw vectors keeps it only for equal norms).
  Falls back to :func:`lerp` for (anti)parallel or zero endpoints."""
  return slerp_at(z0, z1, np.linspace(0.0, 1.0, num))


def slerp_at(z0, z1, t) -> np.ndarray:
  """:func:`slerp`'s points at the fractions ``t [T]`` of the way: ``[T, dim]``."""
  z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
  r0, r1 = np.linalg.norm(z0), np.linalg.norm(z1)
  if r0 == 0 or r1 == 0:
    return lerp_at(z0, z1, t)
  u0, u1 = z0 / r0, z1 / r1
  omega = np.arccos(np.clip(np.dot(u0, u1), -1.0, 1.0))
  if np.sin(omega) < 1e-6:
    return lerp_at(z0, z1, t)
  t = np.asarray(t, np.float64).reshape(-1, 1)
  direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
  return ((1 - t) * r0 + t * r1) * direction


def traversal(z, values) -> np.ndarray:
  """``[dim, len(values), dim]``: row ``i`` is ``z`` with coordinate ``i`` set to each of
  ``values`` (``values`` may be ``[len(values)]`` or per-dimension ``[dim, len(values)]``)."""
  z = np.asarray(z, np.float64)
  values = np.asarray(values, np.float64)
  values = np.broadcast_to(values, (z.shape[0],) + values.shape[-1:])
  out = np.broadcast_to(z, (z.shape[0], values.shape[1], z.shape[0])).copy()
  for i in range(z.shape[0]):
    out[i, :, i] = values[i]
  return out


def manifold_grid(num: int, low: float = 0.05, high: float = 0.95) -> np.ndarray:
  """``[num, num, 2]`` codes of a 2-D latent: a uniform grid of probabilities in
  [low, high]^2 mapped through the inverse Gaussian CDF (Kingma & Welling 2014, Fig. 4),
  so that equal areas of the picture hold equal prior mass. Row = second coordinate from
  high to low (the picture's y axis), column = first coordinate."""
  p = np.linspace(low, high, num)
  q = np.asarray(ndtri(jnp.asarray(p)), np.float64)
  xs, ys = np.meshgrid(q, q[::-1])
  return np.stack([xs, ys], axis=-1)


def project_2d(codes, method: str = "pca", seed: int = 0) -> np.ndarray:
  """Codes [N, d] as 2-D points: the codes themselves when d = 2, else PCA or t-SNE
  (scikit-learn; t-SNE seeded by ``seed``)."""
  codes = np.asarray(codes, np.float64)
  if codes.shape[1] == 2:
    return codes
  if method == "pca":
    return PCA(n_components=2, random_state=seed).fit_transform(codes)
  if method == "tsne":
    return TSNE(n_components=2, random_state=seed, init="pca",
                perplexity=min(30.0, (codes.shape[0] - 1) / 3)).fit_transform(codes)
  raise ValueError(f"unknown projection {method!r}; use 'pca' or 'tsne'")


def attribute_vector(codes, labels, a: int, b: int) -> np.ndarray:
  """The mean code of class ``b`` minus the mean code of class ``a``: added to the code of
  an ``a``, it moves it to where the ``b``s are (zero for a = b)."""
  codes, labels = np.asarray(codes, np.float64), np.asarray(labels)
  for c in (a, b):
    if not np.any(labels == c):
      raise ValueError(f"no codes with label {c}")
  return codes[labels == b].mean(0) - codes[labels == a].mean(0)


def _psd_power(c: np.ndarray, power: float) -> np.ndarray:
  """C^power of a symmetric positive-definite matrix (eigen-decomposition, float64)."""
  w, v = np.linalg.eigh((c + c.T) / 2)
  return (v * np.clip(w, 1e-300, None) ** power) @ v.T


def gaussian_transport(mean_a, cov_a, mean_b, cov_b) -> tuple[np.ndarray, np.ndarray]:
  """The optimal-transport (Monge, squared-distance) map between N(mean_a, cov_a) and
  N(mean_b, cov_b): T(z) = mean_b + A (z - mean_a) with the symmetric positive-definite
  A = C_a^(-1/2) (C_a^(1/2) C_b C_a^(1/2))^(1/2) C_a^(-1/2), so that A C_a A = C_b: T sends
  class a's Gaussian exactly to class b's, moving each point as little as possible on
  average (a z one standard deviation above a's mean lands one standard deviation above
  b's, along the matching direction). Returns (A, shift) with T(z) = z @ A + shift
  (A is symmetric); covariances must be positive definite."""
  mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
  cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
  root = _psd_power(cov_a, 0.5)
  inv_root = _psd_power(cov_a, -0.5)
  a = inv_root @ _psd_power(root @ cov_b @ root, 0.5) @ inv_root
  a = (a + a.T) / 2
  return a, mean_b - mean_a @ a


def class_gaussians(codes, labels, classes: Sequence[int], ridge: float = 1e-3) -> dict:
  """Mean and covariance of each class's codes (the covariance plus ``ridge`` times the
  mean code variance on its diagonal, so that a class with fewer codes than dimensions still
  has an invertible one): ``{class: (mean, cov)}``."""
  codes, labels = np.asarray(codes, np.float64), np.asarray(labels)
  out = {}
  for c in classes:
    z = codes[labels == c]
    if z.shape[0] < 2:
      raise ValueError(f"a Gaussian of class {c} needs at least 2 codes, got {z.shape[0]}")
    cov = np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1])
    out[c] = (z.mean(0), cov + ridge * max(np.trace(cov) / z.shape[1], 1e-12) * np.eye(z.shape[1]))
  return out


# --------------------------------------------------------------------------- domain change
EDIT_METHODS = ("vector", "transport")


def domain_change(decode: Callable, classifier: Classifier, train_codes, train_labels,
                  test_codes, test_labels, strengths: Sequence[float] = DEFAULT_STRENGTHS,
                  classes: Optional[Sequence[int]] = None, method: str = "vector") -> dict:
  """Edits every test code z of class a toward class b for every ordered pair a != b and
  strength s, decodes, and classifies. ``method``: ``'vector'`` moves z by
  ``s * attribute_vector(a -> b)``; ``'transport'`` moves it by ``s * (T(z) - z)`` with
  T the :func:`gaussian_transport` map between the classes' Gaussians (at s = 1, T(z);
  between, the displacement interpolation). Means, covariances and vectors come from the
  *training* codes. Returns ``to_b[s][a][b]`` and ``still_a[s][a][b]``: the share of
  edited decodes the classifier assigns to b, and to a, as nested lists (``classes``
  order)."""
  if method not in EDIT_METHODS:
    raise ValueError(f"unknown edit method {method!r}; use one of {', '.join(EDIT_METHODS)}")
  train_codes, test_codes = np.asarray(train_codes), np.asarray(test_codes)
  train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
  classes = sorted(int(c) for c in np.unique(test_labels)) if classes is None else list(classes)
  gaussians = class_gaussians(train_codes, train_labels, classes) if method == "transport" else {}
  means = {c: train_codes[train_labels == c].mean(0) for c in classes}
  k = len(classes)
  to_b = np.full((len(strengths), k, k), np.nan)
  still_a = np.full((len(strengths), k, k), np.nan)
  for i, a in enumerate(classes):
    za = test_codes[test_labels == a]
    for j, b in enumerate(classes):
      if a == b:
        continue
      if method == "transport":
        a_map, shift = gaussian_transport(*gaussians[a], *gaussians[b])
        v = za @ a_map + shift - za
      else:
        v = means[b] - means[a]
      edited = np.concatenate([za + s * v for s in strengths]).astype(np.float32)
      pred = classifier.predict(np.asarray(decode(edited))).reshape(len(strengths), -1)
      to_b[:, i, j] = (pred == b).mean(1)
      still_a[:, i, j] = (pred == a).mean(1)
  return {"method": method, "classes": classes, "strengths": [float(s) for s in strengths],
          "to_b": to_b.tolist(), "still_a": still_a.tolist(),
          "mean_to_b": [float(np.nanmean(m)) for m in to_b],
          "mean_still_a": [float(np.nanmean(m)) for m in still_a]}


def domain_change_markdown(result: dict, strength: float = 1.0, title: str = "") -> str:
  """The a -> b table at ``strength`` (percent classified as b) and the mean over pairs
  at every strength."""
  s_idx = result["strengths"].index(strength)
  m = np.asarray(result["to_b"][s_idx])
  classes = result["classes"]
  lines = [f"### {title}", ""] if title else []
  lines += [f"Share of a -> b edits (strength {strength}) classified as b, %:", "",
            "| a \\ b | " + " | ".join(map(str, classes)) + " |",
            "|---" * (len(classes) + 1) + "|"]
  for i, a in enumerate(classes):
    lines.append(f"| {a} | " + " | ".join("–" if i == j else f"{100 * m[i, j]:.0f}"
                                          for j in range(len(classes))) + " |")
  lines += ["", "| strength | " + " | ".join(f"{s:g}" for s in result["strengths"]) + " |",
            "|---" * (len(result["strengths"]) + 1) + "|",
            "| classified as b, % | " + " | ".join(f"{100 * v:.1f}" for v in result["mean_to_b"]) + " |",
            "| still classified as a, % | " + " | ".join(f"{100 * v:.1f}" for v in result["mean_still_a"]) + " |"]
  return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the command


def _decoder(trained: Trained, batch: int = 1000) -> Callable:
  def decode(z):
    z = np.asarray(z, np.float32)
    return np.concatenate([np.asarray(trained.decode(z[i:i + batch]))
                           for i in range(0, z.shape[0], batch)])
  return decode


def explore_workdir(workdir: str, config=None, seed_index: int = 0,
                    log: Callable[[str], None] = print, classifier: Optional[Classifier] = None,
                    num_steps: int = 10, projection: str = "auto") -> dict:
  """``--mode explore``: for the trained AE or VAE in ``workdir``, writes to
  ``workdir/explore/``: linear and spherical interpolation strips between test examples,
  a per-dimension traversal grid, the decoded 2-D manifold (2-D latents), a 2-D map of the
  test codes coloured by label (PCA, and t-SNE for latents of more than two dimensions),
  a grid of attribute-vector edits, and the domain-change table measured with the
  judge classifier for attribute vectors (``domain_change.json`` / ``.md`` / heatmap,
  ``edits.png``) and for the Gaussian transport map (the same files with ``_transport``).
  Returns the attribute-vector result with the transport one under ``"transport"``."""
  config = read_config(workdir) if config is None else config
  if config.model.name == "cvae":
    return analogies(load(workdir, config, seed_index, log), log=log, classifier=classifier)
  if config.model.name not in ("ae", "vae"):
    raise config_lib.ConfigError(f"--mode explore needs a model with an encoder (ae, vae or "
                                 f"cvae); {config.model.name!r} has none")
  trained = load(workdir, config, seed_index, log)
  out = os.path.join(workdir, "explore")
  os.makedirs(out, exist_ok=True)
  name = f"{trained.config.model.name} ({trained.config.model.net}), step {trained.step}"
  x, y = np.asarray(trained.test_x), np.asarray(trained.test_labels)
  codes = trained.codes(x)
  decode = _decoder(trained)

  # interpolation strips: one pair per row, originals at both ends
  rng = np.random.RandomState(0)
  pairs = [(int(rng.choice(np.flatnonzero(y == a))), int(rng.choice(np.flatnonzero(y == b))))
           for a, b in zip(range(10), (np.arange(10) + 3) % 10)]
  for kind, fn in (("linear", lerp), ("slerp", slerp)):
    rows = np.stack([np.concatenate([x[i][None], decode(fn(codes[i], codes[j], num_steps)),
                                     x[j][None]]) for i, j in pairs])
    image_table(os.path.join(out, f"interpolation_{kind}.png"), rows,
                row_labels=[f"{y[i]}→{y[j]}" for i, j in pairs],
                column_labels=["x₀"] + [f"{t:.1f}" for t in np.linspace(0, 1, num_steps)] + ["x₁"],
                title=f"{kind} interpolation of codes, {name}")
  # traversal: each dimension of one test code from -3 to +3 standard deviations of the codes
  mu, sd = codes.mean(0), codes.std(0)
  values = mu[:, None] + sd[:, None] * np.linspace(-3, 3, 9)[None]
  grid = traversal(codes[pairs[0][0]], values)
  dims = min(grid.shape[0], 32)
  image_table(os.path.join(out, "traversal.png"),
              decode(grid[:dims].reshape(-1, grid.shape[-1])).reshape((dims, 9) + x.shape[1:]),
              row_labels=[f"z{i}" for i in range(dims)],
              column_labels=[f"{v:+g}σ" for v in np.linspace(-3, 3, 9)],
              title=f"per-dimension traversal of one test code, {name}")
  # 2-D manifold and code maps
  if codes.shape[1] == 2:
    g = manifold_grid(20)
    image_table(os.path.join(out, "manifold.png"),
                decode(g.reshape(-1, 2)).reshape((20, 20) + x.shape[1:]),
                title=f"decoded latent grid through the inverse Gaussian CDF, {name}")
  methods = ["identity"] if codes.shape[1] == 2 else (
      ["pca", "tsne"] if projection == "auto" else [projection])
  for m in methods:
    pts = project_2d(codes, "pca" if m == "identity" else m)
    labelled_scatter(os.path.join(out, f"codes_{m}.png"), pts, y,
                     title=f"test codes ({ {'identity': 'the 2-D latent', 'pca': 'PCA', 'tsne': 't-SNE'}[m]}), {name}",
                     xlabel="z₁" if m == "identity" else "", ylabel="z₂" if m == "identity" else "")
  # domain change with the judge classifier
  classifier = classifier or judge_classifier(trained.dataset, log=log)
  train_codes = trained.codes(trained.train_x)
  correct = float(np.mean(classifier.predict(decode(codes)) == y))
  # the classes trained on (a class-filtered run has codes of its own classes only)
  classes = [int(c) for c in np.unique(y) if np.sum(trained.train_labels == c) >= 2]
  if len(classes) < 2:
    log(f"domain change skipped: the run was trained on {len(classes)} class(es); edits need "
        f"two; wrote the pictures to {out}")
    return {"classes": classes, "domain_change": "skipped: fewer than two trained classes"}
  keep = np.isin(y, classes)
  x, codes, y = x[keep], codes[keep], y[keep]
  # what a perfect transport would reach: decodes of codes drawn from each class's fitted
  # Gaussian, read as that class (the map sends a's Gaussian exactly there)
  fitted = class_gaussians(train_codes, trained.train_labels, classes)
  rng = np.random.RandomState(0)
  gaussian_read = {c: float(np.mean(classifier.predict(decode(rng.multivariate_normal(
      m, cov, size=200).astype(np.float32))) == c)) for c, (m, cov) in fitted.items()}
  results = {}
  for method in EDIT_METHODS:
    result = domain_change(decode, classifier, train_codes, trained.train_labels, codes, y,
                           classes=classes, method=method)
    result["classifier_test_accuracy"] = classifier.test_accuracy
    result["model"] = name
    result["decodes_of_unedited_test_codes_classified_correctly"] = correct
    if method == "transport":
      result["class_gaussian_decodes_read_as_the_class"] = gaussian_read
      result["mean_class_gaussian_decodes_read_as_the_class"] = float(
          np.mean(list(gaussian_read.values())))
    results[method] = result
    suffix = "" if method == "vector" else f"_{method}"
    what = {"vector": "attribute vectors", "transport": "Gaussian transport"}[method]
    write_json(os.path.join(out, f"domain_change{suffix}.json"), result)
    with open(os.path.join(out, f"domain_change{suffix}.md"), "w") as f:
      f.write(domain_change_markdown(result, 1.0, f"Domain change by {what}, {name}"))
    s1 = result["strengths"].index(1.0)
    heatmap(os.path.join(out, f"domain_change{suffix}.png"), np.asarray(result["to_b"][s1]),
            result["classes"], result["classes"], xlabel="target b", ylabel="source a",
            title=f"a→b edits by {what} at strength 1 classified as b, {name}")
    # a picture of edits: one source per row, strengths along the row
    gaussians = fitted
    rows, labels = [], []
    for a in classes:
      b = classes[(classes.index(a) + 1) % len(classes)]
      i = int(np.flatnonzero(y == a)[0])
      if method == "transport":
        a_map, shift = gaussian_transport(*gaussians[a], *gaussians[b])
        v = codes[i] @ a_map + shift - codes[i]
      else:
        v = gaussians[b][0] - gaussians[a][0]
      rows.append(np.concatenate([x[i][None], decode(np.stack(
          [codes[i] + s * v for s in result["strengths"]]).astype(np.float32))]))
      labels.append(f"{a}→{b}")
    image_table(os.path.join(out, f"edits{suffix}.png"), np.stack(rows), row_labels=labels,
                column_labels=["x"] + [f"{s:g}" for s in result["strengths"]],
                title=f"{what} edits a→b by strength, {name}")
    log(f"domain change by {what}: {100 * result['mean_to_b'][s1]:.1f}% of a→b edits at "
        f"strength 1 classified as b ({100 * result['mean_still_a'][s1]:.1f}% still as a)")
  log(f"wrote pictures and domain_change*.json to {out}")
  result = dict(results["vector"])
  result["transport"] = results["transport"]
  return result


# --------------------------------------------------------------------------- analogies (CVAE)
def slant_ordered_examples(slants, labels, num_rows: int = 10) -> np.ndarray:
  """Indices of ``num_rows`` examples spanning the slants: for row ``r``, the example of
  label ``r mod 10`` whose slant is nearest the ``(r + 0.5) / num_rows`` quantile of all
  slants (a left-leaning digit at the top, a right-leaning one at the bottom)."""
  slants, labels = np.asarray(slants), np.asarray(labels)
  targets = np.quantile(slants, (np.arange(num_rows) + 0.5) / num_rows)
  rows = []
  for r, s in enumerate(targets):
    idx = np.flatnonzero(labels == r % 10)
    rows.append(int(idx[np.argmin(np.abs(slants[idx] - s))]))
  return np.asarray(rows)


def analogies(trained: Trained, log: Callable[[str], None] = print,
              classifier: Optional[Classifier] = None, num_rows: int = 10) -> dict:
  """``--mode explore`` for a conditional VAE (Kingma et al. 2014, figure 1): each test
  digit is encoded with its own label (its *style* code) and decoded with every label.

  Writes to ``workdir/explore/``: ``analogies.png`` (rows: test digits chosen across the
  range of slants, :func:`slant_ordered_examples`; columns: the digit, then labels
  0..9), ``analogies_random.png`` (ten random test digits), and ``style_transfer.json``
  with the measurements of :class:`~jaxgen.evaluation.translation.StyleTransferJudge` on
  the whole test split (every digit to each other label): the judge classifier's
  accuracy on the target labels (overall and per target) and the slant correlation
  between source and transfer. Returns that dict."""
  out = os.path.join(trained.workdir, "explore")
  os.makedirs(out, exist_ok=True)
  model, c = trained.model, trained.config
  name = f"cvae ({c.model.net}, {c.model.latent_dim}-d z), step {trained.step}"
  x, y = np.asarray(trained.test_x["x"]), np.asarray(trained.test_x["cond"])
  lo, hi = model.data_range
  x01 = (x - lo) / (hi - lo)
  k = int(c.model.num_classes)
  picks = {"analogies": slant_ordered_examples(iq.slant(x01), y, num_rows),
           "analogies_random": np.random.RandomState(0).choice(x.shape[0], num_rows, False)}
  for fname, rows in picks.items():
    src = np.repeat(rows, k)
    grid = np.asarray(trained.transfer(x[src], y[src], np.tile(np.arange(k), rows.size)))
    table = np.concatenate([x01[rows][:, None], grid.reshape((rows.size, k) + x.shape[1:])], 1)
    image_table(os.path.join(out, f"{fname}.png"), table,
                row_labels=[f"{y[i]} ({iq.slant(x01[i:i + 1])[0]:+.2f})" for i in rows],
                column_labels=["x"] + [str(t) for t in range(k)],
                title=f"style transfer: each test digit (slant) redrawn as every digit, {name}")
  classifier = classifier or judge_classifier(trained.dataset, log=log)
  judge = StyleTransferJudge(classifier, k, batch_size=int(c.eval.batch_size))
  result = judge.metrics(model, trained.state, x, y)
  result.update(model=name, step=trained.step, classifier_test_accuracy=classifier.test_accuracy,
                num_transfers=int(x.shape[0] * (k - 1)))
  write_json(os.path.join(out, "style_transfer.json"), result)
  log(f"style transfer: {100 * result['transfer_accuracy']:.1f}% of {result['num_transfers']} "
      f"transfers classified as their target label; slant correlation "
      f"{result['slant_correlation']:.3f} (shuffled pairs {result['slant_correlation_shuffled']:.3f}); "
      f"wrote analogies.png and style_transfer.json to {out}")
  return result
