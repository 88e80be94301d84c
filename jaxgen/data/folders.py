"""Your own images as a dataset: a folder of image files (``image_folder``) or NumPy arrays
(``arrays``), read on the host into the same :class:`~jaxgen.data.dataset.Dataset` as the
built-in datasets, so every model, the trainer and the uses take them unchanged.

``dataset.name='image_folder'``, ``dataset.data_dir=<folder>``
  The layout of tfds's and torchvision's ``ImageFolder``: class subfolders give labels
  (their sorted names -> 0, 1, ...; ``info['class_names']``), image files directly in the
  folder give an unlabelled dataset. Where the folder holds ``train/`` and ``test/``
  subfolders (each laid out as above, the same classes in both) they are the splits;
  otherwise ``dataset.test_fraction`` of the images (of each class) is held out, chosen by
  ``dataset.split_seed`` — the same images for the same folder and seed. Files are read with
  Pillow (tfds's reader decodes with TensorFlow, which jaxgen does not install): PNG, JPEG,
  BMP, GIF (first frame), TIFF, WebP; gray, RGB, RGBA (alpha dropped) and palette images are
  converted to ``dataset.channels`` (1: gray, 3: RGB); with ``dataset.image_size`` > 0 each
  image is resized (``dataset.resize='resize'``, bicubic: the whole image, aspect ratio not
  kept) or centre-cropped to a square and then resized (``'center_crop'``) to that size;
  with 0 all images must share one size. A file Pillow cannot decode is an error naming it,
  or, with ``dataset.skip_corrupt=True``, left out and counted (``info['skipped']``).

  The decoded arrays are cached once per folder *fingerprint* — every file's relative path,
  size and modification time, and the options above — in ``dataset.cache_dir`` (default
  ``~/.cache/jaxgen/folders``): the second run with the same folder and options loads them
  at once; any file added, removed or changed gives a new fingerprint, so a new decode.

``dataset.name='paired_folder'``, ``dataset.data_dir=<folder>`` (pix2pix on your own pairs)
  ``inputs/`` and ``targets/`` subfolders of image files (or ``train/`` and ``test/``, each
  with its own ``inputs/`` and ``targets/``): an input and its target share a file name up
  to the extension (``001.png`` and ``001.jpg``). Targets are read as an image folder's
  images; inputs with ``dataset.input_channels`` and ``dataset.input_size`` (0: the
  targets' settings), so a super-resolution folder holds small inputs and a colorization
  folder gray ones. No labels. Cached like an image folder.

``dataset.pairs='sr2' | 'sr4' | 'gray'`` (with ``image_folder`` or ``arrays``)
  Pairs made from unpaired images, as the built-in paired datasets make theirs: each image
  is a target and its input is the image box-downsampled by 2 or 4 (super-resolution; the
  image size must divide) or its luminance (colorization; RGB images).

``dataset.name='arrays'``, ``dataset.data_dir=<file.npz or folder>``
  An ``.npz`` with ``x_train`` and ``x_test`` (and optionally ``y_train``, ``y_test``), or a
  folder with ``x_train.npy`` and ``x_test.npy`` (and optionally ``y_*.npy``). Images are
  [N, H, W] or [N, H, W, C] (C = 1 or 3); uint8 stays as it is; floats in [0, 1], in [-1, 1]
  or in [0, 255] are mapped to uint8 (``info['value_range']`` says which was found), so the
  usual preprocessing applies. Labels must be the integers 0..K-1.

Every problem is a :class:`~jaxgen.data.dataset.DataError` in one line that names the file
or folder and the fix, raised before anything compiles.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from typing import Callable, Optional

import numpy as np
from PIL import Image

from jaxgen.data import paired
from jaxgen.data.dataset import DataError, Dataset

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
RESIZE_MODES = ("resize", "center_crop")
FORMAT_VERSION = 1          # bump when the decoding changes: old caches are not reused


def default_cache_dir() -> str:
  return os.path.join(os.path.expanduser("~"), ".cache", "jaxgen", "folders")


# ------------------------------------------------------------------------------ folders
def _is_image(name: str) -> bool:
  return name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")


def _subdirs(folder: str) -> list[str]:
  return sorted(d for d in os.listdir(folder)
                if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))


def list_split(folder: str) -> tuple[list[str], Optional[list[int]], list[str]]:
  """The image files of one split folder (sorted), their labels (None for a flat folder)
  and the class names. DataError for an empty folder, one without images, or one that
  mixes images and class subfolders."""
  if not os.path.isdir(folder):
    raise DataError(f"image folder {folder!r} does not exist; set --config.dataset.data_dir to "
                    f"a folder of images (or of class subfolders of images)")
  entries = sorted(os.listdir(folder))
  files = [e for e in entries if os.path.isfile(os.path.join(folder, e)) and _is_image(e)]
  classes = _subdirs(folder)
  if files and classes:
    raise DataError(f"image folder {folder!r} holds both image files ({files[0]!r}, ...) and "
                    f"subfolders ({classes[0]!r}, ...); put every image in a class subfolder, "
                    f"or remove the subfolders for an unlabelled dataset")
  if files:
    return [os.path.join(folder, f) for f in files], None, []
  if not classes:
    others = [e for e in entries if not e.startswith(".")]
    what = (f"no image files (found {others[0]!r}, ...; images end in "
            f"{', '.join(IMAGE_EXTENSIONS)})" if others else "nothing")
    raise DataError(f"image folder {folder!r} holds {what}; put images in it, or in one "
                    f"subfolder per class")
  paths, labels = [], []
  for k, c in enumerate(classes):
    sub = os.path.join(folder, c)
    found = sorted(f for f in os.listdir(sub)
                   if os.path.isfile(os.path.join(sub, f)) and _is_image(f))
    if not found:
      raise DataError(f"class folder {sub!r} holds no image files; remove it or add images "
                      f"(images end in {', '.join(IMAGE_EXTENSIONS)})")
    paths += [os.path.join(sub, f) for f in found]
    labels += [k] * len(found)
  return paths, labels, classes


def decode_image(path, channels: int, image_size: int = 0,
                 resize: str = "resize") -> np.ndarray:
  """One image file (a path, or a binary file object) as uint8 [H, W, channels] (see the
  module docstring); raises the decoder's error for a file Pillow cannot read."""
  with Image.open(path) as img:
    img.seek(0)
    img = img.convert("L" if channels == 1 else "RGB")
    if image_size:
      if resize == "center_crop":
        w, h = img.size
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
      if img.size != (image_size, image_size):
        img = img.resize((image_size, image_size), Image.BICUBIC)
    x = np.asarray(img, np.uint8)
  return x[..., None] if x.ndim == 2 else x


