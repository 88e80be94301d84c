"""Pictures: scatter plots of 2-D samples over the true modes, and image grids."""
import numpy as np

from jaxgen import plotting
from jaxgen.data import mixtures

RING = mixtures.mixture_modes("ring")
RING_STD = mixtures.mixture_std("ring")


def test_scatter_plot_writes_png(tmp_path):
  samples, _ = mixtures.sample_mixture("ring", 300, seed=2)
  path = str(tmp_path / "sub" / "ring.png")
  returned = plotting.scatter_plot(path, samples, RING, RING_STD, title="ring")
  assert returned == path
  with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  import matplotlib.image
  image = matplotlib.image.imread(path)
  assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
  assert image[..., :3].std() > 0.01  # not a blank canvas


def test_image_grid_tiles_and_pads():
  images = np.zeros((5, 2, 3, 1), np.float32)
  images[1] = 0.5
  grid = plotting.image_grid(images, columns=3, pad=1)
  assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 1)           # 2 rows, 3 columns, 1-pixel pads
  np.testing.assert_array_equal(grid[1:3, 1:4, 0], 0.0)     # image 0 at the top left
  np.testing.assert_array_equal(grid[1:3, 5:8, 0], 0.5)     # image 1 beside it
  assert grid[0].min() == 1.0 and grid[:, 0].min() == 1.0   # white padding
  np.testing.assert_array_equal(grid[4:6, 9:12, 0], 1.0)    # the missing sixth image: blank
  assert plotting.image_grid(np.zeros((2, 4, 4)), columns=8).shape == (6, 11, 1)


def test_save_image_grid_writes_png(tmp_path):
  path = str(tmp_path / "sub" / "grid.png")
  grid = plotting.save_image_grid(path, np.random.RandomState(0).uniform(size=(4, 5, 5, 3)),
                                  columns=2, scale=2)
  assert grid.shape == (2 * 6 + 1, 2 * 6 + 1, 3)
  import matplotlib.image
  image = matplotlib.image.imread(path)
  assert image.shape[:2] == (2 * grid.shape[0], 2 * grid.shape[1])
