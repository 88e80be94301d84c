"""Your own images: folders of image files and NumPy arrays read back exactly, labels from
sorted folder names, a held-out split fixed by its seed, a cache that follows the files,
and one-line errors for bad input."""
import os

import jax
import numpy as np
import pytest
from PIL import Image

from jaxgen.config import base_config
from jaxgen.data import DataError, folders, load_dataset


def _cfg(tmp_path, data_dir, **changes):
  c = base_config().dataset
  c.name = "image_folder"
  c.data_dir = str(data_dir)
  c.cache_dir = str(tmp_path / "cache")
  for k, v in changes.items():
    c[k] = v
  return c


def _write(path, array, mode=None):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(array, mode).save(path)


def _rgb(seed, size=8):
  return np.random.RandomState(seed).randint(0, 256, (size, size, 3), dtype=np.uint8)


def test_class_folders_read_back_exactly_with_sorted_labels(tmp_path):
  root = tmp_path / "pets"
  written = {}
  for cls in ("dog", "cat", "emu"):               # labels follow sorted names: cat 0, dog 1, emu 2
    for i in range(10):
      x = _rgb(100 * ("dog", "cat", "emu").index(cls) + i)   # distinct images
      _write(str(root / cls / f"{i:02d}.png"), x)
      written[(cls, i)] = x
  rgba = np.concatenate([_rgb(777), np.full((8, 8, 1), 128, np.uint8)], -1)
  _write(str(root / "emu" / "99_alpha.png"), rgba, "RGBA")   # alpha dropped, RGB kept
  ds = load_dataset(_cfg(tmp_path, root, test_fraction=0.2))
  assert ds.info["class_names"] == ["cat", "dog", "emu"] and ds.info["num_classes"] == 3
  everything = np.concatenate([ds.train, ds.test])
  labels = np.concatenate([ds.train_labels, ds.test_labels])
  assert everything.shape == (31, 8, 8, 3) and everything.dtype == np.uint8
  for (cls, i), x in written.items():             # each written array is there, with its label
    hit = np.flatnonzero((everything == x).all(axis=(1, 2, 3)))
    assert hit.size == 1 and labels[hit[0]] == ["cat", "dog", "emu"].index(cls), (cls, i)
  assert ((everything == rgba[..., :3]).all(axis=(1, 2, 3))).sum() == 1
  # 20% of each class held out: 2 of 10, 2 of 11
  assert np.bincount(ds.test_labels).tolist() == [2, 2, 2]


def test_gray_and_jpeg_and_flat_folder(tmp_path):
  root = tmp_path / "flat"
  gray = [np.random.RandomState(i).randint(0, 256, (6, 6), dtype=np.uint8) for i in range(5)]
  for i, g in enumerate(gray):
    _write(str(root / f"g{i}.png"), g, "L")
  ds = load_dataset(_cfg(tmp_path, root, channels=1, test_fraction=0.2))
  assert ds.train_labels is None and ds.test_labels is None and ds.info["class_names"] == []
  got = np.concatenate([ds.train, ds.test])[..., 0]
  assert sorted(map(bytes, got)) == sorted(map(bytes, gray))       # exact, lossless
  # a JPEG decodes close to what was written (lossy), RGB -> gray by Pillow's ITU-R 601
  jroot = tmp_path / "jpeg"
  x = np.full((16, 16, 3), (200, 100, 50), np.uint8)
  for i in range(3):
    _write(str(jroot / f"{i}.jpg"), x)
  d = load_dataset(_cfg(tmp_path, jroot, channels=1, test_fraction=0.3))
  expected = round(200 * 299 / 1000 + 100 * 587 / 1000 + 50 * 114 / 1000)
  assert abs(int(np.median(d.train)) - expected) <= 2