def fingerprint(paths: list[str], root: str, options: dict) -> str:
  """SHA-256 of every file's path (relative to ``root``), size and modification time,
  and ``options``."""
  h = hashlib.sha256(json.dumps({"v": FORMAT_VERSION, **options}, sort_keys=True).encode())
  for p in paths:
    st = os.stat(p)
    h.update(f"{os.path.relpath(p, root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
  return h.hexdigest()[:32]


def _decode_all(paths: list[str], config, log: Callable[[str], None]) -> tuple[np.ndarray, np.ndarray]:
  """The decoded images of ``paths`` [N, H, W, C] and a mask of those kept."""
  channels, size, resize = int(config.channels), int(config.image_size), config.resize
  images, kept = [], np.ones(len(paths), bool)
  shape0, first = None, None
  t0 = time.perf_counter()
  for i, p in enumerate(paths):
    try:
      x = decode_image(p, channels, size, resize)
    except Exception as e:   # noqa: BLE001 - Pillow raises several kinds for a bad file
      if config.skip_corrupt:
        kept[i] = False
        continue
      raise DataError(f"cannot decode {p!r} ({type(e).__name__}: {e}); remove or replace it, "
                      f"or set --config.dataset.skip_corrupt=True to leave such files out"
                      ) from None
    if shape0 is None:
      shape0, first = x.shape, p
    elif x.shape != shape0:
      raise DataError(f"{p!r} is {x.shape[1]}x{x.shape[0]} but {first!r} is "
                      f"{shape0[1]}x{shape0[0]}; set --config.dataset.image_size (e.g. 64) to "
                      f"resize every image to one size")
    images.append(x)
    if (i + 1) % 2000 == 0:
      log(f"  decoded {i + 1}/{len(paths)} images ({time.perf_counter() - t0:.0f} s)")
  if not images:
    raise DataError(f"none of the {len(paths)} files could be decoded (the first: "
                    f"{paths[0]!r}); check that they are images")
  return np.stack(images), kept


def _held_out(labels: Optional[np.ndarray], n: int, fraction: float,
              seed: int) -> np.ndarray:
  """A boolean mask of the held-out rows: ``round(fraction * n_c)`` of each class (of all
  rows without labels), at least one, chosen by ``seed``."""
  rng = np.random.default_rng(seed)
  test = np.zeros(n, bool)
  groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c)
                                                   for c in np.unique(labels)]
  for rows in groups:
    k = max(1, int(round(fraction * rows.size)))
    if k >= rows.size:
      raise DataError(f"dataset.test_fraction={fraction} holds out all {rows.size} images of "
                      f"a class; add images or lower --config.dataset.test_fraction")
    test[rng.permutation(rows)[:k]] = True
  return test


