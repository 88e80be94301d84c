"""Paired (image-to-image) datasets: digit super-resolution from mnist_subset, and photo
super-resolution / colorization from the photographs shipped in scikit-image and
scikit-learn, split by photograph."""
from __future__ import annotations

import numpy as np
import pytest

from jaxgen.config import base_config
from jaxgen.data import load_dataset, mnist_subset, paired

COLOUR_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina",
                "immunohistochemistry", "stereo_motorcycle", "china", "flower")
GRAY_NAMES = ("camera", "moon", "coins", "clock", "brick", "grass", "gravel", "cell", "page",
              "text", "microaneurysms")
PHOTO_NAMES = COLOUR_NAMES + GRAY_NAMES


def _dataset_config(name: str):
  c = base_config().dataset
  c.name = name
  return c


def _box_by_hand(image: np.ndarray, f: int) -> np.ndarray:
  """Box average of one uint8 image [H, W, C] in plain Python loops, rounded half to even."""
  h, w, c = image.shape
  out = np.zeros((h // f, w // f, c), np.uint8)
  for i in range(h // f):
    for j in range(w // f):
      for k in range(c):
        total = sum(int(image[i * f + a, j * f + b, k]) for a in range(f) for b in range(f))
        out[i, j, k] = round(total / (f * f))   # Python's round: half to even
  return out


def _reduce_by_hand(photo: np.ndarray, f: int) -> np.ndarray:
  """A photograph cropped at the top left to multiples of f, box-averaged, rounded, as RGB
  (a gray one [H, W, 1] with R = G = B)."""
  h, w = photo.shape[0] // f * f, photo.shape[1] // f * f
  blocks = photo[:h, :w].astype(np.int64).reshape(h // f, f, w // f, f, photo.shape[-1])
  reduced = np.rint(blocks.sum(axis=(1, 3)) / (f * f)).astype(np.uint8)
  return np.broadcast_to(reduced, reduced.shape[:2] + (3,))


def _find(photo: np.ndarray, patches: np.ndarray) -> list[tuple[int, int, int]]:
  """Every (patch index, y, x) where one of ``patches`` [N, 32, 32, 3] occurs exactly in
  ``photo`` [H, W, 3]: a weighted-sum key of each patch's most varied row is looked up among
  the keys of all 32-pixel row windows of the photo, and each hit is compared in full."""
  w = np.random.RandomState(0).randint(1, 2 ** 20, size=(32, 3)).astype(np.int64)
  width = photo.shape[1] - 31
  keys = np.zeros((photo.shape[0], width), np.int64)
  for dx in range(32):
    keys += photo[:, dx:dx + width].astype(np.int64) @ w[dx]
  rows = patches.astype(np.float64).std(axis=(2, 3)).argmax(axis=1)
  patch_keys = np.einsum("nxc,xc->n", patches[np.arange(len(patches)), rows].astype(np.int64), w)
  found = []
  for y, x in zip(*np.nonzero(np.isin(keys, patch_keys))):
    for i in np.flatnonzero(patch_keys == keys[y, x]):
      top = y - rows[i]
      if 0 <= top <= photo.shape[0] - 32 and x <= photo.shape[1] - 32 and \
         np.array_equal(photo[top:top + 32, x:x + 32], patches[i]):
        found.append((int(i), int(top), int(x)))
  return found


def test_box_downsample_by_hand():
  x = np.array([[[1, 2], [4, 4], [1, 2], [3, 5]],
                [[4, 3], [2, 3], [3, 4], [5, 2]]], np.uint8)   # [2, 4, 2]
  # blocks: channel 0 {1,4,4,2} = 2.75 -> 3, {1,3,3,5} = 3.0; channel 1 {2,4,3,3} = 3.0,
  # {2,5,4,2} = 3.25 -> 3
  out = paired.box_downsample(x, 2)
  assert out.dtype == np.uint8 and out.shape == (1, 2, 2)
  np.testing.assert_array_equal(out, [[[3, 3], [3, 3]]])
  np.testing.assert_allclose(paired.box_downsample(x.astype(np.float32), 2),
                             [[[2.75, 3.0], [3.0, 3.25]]])
  assert paired.box_downsample(x.astype(np.float32), 2).dtype == np.float32
  # rounding, not truncation: 1.75 -> 2; ties to even: 2.5 -> 2, 3.5 -> 4
  ties = np.array([[1, 2, 2, 3, 3, 4],
                   [2, 2, 2, 3, 3, 4]], np.uint8)[None, :, :, None]   # 1.75, 2.5, 3.5
  np.testing.assert_array_equal(paired.box_downsample(ties, 2)[0, 0, :, 0], [2, 2, 4])
  np.testing.assert_array_equal(paired.box_downsample(np.full((2, 4, 4, 3), 200, np.uint8), 4),
                                np.full((2, 1, 1, 3), 200, np.uint8))
  with pytest.raises(ValueError, match="not multiples of the factor 3"):
    paired.box_downsample(x, 3)


def test_luminance_of_pure_colours():
  rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]], np.uint8)
  y = paired.luminance(rgb[:, None, None])       # [5, 1, 1, 3] images
  assert y.shape == (5, 1, 1, 1) and y.dtype == np.uint8
  # 0.299 * 255 = 76.245, 0.587 * 255 = 149.685, 0.114 * 255 = 29.07
  np.testing.assert_array_equal(y.ravel(), [76, 150, 29, 255, 0])
  # (1, 37, 13): Y = 23.5 exactly, a tie rounded to even (a float sum gives 23.499999...)
  # (1, 38, 13): 24.087 -> 24
  np.testing.assert_array_equal(paired.luminance(np.array([[1, 37, 13], [1, 38, 13]], np.uint8)),
                                [[24], [24]])
  yf = paired.luminance(rgb.astype(np.float32) / 255)
  assert yf.shape == (5, 1) and yf.dtype == np.float32
  np.testing.assert_allclose(yf.ravel(), [0.299, 0.587, 0.114, 1.0, 0.0], rtol=1e-6)


@pytest.mark.parametrize("name, f", [("mnist_sr2", 2), ("mnist_sr4", 4)])
def test_mnist_super_resolution(name, f):
  ds = load_dataset(_dataset_config(name))
  base = mnist_subset.load()
  side = 28 // f
  assert ds.name == name and ds.paired
  assert ds.train_inputs.shape == (4000, side, side, 1)
  assert ds.test_inputs.shape == (1000, side, side, 1)
  assert ds.train_inputs.dtype == np.uint8 and ds.test_inputs.dtype == np.uint8
  np.testing.assert_array_equal(ds.train, base.train)          # targets unchanged, same order
  np.testing.assert_array_equal(ds.test, base.test)
  np.testing.assert_array_equal(ds.train_labels, base.train_labels)
  np.testing.assert_array_equal(ds.test_labels, base.test_labels)
  for i in (0, 1, 1234, 3999):
    np.testing.assert_array_equal(ds.train_inputs[i], _box_by_hand(ds.train[i], f))
  for i in (0, 500, 999):
    np.testing.assert_array_equal(ds.test_inputs[i], _box_by_hand(ds.test[i], f))
  assert ds.info["task"] == "super_resolution" and ds.info["scale"] == f
  assert ds.info["num_classes"] == 10 and ds.info["base_dataset"] == "mnist_subset"


def test_photographs_ship_with_the_packages():
  photos = paired.photographs()
  assert tuple(photos) == PHOTO_NAMES
  for name, img in photos.items():
    channels = 3 if name in COLOUR_NAMES else 1
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == channels, name
    f = paired.REDUCTION[name]
    assert f == paired.reduction(*img.shape[:2]), name
    # the largest factor keeping the short side >= 256 (1 for a photograph already shorter)
    assert min(img.shape[:2]) // f >= 256 or f == 1, name
    assert min(img.shape[:2]) // (f + 1) < 256, name
  assert photos["astronaut"].shape == (512, 512, 3) and photos["flower"].shape == (427, 640, 3)
  assert photos["camera"].shape == (512, 512, 1) and photos["text"].shape == (172, 448, 1)
  import skimage.data
  np.testing.assert_array_equal(photos["stereo_motorcycle"], skimage.data.stereo_motorcycle()[0])


@pytest.fixture(scope="module")
def photo_sets():
  return {name: load_dataset(_dataset_config(name)) for name in ("photos_sr4", "photos_color")}


def test_photo_datasets_shapes_and_inputs(photo_sets):
  sr, color = photo_sets["photos_sr4"], photo_sets["photos_color"]
  n_train, n_test, n_val = sr.train.shape[0], sr.test.shape[0], sr.val.shape[0]
  assert 4000 <= n_train <= 6000 and 300 <= n_test <= 1000 and 200 <= n_val <= 500
  for ds in (sr, color):
    assert ds.test.shape == (n_test, 32, 32, 3) and ds.val.shape == (n_val, 32, 32, 3)
    assert ds.train.dtype == np.uint8 and ds.train_labels is None and ds.test_labels is None
    np.testing.assert_array_equal(ds.test, sr.test)              # the same held-out patches
    np.testing.assert_array_equal(ds.val, sr.val)
  # colorization trains on the colour photographs only: the super-resolution set's rows
  # from those photographs, in the same order
  colour_rows = np.isin(np.array(sr.info["train_photos"])[sr.info["train_photo_index"]],
                        color.info["train_photos"])
  np.testing.assert_array_equal(color.train, sr.train[colour_rows])
  assert color.info["train_photos"] == [n for n in sr.info["train_photos"] if n in COLOUR_NAMES]
  assert 2000 <= color.train.shape[0] < n_train
  gray = sr.train[~colour_rows]
  assert gray.shape[0] > 1000 and np.all(gray[..., 0] == gray[..., 1]) \
      and np.all(gray[..., 1] == gray[..., 2])
  assert sr.info["task"] == "super_resolution" and sr.info["scale"] == 4
  assert color.info["task"] == "colorization" and "scale" not in color.info
  assert sr.train_inputs.shape == (n_train, 8, 8, 3) and sr.test_inputs.shape == (n_test, 8, 8, 3)
  assert sr.train_inputs.dtype == np.uint8 and sr.val_inputs.shape == (n_val, 8, 8, 3)
  for i in (0, n_val - 1):
    np.testing.assert_array_equal(sr.val_inputs[i], _box_by_hand(sr.val[i], 4))
  for i in (0, 777, n_train - 1):
    np.testing.assert_array_equal(sr.train_inputs[i], _box_by_hand(sr.train[i], 4))
  for i in (0, n_test - 1):
    np.testing.assert_array_equal(sr.test_inputs[i], _box_by_hand(sr.test[i], 4))
  assert color.train_inputs.shape == (color.train.shape[0], 32, 32, 1)
  assert color.train_inputs.dtype == np.uint8
  for split in ("train", "val", "test"):
    rgb = getattr(color, split).astype(np.int64)
    per_mille = 299 * rgb[..., 0] + 587 * rgb[..., 1] + 114 * rgb[..., 2]   # exact ties
    y = np.rint(per_mille / 1000).astype(np.uint8)
    np.testing.assert_array_equal(getattr(color, f"{split}_inputs")[..., 0], y)


def test_photo_split_is_by_photograph(photo_sets):
  ds = photo_sets["photos_sr4"]
  info = ds.info
  train_names, test_names = info["train_photos"], info["test_photos"]
  val_names = info["val_photos"]
  assert not set(train_names) & set(test_names)
  assert not set(val_names) & (set(train_names) | set(test_names))
  assert sorted(train_names + val_names + test_names) == sorted(PHOTO_NAMES)
  assert tuple(test_names) == paired.TEST_PHOTOS == ("chelsea", "coffee", "flower")
  assert tuple(val_names) == ("stereo_motorcycle",)
  for split, names in (("train", train_names), ("val", val_names), ("test", test_names)):
    assert set(np.unique(info[f"{split}_photo_index"])) == set(range(len(names)))
  photos = paired.photographs()
  reduced = {n: _reduce_by_hand(photos[n], paired.REDUCTION[n]) for n in PHOTO_NAMES}
  # every patch is the crop at its recorded position of its own photograph, on its grid
  for split, names, stride in (("train", train_names, 16), ("val", val_names, 32),
                               ("test", test_names, 32)):
    patches, index, yx = getattr(ds, split), info[f"{split}_photo_index"], info[f"{split}_patch_yx"]
    assert index.shape == (patches.shape[0],) and yx.shape == (patches.shape[0], 2)
    assert np.all(yx % stride == 0)
    crops = np.stack([reduced[names[k]][y:y + 32, x:x + 32] for k, (y, x) in zip(index, yx)])
    np.testing.assert_array_equal(patches, crops)
  # no test or validation patch occurs anywhere in a training photograph (at the
  # reduction used), nor a test patch in the validation photograph ...
  for name in train_names:
    assert _find(np.ascontiguousarray(reduced[name]), ds.test) == [], name
    assert _find(np.ascontiguousarray(reduced[name]), ds.val) == [], name
  assert _find(reduced["stereo_motorcycle"], ds.test) == []
  # ... while the search does find test patches in their own photograph
  first = np.flatnonzero(info["test_photo_index"] == 0)[:5]
  hits = _find(reduced[test_names[0]], ds.test[first])
  assert {(i, y, x) for i, y, x in hits} >= {(i, *map(int, info["test_patch_yx"][j]))
                                             for i, j in enumerate(first)}


def test_flat_patches_are_dropped(photo_sets):
  ds = photo_sets["photos_color"]
  for split in ("train", "val", "test"):
    rgb = getattr(ds, split).astype(np.float64)
    y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    assert y.std(axis=(1, 2)).min() >= paired.FLAT_STD
  dropped = ds.info["dropped"]
  for split, stride in (("train", 16), ("val", 32), ("test", 32)):
    names = ds.info[f"{split}_photos"]
    counts = np.bincount(ds.info[f"{split}_photo_index"], minlength=len(names))
    for k, name in enumerate(names):
      h, w = (np.array(paired.photographs()[name].shape[:2]) // paired.REDUCTION[name])
      grid = ((h - 32) // stride + 1) * ((w - 32) // stride + 1)
      assert counts[k] + dropped[name] == grid, name
  assert dropped["rocket"] > 100 and dropped["china"] > 100 and dropped["retina"] > 0
  assert dropped["immunohistochemistry"] == 0


def test_photo_datasets_are_deterministic_and_cached(photo_sets):
  first = photo_sets["photos_sr4"]
  assert paired.load("photos_sr4") is first                   # cached in-process
  assert not first.train.flags.writeable                      # the cached arrays are shared
  for fn in (paired._photographs, paired._patch_splits, paired._photo_dataset):
    fn.cache_clear()
  again = paired.load("photos_sr4")
  assert again is not first
  for field in ("train", "test", "val", "train_inputs", "test_inputs", "val_inputs"):
    np.testing.assert_array_equal(getattr(again, field), getattr(first, field))
  for key in ("train_photo_index", "test_photo_index", "train_patch_yx", "test_patch_yx",
              "val_photo_index", "val_patch_yx"):
    np.testing.assert_array_equal(again.info[key], first.info[key])


def test_every_paired_name_loads_by_name():
  from jaxgen.data.registry import BUILTIN, available_datasets
  for name in ("mnist_sr2", "mnist_sr4", "photos_sr4", "photos_color"):
    assert name in available_datasets() and BUILTIN[name] == "jaxgen.data.paired"
    ds = load_dataset(_dataset_config(name))
    assert ds.name == name and ds.kind == "image" and ds.paired
  with pytest.raises(Exception, match="no dataset 'photos_sr3'"):
    paired.load("photos_sr3")