def test_held_out_split_is_disjoint_fixed_by_seed_and_train_test_folders_win(tmp_path):
  root = tmp_path / "many"
  for i in range(40):
    _write(str(root / f"{i:02d}.png"), _rgb(i))
  split = lambda seed: load_dataset(_cfg(tmp_path, root, split_seed=seed, test_fraction=0.25))  # noqa: E731
  a, b, c = split(0), split(0), split(1)
  assert a.test.shape[0] == 10 and a.train.shape[0] == 30
  key = lambda ds: sorted(bytes(x) for x in ds.test)   # noqa: E731
  assert key(a) == key(b) and key(a) != key(c)
  assert not set(map(bytes, a.test)) & set(map(bytes, a.train))
  # held out per class: 20% of 20, 5 and 5 images, whatever the seed
  uneven = tmp_path / "uneven"
  for cls, n in (("a", 20), ("b", 5), ("c", 5)):
    for i in range(n):
      _write(str(uneven / cls / f"{i}.png"), _rgb(1000 + 100 * ord(cls) + i))
  for seed in range(5):
    ds = load_dataset(_cfg(tmp_path, uneven, split_seed=seed, test_fraction=0.2))
    assert np.bincount(ds.test_labels).tolist() == [4, 1, 1], seed
  both = tmp_path / "both"
  for s, n in (("train", 6), ("test", 3)):
    for cls in ("a", "b"):
      for i in range(n):
        _write(str(both / s / cls / f"{i}.png"), _rgb(100 * (s == "test") + 10 * (cls == "b") + i))
  ds = load_dataset(_cfg(tmp_path, both))
  assert ds.train.shape[0] == 12 and ds.test.shape[0] == 6 and ds.info["split"] == "train/ and test/"
  np.testing.assert_array_equal(ds.test[0], _rgb(100))
  np.testing.assert_array_equal(ds.test_labels, [0, 0, 0, 1, 1, 1])


def test_sizes_resize_and_center_crop(tmp_path):
  root = tmp_path / "sizes"
  _write(str(root / "a.png"), _rgb(0, 8))
  wide = np.zeros((10, 20, 3), np.uint8)
  wide[:, 5:15] = 255                                 # the centre square is white
  _write(str(root / "b.png"), wide)
  _write(str(root / "c.png"), _rgb(2, 8))
  with pytest.raises(DataError, match=r"b.png' is 20x10 but .*a.png' is 8x8; set --config.dataset.image_size"):
    load_dataset(_cfg(tmp_path, root, test_fraction=0.3))
  ds = load_dataset(_cfg(tmp_path, root, image_size=4, resize="center_crop", test_fraction=0.3))
  everything = np.concatenate([ds.train, ds.test])
  assert everything.shape[1:] == (4, 4, 3)
  assert any((x == 255).all() for x in everything)   # the cropped wide image: all white


def test_the_cache_is_reused_and_follows_the_files(tmp_path):
  root = tmp_path / "c"
  for i in range(6):
    _write(str(root / f"{i}.png"), _rgb(i))
  first = load_dataset(_cfg(tmp_path, root, test_fraction=0.3))
  assert "decoded" in first.info["source"]
  again = load_dataset(_cfg(tmp_path, root, test_fraction=0.3))
  assert "loaded from the cache" in again.info["source"]
  np.testing.assert_array_equal(first.train, again.train)
  assert again.info["fingerprint"] == first.info["fingerprint"]
  new = _rgb(99)                                       # one file changes: decoded anew
  _write(str(root / "3.png"), new)
  os.utime(root / "3.png", ns=(1, 10 ** 18))
  changed = load_dataset(_cfg(tmp_path, root, test_fraction=0.3))
  assert changed.info["fingerprint"] != first.info["fingerprint"]
  assert "decoded" in changed.info["source"]
  assert any((x == new).all() for x in np.concatenate([changed.train, changed.test]))
  other = load_dataset(_cfg(tmp_path, root, test_fraction=0.3, channels=1))   # options count too
  assert other.info["fingerprint"] != changed.info["fingerprint"]