def _list_folder(root: str) -> tuple[bool, dict]:
  """(whether ``root`` has train/ and test/, the listing of each split: ``{split: (paths,
  labels, class names)}``, the whole folder under ``""`` otherwise)."""
  has_splits = all(os.path.isdir(os.path.join(root, s)) for s in ("train", "test"))
  names = ("train", "test") if has_splits else ("",)
  return has_splits, {s: list_split(os.path.join(root, s)) for s in names}


def _build_folder(root: str, has_splits: bool, splits: dict, config,
                  log: Callable[[str], None]) -> dict:
  """The arrays of an image folder (decoded, split) from its listing (:func:`_list_folder`)."""
  if has_splits:
    (_, l_tr, c_tr), (_, l_te, c_te) = splits["train"], splits["test"]
    if (l_tr is None) != (l_te is None) or c_tr != c_te:
      only = sorted(set(c_te) - set(c_tr)) or sorted(set(c_tr) - set(c_te))
      raise DataError(f"{root!r}: train/ and test/ must have the same class subfolders "
                      f"(or both none); they differ in {only or 'labelled vs flat'}")
    paths = splits["train"][0] + splits["test"][0]
    labels = None if l_tr is None else l_tr + l_te
    classes = c_tr
    is_test = np.array([False] * len(splits["train"][0]) + [True] * len(splits["test"][0]))
  else:
    paths, labels, classes = splits[""]
    is_test = None
  images, kept = _decode_all(paths, config, log)
  labels = None if labels is None else np.asarray(labels, np.int32)[kept]
  if is_test is None:
    is_test = _held_out(labels, images.shape[0], float(config.test_fraction),
                        int(config.split_seed))
  else:
    is_test = is_test[kept]
  out = {"x_train": images[~is_test], "x_test": images[is_test],
         "skipped": np.array([os.path.relpath(p, root) for p, k in zip(paths, kept) if not k]),
         "class_names": np.array(classes), "has_splits": np.array(has_splits)}
  if labels is not None:
    out["y_train"], out["y_test"] = labels[~is_test], labels[is_test]
  return out


def _cached(key: str, dataset_config, log: Callable[[str], None], what: str,
            build: Callable[[], dict]) -> tuple[dict, str]:
  """The arrays cached under ``key`` in ``dataset.cache_dir``, else ``build()``'s, cached
  there (atomically: a reader never sees half a cache); and how they were obtained."""
  cache_dir = dataset_config.cache_dir or default_cache_dir()
  path = os.path.join(cache_dir, f"{key}.npz")
  if os.path.exists(path):
    with np.load(path) as f:
      return {k: f[k] for k in f.files}, f"loaded from the cache {path}"
  t0 = time.perf_counter()
  log(f"decoding {what} (cached after this)")
  arrays = build()
  os.makedirs(cache_dir, exist_ok=True)
  tmp = f"{path}.{os.getpid()}.tmp.npz"
  np.savez(tmp, **arrays)
  os.replace(tmp, path)
  return arrays, f"decoded in {time.perf_counter() - t0:.1f} s, cached in {path}"


