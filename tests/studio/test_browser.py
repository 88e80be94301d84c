"""The studio in a real browser (headless Chromium through Selenium): each page opens, a
slider moves, a digit is drawn, the GAN steps and plays, the runs table sorts — and what
the page shows is what the library computes. Screenshots go to $JAXGEN_TEST_ARTIFACTS (or
the test's temporary folder). Skipped, with the install line, where no browser is found."""
import copy
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import studio
from jaxgen.studio import browser

pytestmark = [pytest.mark.slow,   # reason: Chromium and several trained runs, ~40 s
              pytest.mark.skipif(browser.missing() is not None,
                                 reason=f"no headless browser: {browser.missing()}")]




@pytest.fixture(scope="module")
def driver():
  d = browser.chrome()
  yield d
  d.quit()


@pytest.fixture
def shots(tmp_path):
  folder = os.environ.get("JAXGEN_TEST_ARTIFACTS") or str(tmp_path)
  os.makedirs(folder, exist_ok=True)
  return lambda d, name: d.save_screenshot(os.path.join(folder, f"studio_{name}.png"))


def open_page(driver, s):
  bg = studio.Background(s)
  driver.get(bg.url)
  browser.wait_for(driver, "window.studio && window.studio.ready")
  return bg


def test_latent_page_slider_and_drawing(driver, shots, trained_tiny, png_pixels, as_uint8):
  from selenium.webdriver.common.action_chains import ActionChains
  _, workdir, _, _ = trained_tiny("vae_mnist")
  s = studio.Studio(workdir, log=lambda m: None)
  bg = open_page(driver, s)
  try:
    p = s.page
    before = len(driver.execute_script("return studio.latencies"))
    ActionChains(driver).click_and_hold(driver.find_element("id", "s1")).move_by_offset(
        35, 0).release().perform()
    browser.wait_for(driver, f"studio.latencies.length > {before} && "
                             f"document.getElementById('s1').value != '0'")
    browser.wait_for(driver, "document.getElementById('decodeNote').textContent")
    coords = [float(driver.find_element("id", f"s{i}").get_attribute("value"))
              for i in range(p.axes.shape[0])]
    assert coords[1] > 0
    z = p.mean + (np.array(coords) * p.scales) @ p.axes
    shown = png_pixels(driver.find_element("id", "decoded").get_attribute("src"))
    np.testing.assert_array_equal(shown, as_uint8(s.page.trained.decode(z[None].astype(
        np.float32))[0]))
    canvas = driver.find_element("id", "draw")
    ActionChains(driver).move_to_element_with_offset(canvas, -30, -80).click_and_hold() \
        .move_by_offset(15, 60).move_by_offset(15, 60).move_by_offset(5, 30).release().perform()
    browser.wait_for(driver, "studio.last.score")
    drawn = driver.execute_script("return studio.pixels()")
    assert 0 < np.mean(drawn) < 0.5                              # a stroke, not a blank
    page = driver.execute_script("return studio.last.score")
    want = p.score(drawn)
    for k, v in want["scores"].items():
      assert page["scores"][k] == pytest.approx(v, rel=1e-5)
    assert page["label"] == want["label"]
    assert driver.find_element("id", "scoreTable").text.count("%") == len(want["scores"])
    shots(driver, "latent")
  finally:
    bg.stop()


def test_gan_lab_steps_and_plays(driver, shots, ring_config):
  c = copy.deepcopy(ring_config)
  c.num_steps = 20_000
  s = studio.Studio(config=c, steps_per_update=50, log=lambda m: None)
  bg = open_page(driver, s)
  try:
    assert driver.find_element("id", "m_step").text == "0"
    driver.find_element("id", "stepOnce").click()
    browser.wait_for(driver, "studio.updates == 1")
    assert driver.find_element("id", "m_step").text == "50" and s.page.step_count == 50
    lab = s.page
    shown = np.asarray(driver.execute_script("return studio.last.gan.heatmap")).ravel()
    heat = jax.nn.sigmoid(lab.model.judge_each(lab.state, jnp.asarray(lab.grid)))
    np.testing.assert_allclose(shown, heat, atol=2e-5)
    assert driver.find_element("id", "m_modes").text == str(lab.view()["metrics"]["modes"])
    driver.find_element("id", "play").click()
    browser.wait_for(driver, "studio.updates >= 6", timeout=60)
    driver.find_element("id", "play").click()
    browser.wait_for(driver, "document.getElementById('play').textContent == 'play'")
    import time
    time.sleep(1.0)                                             # the request ahead lands
    n = driver.execute_script("return studio.updates")
    assert s.page.step_count == 50 * n
    assert driver.find_element("id", "m_step").text == str(50 * n)
    shots(driver, "gan_lab")
  finally:
    bg.stop()


def test_runs_page_sorts_and_error_page(driver, shots, trained_tiny, tmp_path):
  import shutil
  _, vae_dir, _, _ = trained_tiny("vae_mnist")
  _, ae_dir, _, _ = trained_tiny("ae_mnist")
  shutil.copytree(vae_dir, tmp_path / "runs" / "vae")
  shutil.copytree(ae_dir, tmp_path / "runs" / "ae")
  bg = open_page(driver, studio.Studio(str(tmp_path / "runs"), log=lambda m: None))
  try:
    assert driver.execute_script("return studio.last.runs") == ["ae", "vae"]
    driver.find_element("xpath", "//th[starts-with(text(), 'name')]").click()
    assert driver.execute_script("return studio.last.runs") == ["vae", "ae"]
    assert len(driver.find_elements("css selector", "#runs img")) == 2
    shots(driver, "runs")
  finally:
    bg.stop()
  bg = open_page(driver, studio.Studio(str(tmp_path / "nothing"), log=lambda m: None))
  try:
    assert "does not exist" in driver.find_element("id", "error").text
  finally:
    bg.stop()


def test_translation_page(driver, shots, trained_tiny, png_pixels, as_uint8):
  from jaxgen.evaluation import image_quality as iq
  _, workdir, _, _ = trained_tiny("pix2pix_sr_digits")
  s = studio.Studio(workdir, log=lambda m: None)
  bg = open_page(driver, s)
  try:
    el = driver.find_element("id", "tIndex")
    el.clear()
    el.send_keys("7")
    driver.find_element("id", "tNext").click()                 # -> 8
    browser.wait_for(driver, "studio.last.translation && "
                             "document.getElementById('tIndex').value == '8'")
    browser.wait_for(driver, "document.getElementById('tOutCap').textContent.includes('dB')")
    p = s.page
    out = np.asarray(p.trained.translate(p.inputs[8:9]))
    shown = png_pixels(driver.find_element("id", "tOut").get_attribute("src"))
    np.testing.assert_array_equal(shown, as_uint8(out[0]))
    truth = p.trained.dataset.test[8:9].astype(np.float32) / 255.0   # in [0, 1], not [-1, 1]
    psnr = float(iq.psnr(truth, out)[0])
    assert f"{psnr:.2f} dB" in driver.find_element("id", "tOutCap").text
    bicubic = iq.upsample(p.trained.dataset.test_inputs[8:9] / 255.0, truth.shape[1:3], "bicubic")
    assert f"{float(iq.psnr(truth, bicubic)[0]):.2f} dB" in driver.find_element("id", "tBaseCap").text
    shots(driver, "translation")
  finally:
    bg.stop()