def test_bad_folders_are_one_line_errors(tmp_path):
  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(DataError, match="holds nothing; put images in it"):
    load_dataset(_cfg(tmp_path, empty))
  texts = tmp_path / "texts"
  texts.mkdir()
  (texts / "notes.txt").write_text("hello")
  with pytest.raises(DataError, match=r"no image files \(found 'notes.txt'"):
    load_dataset(_cfg(tmp_path, texts))
  with pytest.raises(DataError, match="does not exist"):
    load_dataset(_cfg(tmp_path, tmp_path / "nowhere"))
  with pytest.raises(DataError, match="reads the folder in --config.dataset.data_dir"):
    load_dataset(_cfg(tmp_path, ""))
  bad = tmp_path / "bad"
  for i in range(5):
    _write(str(bad / f"{i}.png"), _rgb(i))
  (bad / "broken.png").write_bytes(b"\x89PNG not really")
  with pytest.raises(DataError, match=r"cannot decode .*broken.png.*skip_corrupt=True"):
    load_dataset(_cfg(tmp_path, bad, test_fraction=0.3))
  ds = load_dataset(_cfg(tmp_path, bad, test_fraction=0.3, skip_corrupt=True))
  assert ds.info["skipped"] == ["broken.png"] and ds.train.shape[0] + ds.test.shape[0] == 5
  mixed = tmp_path / "mixed"
  _write(str(mixed / "a.png"), _rgb(0))
  _write(str(mixed / "cls" / "b.png"), _rgb(1))
  with pytest.raises(DataError, match="holds both image files"):
    load_dataset(_cfg(tmp_path, mixed))
  uneven = tmp_path / "uneven"
  _write(str(uneven / "train" / "a" / "0.png"), _rgb(0))
  _write(str(uneven / "train" / "b" / "0.png"), _rgb(1))
  _write(str(uneven / "test" / "a" / "0.png"), _rgb(2))
  _write(str(uneven / "test" / "c" / "0.png"), _rgb(3))
  with pytest.raises(DataError, match=r"same class subfolders .*\['c'\]"):
    load_dataset(_cfg(tmp_path, uneven))
  tiny = tmp_path / "tiny"
  _write(str(tiny / "only" / "0.png"), _rgb(0))
  with pytest.raises(DataError, match="holds out all 1 images of a class"):
    load_dataset(_cfg(tmp_path, tiny))


def _arrays_cfg(path):
  c = base_config().dataset
  c.name, c.data_dir = "arrays", str(path)
  return c


def test_arrays_npz_and_npy_in_any_value_range(tmp_path):
  rng = np.random.RandomState(0)
  x = rng.randint(0, 256, (20, 5, 5)).astype(np.uint8)
  for scale, offset, found in ((1 / 255, 0.0, "[0, 1]"), (2 / 255, -1.0, "[-1, 1]"),
                               (1.0, 0.0, "[0, 255]")):
    f = x.astype(np.float64) * scale + offset
    np.savez(tmp_path / "a.npz", x_train=f[:15], x_test=f[15:], y_train=np.arange(15) % 3,
             y_test=np.arange(5) % 3)
    ds = load_dataset(_arrays_cfg(tmp_path / "a.npz"))
    assert ds.info["value_range"] == found
    np.testing.assert_array_equal(ds.train[..., 0], x[:15])        # back to the exact bytes
    assert ds.train.shape == (15, 5, 5, 1) and ds.info["num_classes"] == 3
  d = tmp_path / "npy"
  d.mkdir()
  np.save(d / "x_train.npy", x[:15, ..., None])
  np.save(d / "x_test.npy", x[15:, ..., None])
  ds = load_dataset(_arrays_cfg(d))
  assert ds.train_labels is None
  np.testing.assert_array_equal(ds.test[..., 0], x[15:])


def test_bad_arrays_are_one_line_errors(tmp_path):
  x = np.zeros((4, 3, 3), np.uint8)
  p = tmp_path / "a.npz"
  np.savez(p, x_train=x, x_test=x, y_train=np.array([0, 2, 2, 5]), y_test=np.array([0, 0, 2, 5]))
  with pytest.raises(DataError, match=r"labels must be 0..K-1, found \[0, 2, 5\]"):
    load_dataset(_arrays_cfg(p))
  np.savez(p, x_train=x, y_train=np.zeros(4, int))
  with pytest.raises(DataError, match="has no 'x_test'"):
    load_dataset(_arrays_cfg(p))
  np.savez(p, x_train=x * 1.0 + 300, x_test=x)
  with pytest.raises(DataError, match=r"values in \[300, 300\]"):
    load_dataset(_arrays_cfg(p))
  np.savez(p, x_train=x, x_test=x, y_train=np.zeros(4, int))
  with pytest.raises(DataError, match="has y_train but not y_test"):
    load_dataset(_arrays_cfg(p))
  np.savez(p, x_train=np.zeros((4, 3, 3, 2)), x_test=x)
  with pytest.raises(DataError, match="C = 1 or 3"):
    load_dataset(_arrays_cfg(p))
  with pytest.raises(DataError, match="x_train.npy"):
    load_dataset(_arrays_cfg(tmp_path))


FOLDER_CONFIGS = [("vae_conv_folder", 32), ("vae_conv_folder", 64), ("dcgan_folder", 32),
                  ("dcgan_folder", 64), ("vae_mnist", 32), ("ae_mnist", 64),
                  ("pix2pix_sr_photos", 32), ("pix2pix_color_photos", 64)]