def load_image_folder(dataset_config, log: Callable[[str], None] = print) -> Dataset:
  """The ``image_folder`` dataset of ``dataset_config`` (see the module docstring)."""
  root = os.path.abspath(os.path.expanduser(str(dataset_config.data_dir or "")))
  if not dataset_config.data_dir:
    raise DataError("dataset 'image_folder' reads the folder in --config.dataset.data_dir; set "
                    "it to a folder of images (or of class subfolders of images)")
  if int(dataset_config.channels) not in (1, 3):
    raise DataError(f"config.dataset.channels={dataset_config.channels} for an image folder; "
                    f"use 1 (gray) or 3 (RGB)")
  if dataset_config.resize not in RESIZE_MODES:
    raise DataError(f"config.dataset.resize={dataset_config.resize!r}; use one of "
                    f"{', '.join(RESIZE_MODES)}")
  if not os.path.isdir(root):
    raise DataError(f"image folder {root!r} does not exist; set --config.dataset.data_dir to a "
                    f"folder of images (or of class subfolders of images)")
  has_splits, splits = _list_folder(root)
  listed = [p for paths, _, _ in splits.values() for p in paths]
  options = {k: dataset_config[k] for k in ("channels", "image_size", "resize", "skip_corrupt",
                                            "test_fraction", "split_seed")}
  key = fingerprint(listed, root, options)
  arrays, how = _cached(key, dataset_config, log, f"{len(listed)} images of {root}",
                        lambda: _build_folder(root, has_splits, splits, dataset_config, log))
  skipped = [str(s) for s in arrays["skipped"]]
  if skipped:
    log(f"skipped {len(skipped)} file(s) that could not be decoded, e.g. {skipped[0]}")
  classes = [str(c) for c in arrays["class_names"]]
  info = {"source": f"image folder {root} ({how})", "fingerprint": key,
          "skipped": skipped, "class_names": classes,
          "split": "train/ and test/" if bool(arrays["has_splits"]) else
                   f"held-out fraction {dataset_config.test_fraction} (seed "
                   f"{dataset_config.split_seed})"}
  if classes:
    info["num_classes"] = len(classes)
  return Dataset("image_folder", "image", arrays["x_train"], arrays["x_test"],
                 arrays.get("y_train"), arrays.get("y_test"), info=info)


def write_image_folder(root: str, train: np.ndarray, test: Optional[np.ndarray] = None,
                       train_labels=None, test_labels=None,
                       class_names: Optional[list[str]] = None) -> str:
  """Writes uint8 images [N, H, W, C] (C = 1 or 3) as PNG files in the layout
  ``image_folder`` reads: ``root/train/<class>/<i>.png`` and ``root/test/...`` (or, without
  ``test``, straight into ``root``), class folders named by ``class_names`` (default the
  label) where labels are given. Returns ``root``. E.g. a built-in dataset exported to try
  the folder path, or arrays to share as files."""

  def write(folder, images, labels):
    for i, x in enumerate(np.asarray(images, np.uint8)):
      sub = folder if labels is None else os.path.join(
          folder, class_names[int(labels[i])] if class_names else str(int(labels[i])))
      os.makedirs(sub, exist_ok=True)
      Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x).save(os.path.join(sub, f"{i:06d}.png"))

  if test is None:
    write(root, train, train_labels)
  else:
    write(os.path.join(root, "train"), train, train_labels)
    write(os.path.join(root, "test"), test, test_labels)
  return root


# ------------------------------------------------------------------------------- arrays
def to_uint8(x: np.ndarray, what: str) -> tuple[np.ndarray, str]:
  """Images of any of the supported value ranges as uint8 (and the range found)."""
  x = np.asarray(x)
  if x.dtype == np.uint8:
    return x, "uint8 [0, 255]"
  if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
    raise DataError(f"{what} has dtype {x.dtype}; images must be numbers")
  x = x.astype(np.float64)
  if not np.all(np.isfinite(x)):
    raise DataError(f"{what} holds NaN or infinite values; clean them first")
  lo, hi = float(x.min()), float(x.max())
  if lo >= 0 and hi <= 1:
    return np.rint(x * 255).astype(np.uint8), "[0, 1]"
  if lo >= -1 and hi <= 1:
    return np.rint((x + 1) * 127.5).astype(np.uint8), "[-1, 1]"
  if lo >= 0 and hi <= 255:
    return np.rint(x).astype(np.uint8), "[0, 255]"
  raise DataError(f"{what} has values in [{lo:g}, {hi:g}]; jaxgen maps [0, 1], [-1, 1] or "
                  f"[0, 255] to images: rescale the array into one of those")


