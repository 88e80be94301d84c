"""How fast is the studio in a real browser?

    python -m benchmarks.studio_latency --workdir runs/vae_mnist [--moves 60] [--play 10]
        [--out results/studio/latency.json] [--screenshots docs/img]

Starts the studio as a user does (``python -m jaxgen.studio``, a new process) on a trained
``vae_mnist`` workdir, twice: the second start runs on a warm compilation cache. For each
start it times the command's launch to its printed address (the server up) and from then
to the page interactive in headless Chromium (``window.studio.ready``). Then it moves a
latent slider ``--moves`` times (the slider's value set and its ``input`` event fired, as a
drag does) and records, as measured by the page itself, the time from the event to the new
decoded image loaded on screen (``performance.now()``: server time plus the browser's round
trip and PNG decode); medians and 90th percentiles. Last it starts the GAN lab on
``configs/gan_ring.py`` (one seed, from step 0), presses play for ``--play`` seconds and
counts the pictures the page drew per second (50 training steps each).
"""
from __future__ import annotations

import argparse
import datetime
import os
import socket
import statistics
import subprocess
import sys
import time

from benchmarks.cli import machine_line, write_report
from jaxgen.studio import browser


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def start(args: list[str]) -> tuple[subprocess.Popen, str, float]:
  """Launches ``python -m jaxgen.studio ARGS``; returns (process, url, seconds to the
  printed address)."""
  port = free_port()
  t0 = time.perf_counter()
  proc = subprocess.Popen([sys.executable, "-m", "jaxgen.studio", *args, "--port", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  for line in proc.stdout:
    if "jaxgen studio: http://" in line:
      return proc, f"http://127.0.0.1:{port}/", time.perf_counter() - t0
  raise RuntimeError(f"the studio did not start (exit code {proc.wait()})")


def stop(proc: subprocess.Popen) -> None:
  proc.terminate()
  try:
    proc.wait(timeout=10)
  except subprocess.TimeoutExpired:
    proc.kill()


def open_page(driver, url: str) -> float:
  t0 = time.perf_counter()
  driver.get(url)
  browser.wait_for(driver, "window.studio && window.studio.ready", poll=0.005)
  return time.perf_counter() - t0


def slider_latencies(driver, moves: int) -> list[float]:
  for i in range(moves):
    n = driver.execute_script("return studio.latencies.length")
    value = round(-2.5 + 5.0 * ((i * 7) % moves) / moves, 2)
    driver.execute_script(
        "const s = document.getElementById('s0'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input'));", value)
    browser.wait_for(driver, f"studio.latencies.length > {n}", poll=0.002)
  return driver.execute_script("return studio.latencies")[-moves:]


def percentile(values, q: float) -> float:
  v = sorted(values)
  return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", default="runs/vae_mnist")
  parser.add_argument("--gan_config", default="configs/gan_ring.py")
  parser.add_argument("--moves", type=int, default=60)
  parser.add_argument("--play", type=float, default=10.0)
  parser.add_argument("--out", default="")
  parser.add_argument("--screenshots", default="", help="a folder for the pages' screenshots")
  parser.add_argument("--also", nargs="*", default=[],
                      help="with --screenshots: more paths (a pix2pix or GAN workdir, a folder "
                           "of runs) opened and shot as studio_<page kind>.png")
  args = parser.parse_args(argv)
  problem = browser.missing()
  if problem:
    sys.exit(f"error: {problem}")
  report = {"machine": machine_line(), "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.studio_latency " + " ".join(argv or sys.argv[1:]),
            "workdir": args.workdir, "starts": []}
  driver = browser.chrome()
  try:
    for attempt in ("first start", "warm cache"):
      proc, url, up = start([args.workdir])
      try:
        ready = open_page(driver, url)
        report["starts"].append({"start": attempt, "server_up_s": round(up, 3),
                                 "page_interactive_s": round(ready, 3),
                                 "launch_to_interactive_s": round(up + ready, 3)})
        print(f"{attempt}: server up {up:.2f} s, page interactive {ready:.2f} s later")
        if attempt == "warm cache":
          lat = slider_latencies(driver, args.moves)
          report["slider_ms"] = {"moves": len(lat), "median": round(statistics.median(lat), 2),
                                 "p90": round(percentile(lat, 0.9), 2),
                                 "max": round(max(lat), 2)}
          server = driver.execute_script("return studio.last.decode.server_ms")
          report["slider_ms"]["last_server_ms"] = server
          print(f"slider to image on screen: median {statistics.median(lat):.1f} ms, "
                f"90th percentile {percentile(lat, 0.9):.1f} ms ({len(lat)} moves)")
          if args.screenshots:
            driver.save_screenshot(os.path.join(args.screenshots, "studio_latent.png"))
      finally:
        stop(proc)
    proc, url, up = start(["--config", args.gan_config])
    try:
      open_page(driver, url)
      driver.find_element("id", "play").click()
      time.sleep(args.play)
      driver.find_element("id", "play").click()
      times = driver.execute_script("return studio.updateTimes")
      gaps = [b - a for a, b in zip(times[1:], times[2:])]    # the first includes warm-up
      rate = 1000.0 / statistics.median(gaps)
      steps = int(driver.find_element("id", "m_step").text)
      report["gan_lab"] = {"config": args.gan_config, "steps_per_update": 50,
                           "pictures": len(times), "pictures_per_s_median": round(rate, 2),
                           "pictures_per_s_overall": round(
                               (len(times) - 1) / ((times[-1] - times[0]) / 1000.0), 2),
                           "steps_per_s": round(rate * 50, 1), "final_step": steps}
      print(f"GAN lab: {rate:.1f} pictures/s (median interval), 50 steps each")
      if args.screenshots:
        time.sleep(0.5)
        driver.save_screenshot(os.path.join(args.screenshots, "studio_gan_lab.png"))
    finally:
      stop(proc)
    if args.screenshots:
      from jaxgen.studio import Background, Studio
      for path in args.also:
        bg = Background(Studio(path, log=lambda m: None))
        try:
          open_page(driver, bg.url)
          time.sleep(0.5)
          driver.save_screenshot(os.path.join(args.screenshots,
                                              f"studio_{bg.studio.page.kind}.png"))
        finally:
          bg.stop()
  finally:
    driver.quit()
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
