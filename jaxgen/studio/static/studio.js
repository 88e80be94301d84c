// jaxgen studio: one page, drawn by the kind the server reports (/api/info).
// Every number and image comes from the server (the library); this script only asks and draws.
// window.studio exposes the page's state to tests and benchmarks (ready, latencies, updates).
"use strict";

const studio = window.studio = { ready: false, kind: null, latencies: [], updates: 0,
                                 updateTimes: [], last: {} };

async function api(name, body) {
  const res = await fetch("/api/" + name, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function section(title, ...children) { return el("section", {}, el("h2", {}, title), ...children); }
function img(id, cls = "pix big") { return el("img", { id, class: cls, alt: id }); }
function slider(id, min, max, step, value) {
  return el("input", { id, type: "range", min, max, step, value });
}
function row(label, ...children) { return el("div", { class: "row" }, el("label", {}, label), ...children); }
function number(id, value, min, max) { return el("input", { id, type: "number", value, min, max, style: "width:5em" }); }
function select(id, options, value) {
  const s = el("select", { id });
  for (const o of options) { const opt = el("option", { value: o }, String(o)); if (o === value) opt.selected = true; s.append(opt); }
  return s;
}
function $(id) { return document.getElementById(id); }
function showError(where, e) { where.textContent = "error: " + e.message; where.className = "note error"; }

// A control whose request must not pile up: while one is in flight, only the newest waits.
function latest(fn) {
  let busy = false, pending = null;
  return async function run(...args) {
    if (busy) { pending = args; return; }
    busy = true;
    try { await fn(...args); } finally {
      busy = false;
      if (pending) { const a = pending; pending = null; run(...a); }
    }
  };
}

// Sets an image and resolves once the browser has it on screen (decoded).
function setImage(image, src) {
  return new Promise(resolve => { image.onload = () => resolve(); image.onerror = () => resolve(); image.src = src; });
}

// ------------------------------------------------------------------------------- latent
function latentPage(info, page) {
  const k = info.sliders;
  const sliders = el("div");
  for (let i = 0; i < k; i++) {
    sliders.append(row((info.axes === "pca" ? "PC " : "z") + (i + 1), slider("s" + i, -3, 3, 0.05, 0), el("span", { id: "sv" + i }, "0")));
  }
  const labelSel = info.conditional ? row("label", select("label", [...Array(info.num_classes).keys()], 0)) : "";
  page.append(section("Latent sliders",
    el("p", { class: "note" }, info.axes === "pca"
      ? `the top ${k} principal directions of the training codes (latent ${info.latent_dim}-D), in standard deviations`
      : `the code's own ${k} axes, in standard deviations of the training codes`),
    row("from", select("base", ["mean", "test digit"], "mean"), number("baseIndex", 0, 0, info.num_test - 1)),
    labelSel, sliders, img("decoded"), el("div", { id: "decodeNote", class: "note" })));

  const label = () => info.conditional ? Number($("label").value) : null;
  const base = () => $("base").value === "mean" ? "mean" : Number($("baseIndex").value);
  const decode = latest(async (t0) => {
    const coords = [...Array(k).keys()].map(i => Number($("s" + i).value));
    try {
      const r = await api("latent/decode", { coords, base: base(), label: label() });
      await setImage($("decoded"), r.image);
      const ms = performance.now() - t0;
      studio.latencies.push(ms);
      studio.last.decode = { z: r.z, server_ms: r.server_ms, ms };
      $("decodeNote").textContent = `on screen ${ms.toFixed(1)} ms after the move (server ${r.server_ms.toFixed(1)} ms)`;
    } catch (e) { showError($("decodeNote"), e); }
  });
  for (let i = 0; i < k; i++) {
    $("s" + i).addEventListener("input", () => { $("sv" + i).textContent = $("s" + i).value; decode(performance.now()); });
  }
  for (const id of ["base", "baseIndex"].concat(info.conditional ? ["label"] : [])) {
    $(id).addEventListener("change", () => decode(performance.now()));
  }

  // interpolation
  page.append(section("Interpolation between two test digits",
    row("from", number("ia", 0, 0, info.num_test - 1), img("iaImg", "pix mid")),
    row("to", number("ib", 1, 0, info.num_test - 1), img("ibImg", "pix mid")),
    row("path", select("imethod", ["linear", "spherical"], "linear")),
    row("t", slider("it", 0, 1, 0.02, 0.5)), img("interp"), el("div", { id: "interpNote", class: "note" })));
  const interp = latest(async () => {
    try {
      const [a, b] = [Number($("ia").value), Number($("ib").value)];
      const [ea, eb, r] = await Promise.all([api("latent/example", { index: a }), api("latent/example", { index: b }),
        api("latent/interpolate", { a, b, t: Number($("it").value), method: $("imethod").value, label: label() })]);
      await Promise.all([setImage($("iaImg"), ea.image), setImage($("ibImg"), eb.image), setImage($("interp"), r.image)]);
      $("interpNote").textContent = `labels ${ea.label} → ${eb.label}, t = ${$("it").value}`;
    } catch (e) { showError($("interpNote"), e); }
  });
  for (const id of ["ia", "ib", "imethod", "it"]) $(id).addEventListener("input", () => interp());

  // attribute vector
  if (info.labels) {
    const classes = [...new Set(info.labels)].sort((x, y) => x - y);
    page.append(section("Attribute vector",
      row("digit", number("aIndex", 0, 0, info.num_test - 1), img("aImg", "pix mid")),
      row("from class", select("aFrom", classes, classes[0])), row("to class", select("aTo", classes, classes[1] ?? classes[0])),
      row("strength", slider("aStrength", -2, 2, 0.05, 1)), img("attr"), el("div", { id: "attrNote", class: "note" })));
    const attr = latest(async () => {
      try {
        const index = Number($("aIndex").value);
        const [e, r] = await Promise.all([api("latent/example", { index }), api("latent/attribute", {
          index, from: Number($("aFrom").value), to: Number($("aTo").value), strength: Number($("aStrength").value), label: label() })]);
        await Promise.all([setImage($("aImg"), e.image), setImage($("attr"), r.image)]);
        $("attrNote").textContent = `test digit ${index} (label ${e.label}) + ${$("aStrength").value} × (mean ${$("aTo").value} − mean ${$("aFrom").value})`;
      } catch (e) { showError($("attrNote"), e); }
    });
    for (const id of ["aIndex", "aFrom", "aTo", "aStrength"]) $(id).addEventListener("input", () => attr());
    attr();
  }

  // code map
  const map = el("canvas", { id: "codemap", width: 320, height: 320 });
  const methods = info.latent_dim === 2 ? "" : row("projection", select("mapMethod", ["pca", "tsne"], "pca"));
  page.append(section("Code map (click to decode there)", methods, map, img("mapImg", "pix mid"), el("div", { id: "mapNote", class: "note" })));
  let onClick = null;
  const loadMap = () => api("latent/map", { method: info.latent_dim === 2 ? "pca" : $("mapMethod").value }).then(m => {
    const xs = m.points.map(p => p[0]), ys = m.points.map(p => p[1]);
    const lo = [Math.min(...xs), Math.min(...ys)], hi = [Math.max(...xs), Math.max(...ys)];
    const pad = 0.05, W = map.width, H = map.height;
    const toPx = p => [W * (pad + (1 - 2 * pad) * (p[0] - lo[0]) / (hi[0] - lo[0])), H * (1 - pad - (1 - 2 * pad) * (p[1] - lo[1]) / (hi[1] - lo[1]))];
    const fromPx = (px, py) => [lo[0] + (px / W - pad) / (1 - 2 * pad) * (hi[0] - lo[0]), lo[1] + (1 - pad - py / H) / (1 - 2 * pad) * (hi[1] - lo[1])];
    const ctx = map.getContext("2d");
    const draw = (mark) => {
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
      m.points.forEach((p, i) => {
        const [x, y] = toPx(p);
        ctx.fillStyle = m.labels ? `hsl(${36 * m.labels[i]},70%,45%)` : "#555";
        ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
      });
      if (mark) { ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(mark[0], mark[1], 6, 0, 7); ctx.stroke(); }
    };
    draw();
    const how = { pca: "on the two principal directions of the training codes", tsne: "t-SNE; a click decodes the nearest test code", latent: "the 2-D latent itself" };
    $("mapNote").textContent = `${m.points.length} test codes (${how[m.method]}), coloured by label`;
    if (onClick) map.removeEventListener("click", onClick);
    onClick = async ev => {
      const r = map.getBoundingClientRect();
      const px = ev.clientX - r.left, py = ev.clientY - r.top;
      const [x, y] = fromPx(px, py);
      draw([px, py]);
      try {
        const d = await api("latent/map_decode", { x, y, method: m.method, label: label() });
        await setImage($("mapImg"), d.image);
        studio.last.map = { x, y, method: m.method };
        $("mapNote").textContent = `decoded at (${x.toFixed(2)}, ${y.toFixed(2)})`;
      } catch (e) { showError($("mapNote"), e); }
    };
    map.addEventListener("click", onClick);
  }).catch(e => showError($("mapNote"), e));
  loadMap();
  if (methods) $("mapMethod").addEventListener("change", () => { $("mapNote").textContent = "projecting…"; loadMap(); });

  // draw and score
  const [H, W] = info.image_shape;
  const canvas = el("canvas", { id: "draw", class: "draw", width: 10 * W, height: 10 * H });
  page.append(section("Draw a digit",
    canvas, el("div", {}, el("button", { id: "score" }, "score"), el("button", { id: "clear" }, "clear")),
    el("div", { class: "figures" }, el("figure", {}, img("drawIn", "pix mid"), el("figcaption", {}, "as the model sees it")),
      el("figure", {}, img("drawRecon", "pix mid"), el("figcaption", {}, "reconstruction"))),
    el("div", { id: "scoreTable" }), el("div", { id: "styles", class: "figures" }), el("div", { id: "drawNote", class: "note" })));
  const dctx = canvas.getContext("2d");
  const clear = () => { dctx.fillStyle = "#000"; dctx.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  let drawing = false, prev = null;
  const stroke = (ev) => {
    const r = canvas.getBoundingClientRect();
    const p = [ev.clientX - r.left, ev.clientY - r.top];
    dctx.strokeStyle = "#fff"; dctx.lineWidth = canvas.width / 11; dctx.lineCap = "round";
    dctx.beginPath(); dctx.moveTo(...(prev || p)); dctx.lineTo(...p); dctx.stroke();
    prev = p;
  };
  canvas.addEventListener("mousedown", ev => { drawing = true; prev = null; stroke(ev); });
  canvas.addEventListener("mousemove", ev => { if (drawing) stroke(ev); });
  window.addEventListener("mouseup", () => { if (drawing) { drawing = false; score(); } });
  $("clear").addEventListener("click", () => { clear(); });
  const pixels = () => {
    const small = el("canvas", { width: W, height: H }).getContext("2d");
    small.imageSmoothingEnabled = true; small.imageSmoothingQuality = "high";
    small.drawImage(canvas, 0, 0, W, H);
    const d = small.getImageData(0, 0, W, H).data, out = [];
    const C = info.image_shape[2];
    for (let i = 0; i < W * H; i++) for (let c = 0; c < C; c++) out.push(d[4 * i] / 255);
    return out;
  };
  studio.pixels = pixels;
  const score = latest(async () => {
    try {
      $("drawNote").textContent = "scoring…";
      const r = await api("latent/score", { pixels: pixels(), label: label() });
      await Promise.all([setImage($("drawIn"), r.input), setImage($("drawRecon"), r.recon)]);
      const t = el("table", { class: "metrics" }, el("tr", {}, el("th", {}, "score"), el("th", {}, "value"), el("th", {}, "test digits scoring lower")));
      for (const [k, v] of Object.entries(r.scores)) {
        t.append(el("tr", {}, el("td", {}, k), el("td", {}, Number(v).toFixed(2)), el("td", {}, (100 * r.percentile[k]).toFixed(1) + "%")));
      }
      $("scoreTable").replaceChildren(t);
      if (r.styles) $("styles").replaceChildren(...r.styles.map((s, i) => el("figure", {}, el("img", { src: s, class: "pix", width: 56, height: 56 }), el("figcaption", {}, String(i)))));
      $("drawNote").textContent = r.label !== undefined ? `the judge classifier reads ${r.label} (p = ${r.probs[r.label].toFixed(3)})` : "";
      studio.last.score = r;
    } catch (e) { showError($("drawNote"), e); }
  });
  $("score").addEventListener("click", () => score());
  studio.score = score;
  return Promise.all([decode(performance.now()), interp()]);
}

// ------------------------------------------------------------------------------- GAN lab
function ganLabPage(info, page) {
  const canvas = el("canvas", { id: "plane", width: 480, height: 480 });
  page.append(section("The game on the plane",
    canvas, el("div", { class: "note" }, "background: D(x) (dark: fake, light: real) · green: real points · magenta: G's samples · lines: where G's update pushes them")),
  section("Controls",
    el("div", {}, el("button", { id: "play" }, "play"), el("button", { id: "stepOnce" }, `step ×${info.steps_per_update}`), el("button", { id: "restart" }, "restart")),
    row("G loss", select("gloss", info.generator_losses, info.generator_loss)),
    row("minibatch", select("minibatch", info.minibatch_kinds, info.minibatch)),
    el("p", { class: "note" }, `${info.steps_per_update} training steps (jaxgen's compiled chunk) per picture; switching the minibatch layer restarts (a new D). ${info.lr_schedule} learning rate over ${info.num_steps} steps.`),
    el("table", { class: "metrics", id: "ganMetrics" }), el("div", { id: "ganNote", class: "note" })));
  const ctx = canvas.getContext("2d");
  const draw = (v) => {
    const [lo, hi] = v.bounds, W = canvas.width, n = v.heatmap.length;
    const toPx = p => [(p[0] - lo) / (hi - lo) * W, W - (p[1] - lo) / (hi - lo) * W];
    const cell = W / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const d = v.heatmap[i][j];
      ctx.fillStyle = `rgb(${Math.round(40 + 180 * d)},${Math.round(40 + 200 * d)},${Math.round(90 + 120 * d)})`;
      ctx.fillRect(j * cell, W - (i + 1) * cell, cell + 1, cell + 1);
    }
    ctx.fillStyle = "#1b9e3e";
    for (const p of v.real) { const [x, y] = toPx(p); ctx.fillRect(x - 1.5, y - 1.5, 3, 3); }
    ctx.strokeStyle = "rgba(255,255,255,0.7)"; ctx.lineWidth = 1;
    const norms = v.arrows.map(a => Math.hypot(a[0], a[1])), top = Math.max(...norms, 1e-12);
    ctx.beginPath();
    v.fake.forEach((p, i) => {
      const [x, y] = toPx(p), a = v.arrows[i], s = 25 / top;
      ctx.moveTo(x, y); ctx.lineTo(x + a[0] * s, y - a[1] * s);
    });
    ctx.stroke();
    ctx.fillStyle = "#d0208f";
    for (const p of v.fake) { const [x, y] = toPx(p); ctx.fillRect(x - 1.5, y - 1.5, 3, 3); }
    const m = v.metrics, L = v.losses || {};
    const rows = [["step", v.step], ["modes", m.modes], ["high quality", Number(m.high_quality).toFixed(1) + "%"],
      ["reverse KL", m.reverse_kl === "inf" ? "∞" : Number(m.reverse_kl).toFixed(3)],
      ["D loss", L.d_loss !== undefined ? L.d_loss.toFixed(3) : "–"], ["G loss", L.g_loss !== undefined ? L.g_loss.toFixed(3) : "–"]];
    $("ganMetrics").replaceChildren(...rows.map(([k, x]) => el("tr", {}, el("td", {}, k), el("td", { id: "m_" + k.replace(/ /g, "_") }, String(x)))));
    studio.last.gan = v;
  };
  let playing = false;
  const shown = (v, t0) => {
    draw(v);
    studio.updates += 1; studio.updateTimes.push(performance.now());
    const ts = studio.updateTimes.slice(-20);
    if (ts.length > 1) $("ganNote").textContent = `${((ts.length - 1) / ((ts[ts.length - 1] - ts[0]) / 1000)).toFixed(1)} pictures/s · last update ${(performance.now() - t0).toFixed(0)} ms (server ${v.server_ms.toFixed(0)} ms)`;
  };
  const request = () => api("gan/step", { steps: info.steps_per_update });
  const stepOnce = async () => { const t0 = performance.now(); shown(await request(), t0); };
  // Playing keeps one request ahead: the server trains the next chunk while this one is drawn.
  const loop = async () => {
    let t0 = performance.now(), next = request();
    while (true) {
      let v;
      try { v = await next; } catch (e) { playing = false; $("play").textContent = "play"; showError($("ganNote"), e); return; }
      const t = t0; t0 = performance.now();
      next = playing ? request() : null;
      shown(v, t);
      if (!next) return;
      await new Promise(r => requestAnimationFrame(r));
    }
  };
  $("play").addEventListener("click", () => { playing = !playing; $("play").textContent = playing ? "pause" : "play"; if (playing) loop(); });
  $("stepOnce").addEventListener("click", () => { if (!playing) stepOnce().catch(e => showError($("ganNote"), e)); });
  const configure = async (body) => {
    try { const r = await api("gan/configure", body); draw(r); $("ganNote").textContent = `G loss ${r.info.generator_loss}, minibatch ${r.info.minibatch}, step ${r.step}`; }
    catch (e) { showError($("ganNote"), e); }
  };
  $("gloss").addEventListener("change", () => configure({ generator_loss: $("gloss").value }));
  $("minibatch").addEventListener("change", () => configure({ minibatch: $("minibatch").value }));
  $("restart").addEventListener("click", () => configure({ restart: true }));
  studio.stepOnce = stepOnce;
  return api("gan/view").then(draw);
}

// ------------------------------------------------------------------------------- GAN images
function ganImagesPage(info, page) {
  page.append(section("Samples",
    row("seed", number("seed", 0, 0, 2147483646), el("button", { id: "resample" }, "resample")),
    img("grid", "pix grid"), el("div", { id: "gridNote", class: "note" })),
  section("Latent walk (great circle between two noise draws)",
    row("from seed", number("wa", 0, 0, 2147483646)), row("to seed", number("wb", 1, 0, 2147483646)),
    row("t", slider("wt", 0, 1, 0.02, 0)), img("walk"), el("div", { id: "walkNote", class: "note" })));
  const samples = latest(async () => {
    try { const r = await api("gan_images/samples", { seed: Number($("seed").value) }); await setImage($("grid"), r.image);
      $("gridNote").textContent = `${info.grid} samples, noise seed ${$("seed").value}`; } catch (e) { showError($("gridNote"), e); }
  });
  const walk = latest(async () => {
    try { const r = await api("gan_images/walk", { a: Number($("wa").value), b: Number($("wb").value), t: Number($("wt").value) });
      await setImage($("walk"), r.image); $("walkNote").textContent = `t = ${$("wt").value}`; } catch (e) { showError($("walkNote"), e); }
  });
  $("resample").addEventListener("click", () => { $("seed").value = Number($("seed").value) + 1; samples(); });
  $("seed").addEventListener("change", () => samples());
  for (const id of ["wa", "wb", "wt"]) $(id).addEventListener("input", () => walk());
  return Promise.all([samples(), walk()]);
}

// ------------------------------------------------------------------------------- pix2pix
function translationPage(info, page) {
  const fig = (id, caption) => el("figure", {}, img(id), el("figcaption", { id: id + "Cap" }, caption));
  page.append(section(info.task === "colorization" ? "Colorization" : "Super-resolution",
    row("test input", number("tIndex", 0, 0, info.num_test - 1), el("button", { id: "tPrev" }, "◀"), el("button", { id: "tNext" }, "▶")),
    row("or upload", el("input", { id: "upload", type: "file", accept: "image/*" })),
    el("div", { class: "figures" }, fig("tInput", "input"), fig("tBase", "baseline"), fig("tOut", "model"), fig("tTruth", "truth")),
    el("div", { id: "tNote", class: "note" })));
  const show = async (r, truth) => {
    await Promise.all([setImage($("tInput"), r.input), setImage($("tBase"), r.baseline), setImage($("tOut"), r.output),
      truth ? setImage($("tTruth"), r.truth) : Promise.resolve()]);
    $("tBaseCap").textContent = r.baseline_name;
    if (truth) {
      $("tBaseCap").textContent = `${r.baseline_name}: ${r.baseline_psnr.toFixed(2)} dB, SSIM ${r.baseline_ssim.toFixed(3)}`;
      $("tOutCap").textContent = `model: ${r.output_psnr.toFixed(2)} dB, SSIM ${r.output_ssim.toFixed(3)}`;
    } else { $("tOutCap").textContent = "model"; $("tTruth").removeAttribute("src"); $("tTruthCap").textContent = "(no truth for an upload)"; }
    studio.last.translation = r;
  };
  const example = latest(async () => {
    try { await show(await api("translation/example", { index: Number($("tIndex").value) }), true); $("tTruthCap").textContent = "truth"; $("tNote").textContent = ""; }
    catch (e) { showError($("tNote"), e); }
  });
  $("tIndex").addEventListener("change", () => example());
  $("tPrev").addEventListener("click", () => { $("tIndex").value = Math.max(0, Number($("tIndex").value) - 1); example(); });
  $("tNext").addEventListener("click", () => { $("tIndex").value = Math.min(info.num_test - 1, Number($("tIndex").value) + 1); example(); });
  $("upload").addEventListener("change", () => {
    const f = $("upload").files[0]; if (!f) return;
    const reader = new FileReader();
    reader.onload = async () => { try { await show(await api("translation/upload", { image: reader.result }), false); $("tNote").textContent = `uploaded ${f.name}, resized to the inputs' ${info.input_shape.slice(0, 2).join("×")}`; } catch (e) { showError($("tNote"), e); } };
    reader.readAsDataURL(f);
  });
  return example();
}

// ------------------------------------------------------------------------------- runs
function runsPage(info, page) {
  const holder = el("div", { id: "runsTable" });
  page.append(section(`Runs under ${info.root}`, el("p", { class: "note" }, "click a column to sort; the picture is the latest saved sample grid"), holder));
  let sortKey = "name", ascending = true, data = null;
  const value = (r, k) => (k in r ? r[k] : r.metrics[k]);
  const render = () => {
    const cols = ["name", "model", "dataset", "status", "step"].concat(data.columns);
    const rows = [...data.rows].sort((a, b) => {
      const x = value(a, sortKey), y = value(b, sortKey);
      if (x === undefined || x === null) return 1; if (y === undefined || y === null) return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    const head = el("tr", {}, ...cols.map(c => el("th", { onclick: () => { ascending = sortKey === c ? !ascending : true; sortKey = c; render(); } }, c + (sortKey === c ? (ascending ? " ▲" : " ▼") : ""))), el("th", {}, "latest picture"));
    const body = rows.map(r => el("tr", { "data-name": r.name }, ...cols.map(c => {
      const v = value(r, c);
      return el("td", { class: typeof v === "number" ? "" : "text", title: c === "status" ? r.message : "" },
        v === undefined || v === null ? "" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v));
    }), el("td", {}, r.picture ? el("img", { src: "/api/runs/picture?name=" + encodeURIComponent(r.name), height: 80 }) : "")));
    holder.replaceChildren(el("table", { id: "runs" }, head, ...body));
    studio.last.runs = rows.map(r => r.name);
  };
  return api("runs").then(d => { data = d; render(); });
}

// ------------------------------------------------------------------------------- start
async function start() {
  const page = $("page");
  let info;
  try { info = await api("info"); } catch (e) { page.replaceChildren(el("div", { class: "error" }, "the studio server does not answer: " + e.message)); return; }
  studio.kind = info.kind; studio.info = info;
  $("where").textContent = info.kind === "error" ? (info.path || "") :
    `${info.path || ""} · ${info.model || ""} on ${info.dataset || ""}${info.step !== undefined ? " · step " + info.step : ""}`;
  page.replaceChildren();
  const pages = { latent: latentPage, gan2d: ganLabPage, gan_images: ganImagesPage, translation: translationPage, runs: runsPage };
  if (info.kind === "error") {
    page.append(el("div", { class: "error", id: "error" }, info.error));
    studio.ready = true;
    return;
  }
  await pages[info.kind](info, page);
  studio.ready = true;
}

$("reload").addEventListener("click", async () => {
  studio.ready = false;
  try { await api("reload", {}); } catch (e) { /* the page shows the studio's own error */ }
  start();
});
start();