def _images(x: np.ndarray, what: str) -> np.ndarray:
  if x.ndim == 3:
    x = x[..., None]
  if x.ndim != 4 or x.shape[-1] not in (1, 3):
    raise DataError(f"{what} has shape {list(x.shape)}; images must be [N, H, W] or "
                    f"[N, H, W, C] with C = 1 or 3")
  return x


def _labels(y, n: int, what: str) -> np.ndarray:
  y = np.asarray(y)
  if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
    raise DataError(f"{what} has shape {list(y.shape)} and dtype {y.dtype}; labels must be "
                    f"[{n}] integers, one per image")
  return y.astype(np.int32)


def load_arrays(dataset_config) -> Dataset:
  """The ``arrays`` dataset of ``dataset_config`` (see the module docstring)."""
  src = os.path.expanduser(str(dataset_config.data_dir or ""))
  if not src:
    raise DataError("dataset 'arrays' reads --config.dataset.data_dir: an .npz with x_train and "
                    "x_test, or a folder with x_train.npy and x_test.npy")
  if os.path.isdir(src):
    files = {k: os.path.join(src, f"{k}.npy") for k in ("x_train", "x_test", "y_train", "y_test")}
    missing = [f for k, f in files.items() if k.startswith("x") and not os.path.exists(f)]
    if missing:
      raise DataError(f"{missing[0]!r} does not exist; dataset 'arrays' needs x_train.npy and "
                      f"x_test.npy in {src!r} (y_train.npy, y_test.npy optional)")
    data = {k: np.load(f) for k, f in files.items() if os.path.exists(f)}
  elif os.path.isfile(src):
    try:
      with np.load(src) as f:
        data = {k: f[k] for k in f.files}
    except Exception as e:   # noqa: BLE001
      raise DataError(f"cannot read {src!r} as an .npz ({type(e).__name__}); save it with "
                      f"np.savez(path, x_train=..., x_test=...)") from None
    missing = [k for k in ("x_train", "x_test") if k not in data]
    if missing:
      raise DataError(f"{src!r} has no {missing[0]!r} (it holds {sorted(data)}); save it with "
                      f"np.savez(path, x_train=..., x_test=..., y_train=..., y_test=...)")
  else:
    raise DataError(f"{src!r} does not exist; set --config.dataset.data_dir to an .npz file or "
                    f"a folder of .npy files")
  x_train, rng_train = to_uint8(_images(data["x_train"], "x_train"), f"{src}: x_train")
  x_test, _ = to_uint8(_images(data["x_test"], "x_test"), f"{src}: x_test")
  has = ("y_train" in data, "y_test" in data)
  if has[0] != has[1]:
    raise DataError(f"{src!r} has {'y_train' if has[0] else 'y_test'} but not "
                    f"{'y_test' if has[0] else 'y_train'}; give labels for both splits or none")
  y_train = y_test = None
  info = {"source": f"arrays {src}", "value_range": rng_train}
  if has[0]:
    y_train = _labels(data["y_train"], x_train.shape[0], "y_train")
    y_test = _labels(data["y_test"], x_test.shape[0], "y_test")
    found = np.unique(np.concatenate([y_train, y_test]))
    if found[0] != 0 or found[-1] != found.size - 1:
      raise DataError(f"{src!r}: labels must be 0..K-1, found {found[:10].tolist()}"
                      f"{' ...' if found.size > 10 else ''}; renumber them with "
                      f"np.unique(y, return_inverse=True)")
    info["num_classes"] = int(found.size)
  return Dataset("arrays", "image", x_train, x_test, y_train, y_test, info=info)


