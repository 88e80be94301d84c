"""The README's image-to-image tables and pictures, from trained workdirs.

    python -m benchmarks.translation_tables \\
        --pair sr_digits runs/cond/sr_digits_l1 runs/cond/sr_digits_gan \\
        --pair sr_photos runs/cond/sr_photos_l1 runs/cond/sr_photos_gan \\
        --pair color_photos runs/cond/color_l1 runs/cond/color_gan \\
        --cvae runs/cond/cvae_mnist runs/cond/cvae_z8 runs/cond/cvae_z4 \\
        [--spectra "L1 only" runs/cond/sr_photos_l1 --spectra "L1 + GAN" runs/cond/sr_photos_gan] \\
        [--out results/conditional] [--img docs/img]

``--pair NAME L1_DIR GAN_DIR``: a pix2pix task trained with the GAN term off ("L1 only")
and on; its table holds the baselines (nearest and bicubic upsampling, or the gray image),
both models and the targets, from each workdir's ``eval.json`` (the held-out test split);
its picture ``IMG/NAME.png`` shows eight test examples: input | baseline | L1 only |
L1 + GAN | truth. ``--cvae``: conditional VAE workdirs (their
``explore/style_transfer.json``, written by ``train.py --mode explore``), one row each;
the first one's ``explore/analogies.png`` is copied to ``IMG/cvae_analogies.png``.
``--spectra LABEL DIR`` (repeated): ``IMG/sr_spectra.png``, the mean power spectra of
super-resolution outputs beside the truth's and bicubic's (:func:`spectrum_picture`), and
``OUT/peaks.md``, their periodic peak at every kept checkpoint (:func:`checkpoint_peaks`).
Writes ``OUT/tables.md`` and copies each workdir's json files to ``OUT/<dir name>/``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

import numpy as np

from benchmarks.sample_tables import wall_seconds
from jaxgen.train.outputs import cpu_info

COLUMNS = [("psnr", "PSNR (dB)", "{:.2f}"), ("ssim", "SSIM", "{:.3f}"),
           ("sharpness", "sharpness", "{:.4f}"), ("colourfulness", "colourfulness", "{:.1f}"),
           ("periodic_peak", "peak at the upsampling period (dB)", "{:.1f}"),
           ("accuracy", "classified correctly", "{:.1%}")]


def _load(path: str) -> dict:
  with open(path) as f:
    return json.load(f)


def pair_table(name: str, l1_dir: str, gan_dir: str) -> str:
  """The markdown table of one pix2pix task: baselines, L1 only, L1 + GAN, truth."""
  l1, gan = _load(os.path.join(l1_dir, "eval.json")), _load(os.path.join(gan_dir, "eval.json"))
  columns = [c for c in COLUMNS if c[0] in l1]
  baselines = [b for b in ("nearest", "bicubic", "gray") if f"{b}_psnr" in l1]
  rows = [(f"{b} {'upsampling' if b != 'gray' else 'image (luminance only)'}",
           {k: l1.get(f"{b}_{k}") for k, _, _ in columns}) for b in baselines]
  for label, result, wd in (("pix2pix, L1 only", l1, l1_dir), ("pix2pix, L1 + GAN", gan, gan_dir)):
    secs = wall_seconds(wd)
    rows.append((label + (f" ({result['step']} steps, {secs / 60:.1f} min)" if secs else ""),
                 {k: result.get(k) for k, _, _ in columns}))
    chosen = result.get("selected")
    if chosen:      # the step chosen on the validation split (eval.select_on)
      metric = chosen["select_on"]
      rows.append((f"{label}, selected step {chosen['step']} (validation {metric} "
                   f"{chosen['validation_' + metric]:.2f})",
                   {k: chosen.get(k) for k, _, _ in columns}))
  rows.append(("truth (held-out targets)", {k: l1.get(f"truth_{k}") for k, _, _ in columns}))
  lines = [f"#### {name} ({l1['num_test_examples']} test examples)", "",
           "| | " + " | ".join(h for _, h, _ in columns) + " |",
           "|---|" + "---|" * len(columns)]
  for label, vals in rows:
    cells = ["" if vals[k] is None else fmt.format(vals[k]) for k, _, fmt in columns]
    lines.append(f"| {label} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def pair_picture(path: str, l1_dir: str, gan_dir: str, num: int = 8) -> str:
  """input | baseline | L1 only | L1 + GAN | truth for ``num`` test examples spread over
  the test split (each model at its last step, which the column label names)."""
  import jax
  from jaxgen.evaluation import image_quality as iq
  from jaxgen.plotting import image_table
  from jaxgen.uses.loading import load

  l1, gan = load(l1_dir), load(gan_dir)
  data = l1.dataset
  n = data.test.shape[0]
  idx = np.linspace(0, n - 1, num).astype(int)
  truth = data.test[idx].astype(np.float32) / 255
  inputs = data.test_inputs[idx].astype(np.float32) / 255
  shape = truth.shape[1:3]
  big = np.asarray(jax.image.resize(inputs, (num,) + shape + inputs.shape[-1:], "nearest"))
  if data.info.get("task") == "colorization":
    baseline, name = np.repeat(inputs, truth.shape[-1], -1), "gray"
  else:
    baseline, name = iq.upsample(inputs, shape, "bicubic"), "bicubic"
  cond = l1.test_x["cond"][idx]
  cols = [big, baseline, np.asarray(l1.translate(cond)), np.asarray(gan.translate(cond)), truth]
  cols = [np.broadcast_to(c, truth.shape) if c.shape[-1] != truth.shape[-1] else c for c in cols]
  image_table(path, np.stack(cols, 1), row_labels=[str(i) for i in idx],
              column_labels=["input", name, f"L1 only ({int(l1.state.step)})",
                             f"L1 + GAN ({int(gan.state.step)})", "truth"], scale=3,
              title=f"{data.name}: held-out test examples")
  return path


def spectrum_picture(path: str, dirs: dict[str, str]) -> str:
  """The power spectra (log, zero frequency at the centre, averaged over the whole test
  split, one gray scale for all) of the truth, bicubic upsampling and each model in
  ``dirs`` (label -> workdir, at its last step): a periodic artifact
  of the upsampling path is a bright dot on the grid of the x4 period (every 8th frequency
  here) that the truth has not. The numbers are ``periodic_peak`` in each ``eval.json``."""
  from jaxgen.evaluation import image_quality as iq
  from jaxgen.plotting import image_table
  from jaxgen.uses.loading import load

  def spectrum(images):
    return np.fft.fftshift(np.log10(iq.power_spectrum(images) + 1e-12))

  first = None
  cols, labels = [], []
  for label, d in dirs.items():
    t = load(d)
    if first is None:
      first = t
      truth = t.dataset.test.astype(np.float32) / 255
      low = t.dataset.test_inputs.astype(np.float32) / 255
      cols += [spectrum(truth), spectrum(iq.upsample(low, truth.shape[1:3], "bicubic"))]
      labels += ["truth", "bicubic"]
    cols.append(spectrum(t.translations(t.test_x["cond"])))
    labels.append(f"{label} ({int(t.state.step)})")
  lo = min(np.percentile(c, 1) for c in cols)
  hi = max(c.max() for c in cols)
  panels = np.stack([np.clip((c - lo) / (hi - lo), 0, 1) for c in cols])[None, ..., None]
  image_table(path, panels, column_labels=labels, scale=4,
              title="mean power spectrum of the test outputs (log)")
  return path


def checkpoint_peaks(dirs: dict[str, str]) -> str:
  """For each super-resolution workdir (label -> workdir): PSNR, sharpness and
  ``periodic_peak`` of its outputs on the test split at every checkpoint it kept, beside
  bicubic's and the truth's peak: whether a periodic artifact comes and goes."""
  import jax
  from jaxgen.checkpoint import Checkpointer
  from jaxgen.evaluation import image_quality as iq
  from jaxgen.uses.loading import load
  lines = ["| run | step | PSNR (dB) | sharpness | periodic peak (dB) |", "|---|---|---|---|---|"]
  reference = None
  for label, d in dirs.items():
    t = load(d)
    truth = t.dataset.test.astype(np.float32) / 255
    scale = truth.shape[1] // t.dataset.test_inputs.shape[1]
    if reference is None:
      low = t.dataset.test_inputs.astype(np.float32) / 255
      reference = (iq.periodic_peak(iq.upsample(low, truth.shape[1:3], "bicubic"), scale),
                   iq.periodic_peak(truth, scale))
    ckpt = Checkpointer(os.path.join(d, "checkpoints"), t.config.keep_checkpoints, log=lambda s: None)
    translate = jax.jit(t.model.translate)
    for step in sorted(ckpt.all_steps()):
      state = ckpt.restore(t.run.abstract_state(), step)
      out = np.concatenate([np.asarray(translate(state, t.test_x["cond"][i:i + 250]))
                            for i in range(0, truth.shape[0], 250)])
      lines.append(f"| {label} | {step:,} | {np.mean(iq.psnr(truth, out)):.2f} | "
                   f"{np.mean(iq.sharpness(out)):.4f} | {iq.periodic_peak(out, scale):.2f} |")
    ckpt.close()
  lines.append(f"| bicubic | | | | {reference[0]:.2f} |")
  lines.append(f"| truth | | | | {reference[1]:.2f} |")
  return "\n".join(lines) + "\n"


def cvae_table(dirs: list[str]) -> str:
  lines = ["| conditional VAE | transfers classified as the target label | slant correlation "
           "(source, transfer) | shuffled pairs | test -log p(x\\|y) (nats) | training |",
           "|---|---|---|---|---|---|"]
  for d in dirs:
    st = _load(os.path.join(d, "explore", "style_transfer.json"))
    ev = _load(os.path.join(d, "eval.json"))
    secs = wall_seconds(d)
    lines.append(f"| {st['model']} | {st['transfer_accuracy']:.1%} | "
                 f"{st['slant_correlation']:.3f} | {st['slant_correlation_shuffled']:.3f} | "
                 f"{ev.get('nll', float('nan')):.2f} | "
                 f"{'' if secs is None else f'{secs / 60:.1f} min'} |")
  return "\n".join(lines) + "\n"


def main(argv=None) -> None:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--pair", nargs=3, action="append", default=[], metavar=("NAME", "L1", "GAN"))
  p.add_argument("--cvae", nargs="*", default=[])
  p.add_argument("--spectra", nargs=2, action="append", default=[], metavar=("LABEL", "DIR"),
                 help="super-resolution workdirs whose output spectra IMG/sr_spectra.png shows")
  p.add_argument("--out", default="results/conditional")
  p.add_argument("--img", default="docs/img")
  args = p.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  os.makedirs(args.img, exist_ok=True)
  cpu = cpu_info()
  parts = [f"Measured on {cpu.get('model', 'this CPU')} ({cpu.get('cores', '?')} cores).", ""]
  for name, l1, gan in args.pair:
    parts.append(pair_table(name, l1, gan))
    pair_picture(os.path.join(args.img, f"{name}.png"), l1, gan)
  if args.spectra:
    spectrum_picture(os.path.join(args.img, "sr_spectra.png"), dict(args.spectra))
    peaks = checkpoint_peaks(dict(args.spectra))
    parts.append("#### periodic peak at every kept checkpoint\n\n" + peaks)
    with open(os.path.join(args.out, "peaks.md"), "w") as f:
      f.write(peaks)
  if args.cvae:
    parts.append(cvae_table(args.cvae))
    shutil.copy(os.path.join(args.cvae[0], "explore", "analogies.png"),
                os.path.join(args.img, "cvae_analogies.png"))
  with open(os.path.join(args.out, "tables.md"), "w") as f:
    f.write("\n".join(parts))
  for d in [x for _, a, b in args.pair for x in (a, b)] + list(args.cvae):
    dest = os.path.join(args.out, os.path.basename(os.path.normpath(d)))
    os.makedirs(dest, exist_ok=True)
    for f in ("eval.json", "config.json", os.path.join("explore", "style_transfer.json")):
      if os.path.exists(os.path.join(d, f)):
        shutil.copy(os.path.join(d, f), os.path.join(dest, os.path.basename(f)))
  print("\n".join(parts))


if __name__ == "__main__":
  main()