@pytest.fixture(scope="module")
def colour_folders(tmp_path_factory):
  """Two labelled folders of colour images, 32x32 and 64x64 (60 each: 2 classes)."""
  out = {}
  for size in (32, 64):
    root = tmp_path_factory.mktemp(f"colour{size}")
    for cls in ("a", "b"):
      for i in range(30):
        _write(str(root / cls / f"{i}.png"), _rgb(size * 100 + 50 * (cls == "b") + i, size))
    out[size] = root
  return out


@pytest.mark.parametrize("name, size", FOLDER_CONFIGS, ids=[f"{n}-{s}" for n, s in FOLDER_CONFIGS])
def test_colour_folder_configs_build_at_32_and_64(name, size, colour_folders, load_config,
                                                  tmp_path):
  """Each shipped folder config (and the MNIST configs with the folder overrides) validates
  and builds its networks for colour images of either size, before any compilation."""
  from jaxgen import train
  c = load_config(name)
  c.dataset.name, c.dataset.data_dir = "image_folder", str(colour_folders[size])
  c.dataset.channels, c.dataset.image_size = 3, size
  c.dataset.cache_dir = str(tmp_path / "cache")
  c.dataset.test_fraction = 0.3                 # 18 test images: more than a batch
  c.batch_size = 16
  if c.model.name == "pix2pix":        # pairs made from the images: x4 inputs, or gray ones
    c.dataset.pairs = "sr4" if "sr" in name else "gray"
    c.eval.select_on = ""
  elif c.model.name != "gan":
    c.model.likelihood = "gaussian"
    c.dataset.preprocess = c.dataset.eval_preprocess = "unit"
  run = train.build_run(c)
  assert run.dataset.example_shape == (size, size, 3)
  state = jax.eval_shape(run.init_state)          # the networks fit the image (no compile)
  assert jax.tree.leaves(state)


@pytest.mark.slow       # two compiled trainings at 32x32 and 64x64: 40 s
@pytest.mark.parametrize("name, size", [("vae_conv_folder", 32), ("dcgan_folder", 64)])
def test_colour_folder_configs_train(name, size, colour_folders, load_config, tiny, tmp_path):
  from jaxgen import train
  c = tiny(load_config(name), **{"dataset.data_dir": str(colour_folders[size]),
                                 "dataset.cache_dir": str(tmp_path / "cache"),
                                 "dataset.test_fraction": 0.3})
  c.batch_size, c.num_steps, c.log_every, c.eval_every, c.checkpoint_every = 16, 4, 2, 4, 4
  c.eval.num_metric_samples = 50
  if c.model.name == "gan":
    c.gan.features = 8
  state, result = train.train(c, str(tmp_path / "w"), log=lambda s: None)
  assert int(state.step) == 4 and all(np.isfinite(v) for v in result.values()
                                      if isinstance(v, float))


# ------------------------------------------------------------------ pairs for pix2pix
def _write_pairs(root, n, input_size=4, size=8, gray_inputs=False, split=""):
  """``n`` pairs: RGB targets size x size as PNG, inputs (input_size, gray or RGB) as PNG or
  BMP (pairs match by name up to the extension)."""
  pairs = {}
  for i in range(n):
    t = _rgb(1000 + i, size)
    x = _rgb(2000 + i, input_size)
    if gray_inputs:
      x = x[..., 0]
    ext = ".bmp" if i % 2 else ".png"
    _write(str(root / split / "inputs" / f"p{i:03d}{ext}"), x)
    _write(str(root / split / "targets" / f"p{i:03d}.png"), t)
    pairs[i] = (x if not gray_inputs else x[..., None], t)
  return pairs


def _row(stack, x):
  return np.flatnonzero((stack == x).all(axis=tuple(range(1, stack.ndim))))