PAIRS = ("sr2", "sr4", "gray")


def derive_pairs(dataset: Dataset, how: str) -> Dataset:
  """``dataset`` (unpaired images) as a paired dataset whose inputs are made from its
  images: ``'sr2'`` / ``'sr4'`` box-downsampled (:func:`jaxgen.data.paired.box_downsample`),
  ``'gray'`` their luminance (:func:`jaxgen.data.paired.luminance`); ``''`` leaves it as
  it is. Labels are kept. DataError (one line, the fix) where the images do not allow it."""
  if not how:
    return dataset
  if how not in PAIRS:
    raise DataError(f"config.dataset.pairs={how!r}; use one of {', '.join(PAIRS)} (or '')")
  if dataset.paired:
    raise DataError(f"dataset {dataset.name!r} is paired already; leave config.dataset.pairs "
                    f"empty")
  h, w, c = dataset.example_shape
  if how == "gray":
    if c != 3:
      raise DataError(f"config.dataset.pairs='gray' makes colorization pairs from RGB images, "
                      f"but {dataset.name!r} has {c} channel(s); set --config.dataset.channels=3")
    make = paired.luminance
  else:
    factor = int(how[2:])
    if h % factor or w % factor:
      raise DataError(f"config.dataset.pairs={how!r} box-downsamples by {factor}, but the "
                      f"images are {w}x{h}; set --config.dataset.image_size to a multiple of "
                      f"{factor}")
    make = lambda x: paired.box_downsample(x, factor)   # noqa: E731
  splits = {"train_inputs": make(dataset.train), "test_inputs": make(dataset.test)}
  if dataset.val is not None:
    splits["val_inputs"] = make(dataset.val)
  task = ({"task": "colorization"} if how == "gray" else
          {"task": "super_resolution", "scale": int(how[2:])})
  return dataclasses.replace(dataset, **splits, info={**dataset.info, "pairs": how, **task})


def pair_task(input_shape, target_shape) -> dict:
  """What a pair of these shapes is for (``info['task']``, which the translation judge's
  baselines follow): 'colorization' for inputs of one channel and targets of three, the
  same size; else 'super_resolution' (``scale``: the size ratio, when a whole number)."""
  if input_shape[:2] == target_shape[:2] and input_shape[-1] == 1 and target_shape[-1] == 3:
    return {"task": "colorization"}
  ratio = target_shape[0] / input_shape[0]
  return {"task": "super_resolution", "scale": int(ratio) if ratio == int(ratio) else 1}


def _pair_paths(folder: str) -> tuple[list[str], list[str]]:
  """(input paths, target paths) of a paired split folder, matched by file name up to the
  extension, sorted by name. DataError naming the folder or file and the fix."""
  dirs = [os.path.join(folder, d) for d in ("inputs", "targets")]
  for d in dirs:
    if not os.path.isdir(d):
      raise DataError(f"paired folder {folder!r} has no {os.path.basename(d)}/ subfolder; put "
                      f"the inputs in {folder}/inputs and their targets in {folder}/targets, "
                      f"one file each with the same name")
  stems = []
  for d in dirs:
    paths, labels, _ = list_split(d)
    if labels is not None:
      raise DataError(f"{d!r} holds subfolders; a paired folder's inputs/ and targets/ hold "
                      f"image files directly")
    by_stem = {}
    for p in paths:
      stem = os.path.splitext(os.path.basename(p))[0]
      if stem in by_stem:
        raise DataError(f"{d!r} holds two files named {stem!r} ({os.path.basename(by_stem[stem])}"
                        f", {os.path.basename(p)}); keep one")
      by_stem[stem] = p
    stems.append(by_stem)
  inputs, targets = stems
  for mine, other, name in ((inputs, targets, "targets"), (targets, inputs, "inputs")):
    alone = sorted(set(mine) - set(other))
    if alone:
      raise DataError(f"{mine[alone[0]]!r} has no partner in {name}/ ({len(alone)} such file(s)); "
                      f"an input and its target share a file name up to the extension")
  names = sorted(inputs)
  return [inputs[n] for n in names], [targets[n] for n in names]


def load_paired_folder(dataset_config, log: Callable[[str], None] = print) -> Dataset:
  """The ``paired_folder`` dataset of ``dataset_config`` (see the module docstring)."""
  if not dataset_config.data_dir:
    raise DataError("dataset 'paired_folder' reads the folder in --config.dataset.data_dir; set "
                    "it to a folder with inputs/ and targets/ subfolders")
  root = os.path.abspath(os.path.expanduser(str(dataset_config.data_dir)))
  if not os.path.isdir(root):
    raise DataError(f"paired folder {root!r} does not exist; set --config.dataset.data_dir to a "
                    f"folder with inputs/ and targets/ subfolders")
  has_splits = all(os.path.isdir(os.path.join(root, s)) for s in ("train", "test"))
  names = ("train", "test") if has_splits else ("",)
  listing = {s: _pair_paths(os.path.join(root, s)) for s in names}
  listed = [p for ins, tgts in listing.values() for p in ins + tgts]
  options = {k: dataset_config[k] for k in ("channels", "image_size", "resize", "skip_corrupt",
                                            "test_fraction", "split_seed", "input_channels",
                                            "input_size")}
  key = "pairs-" + fingerprint(listed, root, options)
  arrays, how = _cached(key, dataset_config, log, f"{len(listed)} images of {root}",
                        lambda: _build_pairs(listing, has_splits, dataset_config, log))
  skipped = [str(s) for s in arrays["skipped"]]
  if skipped:
    log(f"skipped {len(skipped)} pair(s) with a file that could not be decoded, e.g. "
        f"{skipped[0]}")
  info = {"source": f"paired folder {root} ({how})", "fingerprint": key, "skipped": skipped,
          **pair_task(arrays["i_train"].shape[1:], arrays["x_train"].shape[1:]),
          "split": "train/ and test/" if has_splits else
                   f"held-out fraction {dataset_config.test_fraction} (seed "
                   f"{dataset_config.split_seed})"}
  return Dataset("paired_folder", "image", arrays["x_train"], arrays["x_test"], info=info,
                 train_inputs=arrays["i_train"], test_inputs=arrays["i_test"])


def _build_pairs(listing: dict, has_splits: bool, config, log) -> dict:
  inputs = [p for ins, _ in listing.values() for p in ins]
  targets = [p for _, tgts in listing.values() for p in tgts]
  input_config = config.copy_and_resolve_references()      # the inputs' own size and mode
  input_config.channels = int(config.input_channels) or int(config.channels)
  input_config.image_size = int(config.input_size) or int(config.image_size)
  t_images, t_kept = _decode_all(targets, config, log)
  i_images, i_kept = _decode_all(inputs, input_config, log)
  kept = t_kept & i_kept
  t_images = t_images[kept[t_kept]]
  i_images = i_images[kept[i_kept]]
  if has_splits:
    n_train = len(listing["train"][0])
    is_test = np.arange(len(targets)) >= n_train
    is_test = is_test[kept]
  else:
    is_test = _held_out(None, int(kept.sum()), float(config.test_fraction),
                        int(config.split_seed))
  skipped = [os.path.relpath(t, os.path.dirname(os.path.dirname(t)))
             for t, k in zip(targets, kept) if not k]
  return {"x_train": t_images[~is_test], "x_test": t_images[is_test],
          "i_train": i_images[~is_test], "i_test": i_images[is_test],
          "skipped": np.array(skipped)}


def load(name: str, dataset_config=None) -> Dataset:
  """``image_folder``, ``paired_folder`` or ``arrays`` (see the module docstring); an
  unpaired one made paired by ``dataset.pairs`` (:func:`derive_pairs`)."""
  if dataset_config is None:
    raise DataError(f"dataset {name!r} needs a config: set --config.dataset.data_dir")
  if name == "paired_folder":
    return load_paired_folder(dataset_config)
  if name == "image_folder":
    dataset = load_image_folder(dataset_config)
  elif name == "arrays":
    dataset = load_arrays(dataset_config)
  else:
    raise DataError(f"jaxgen.data.folders has no dataset {name!r}; use image_folder, "
                    f"paired_folder or arrays")
  return derive_pairs(dataset, dataset_config.get("pairs", ""))