def test_paired_folders_read_back_each_input_with_its_target(tmp_path):
  root = tmp_path / "pairs"
  pairs = _write_pairs(root, 20, gray_inputs=True)
  ds = load_dataset(_cfg(tmp_path, root, name="paired_folder", channels=3, input_channels=1,
                         test_fraction=0.25))
  assert ds.paired and ds.train.shape == (15, 8, 8, 3) and ds.test.shape == (5, 8, 8, 3)
  assert ds.train_inputs.shape == (15, 4, 4, 1) and ds.train_labels is None
  assert (ds.info["task"], ds.info["scale"]) == ("super_resolution", 2)     # 4x4 -> 8x8
  assert folders.pair_task((8, 8, 1), (8, 8, 3)) == {"task": "colorization"}
  targets = np.concatenate([ds.train, ds.test])
  inputs = np.concatenate([ds.train_inputs, ds.test_inputs])
  for i, (x, t) in pairs.items():                # each target sits beside its own input
    row = _row(targets, t)
    assert row.size == 1 and np.array_equal(inputs[row[0]], x), i
  # train/ and test/ folders are the splits; inputs resized by input_size
  split_root = tmp_path / "split"
  _write_pairs(split_root, 6, split="train")
  _write_pairs(split_root, 3, split="test")
  ds = load_dataset(_cfg(tmp_path, split_root, name="paired_folder", input_size=2))
  assert ds.train.shape[0] == 6 and ds.test.shape[0] == 3 and ds.test_inputs.shape[1:] == (2, 2, 3)


@pytest.mark.parametrize("make, message", [
    (lambda r: _write(str(r / "inputs" / "a.png"), _rgb(1)), "no targets/ subfolder"),
    (lambda r: (_write_pairs(r, 3), os.remove(r / "targets" / "p001.png")),
     "has no partner in targets/"),
    (lambda r: (_write_pairs(r, 3), _write(str(r / "inputs" / "p000.jpg"), _rgb(3, 4))),
     "holds two files named 'p000'"),
    (lambda r: (_write(str(r / "inputs" / "a.png"), _rgb(1)),
                _write(str(r / "targets" / "sub" / "a.png"), _rgb(1))), "hold image files directly"),
])
def test_bad_paired_folders_are_one_line_errors(tmp_path, make, message):
  root = tmp_path / "bad"
  os.makedirs(root)
  make(root)
  with pytest.raises(DataError) as e:
    load_dataset(_cfg(tmp_path, root, name="paired_folder"))
  assert message in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_pairs_made_from_unpaired_images(tmp_path):
  from jaxgen.data import paired
  root = tmp_path / "flat"
  for i in range(10):
    _write(str(root / f"{i}.png"), _rgb(i, 8))
  base = load_dataset(_cfg(tmp_path, root))
  for how, want in (("sr2", lambda x: paired.box_downsample(x, 2)),
                    ("sr4", lambda x: paired.box_downsample(x, 4)), ("gray", paired.luminance)):
    ds = load_dataset(_cfg(tmp_path, root, pairs=how))
    np.testing.assert_array_equal(ds.train, base.train)
    np.testing.assert_array_equal(ds.train_inputs, want(base.train))
    np.testing.assert_array_equal(ds.test_inputs, want(base.test))
  sr4 = load_dataset(_cfg(tmp_path, root, pairs="sr4"))
  assert sr4.train_inputs.shape[1:] == (2, 2, 3)
  assert (sr4.info["task"], sr4.info["scale"]) == ("super_resolution", 4)
  assert load_dataset(_cfg(tmp_path, root, pairs="gray")).info["task"] == "colorization"
  with pytest.raises(DataError, match="multiple of 3|image_size"):
    folders.derive_pairs(base, "sr2") and folders.derive_pairs(
        load_dataset(_cfg(tmp_path, root, image_size=6)), "sr4")
  with pytest.raises(DataError, match="set --config.dataset.channels=3"):
    load_dataset(_cfg(tmp_path, root, channels=1, pairs="gray"))


@pytest.mark.slow  # reason: a compiled pix2pix training, about 15 s
def test_pix2pix_trains_on_pairs_made_from_a_folder(tmp_path, load_config, tiny):
  from jaxgen import train
  root = tmp_path / "flat"
  for i in range(40):
    _write(str(root / f"{i}.png"), _rgb(i, 16))
  c = tiny(load_config("pix2pix_sr_photos"), batch_size=8, num_steps=4, log_every=2,
           eval_every=4, checkpoint_every=4)
  c.dataset.name, c.dataset.data_dir, c.dataset.pairs = "image_folder", str(root), "sr4"
  c.dataset.cache_dir, c.dataset.test_fraction = str(tmp_path / "cache"), 0.25
  c.eval.select_on = ""
  c.pix2pix.features, c.pix2pix.d_features = 8, 8
  state, result = train.train(c, str(tmp_path / "w"), log=lambda s: None)
  assert int(state.step) == 4 and np.isfinite(result["psnr"])
  assert np.isfinite(result["bicubic_psnr"]) and "periodic_peak" in result   # x4 SR's judge
