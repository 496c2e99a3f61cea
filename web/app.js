// The page: loads ONNX Runtime Web and the model that model/model.json names, then finds faces in uploaded
// photos and camera frames, all on this device, and draws them. Every failure ends as a message on the page.
// window.facemask is the hook the tests and benchmarks/web_page_speed.py call.
//
// URL options: ?model=other/model.json (a model.json of this site), ?backend=wasm|webgpu, ?threads=N.

import { letterbox, postprocess } from "./yolo.js";

const BUILD = "python export.py --format web";
const RUNTIMES = { wasm: "./ort/ort.wasm.min.mjs", webgpu: "./ort/ort.webgpu.min.mjs" };
const MAX_SIDE = 4096; // detect.py decodes longer images reduced to this side
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

/** A failure explained for the visitor: its message is shown as it is. */
class PageError extends Error {}

const page = {
  ort: null,
  session: null,
  config: null,
  backend: "",
  threads: 1,
  last: null, // the last photo (ImageBitmap), detected again when a threshold changes
  camera: null, // {stream, running}
  queue: Promise.resolve(), // one inference at a time: a session cannot run twice at once
  grab: document.createElement("canvas"),
};

function showMessage(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
}

function clearMessage() {
  $("message").hidden = true;
  $("message").textContent = "";
}

function explain(error) {
  return error instanceof PageError ? error.message : `Something went wrong: ${error?.message || error}`;
}

function brief(error) {
  const text = String(error?.message || error).replace(/\s+/g, " ");
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

// ---------------------------------------------------------------- loading

async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new PageError(`Could not download ${what} (${url.pathname}): ${brief(e)}`);
  }
  if (!response.ok) {
    const hint = response.status === 404 ? `: the page is not built yet (${BUILD})` : "";
    throw new PageError(`${what} ${url.pathname} could not be downloaded (HTTP ${response.status})${hint}`);
  }
  return response;
}

async function loadConfig() {
  const url = new URL(params.get("model") || "model/model.json", location.href);
  if (url.origin !== location.origin) throw new PageError("?model= must name a model.json of this site");
  const response = await fetchOk(url, "The model description");
  let config;
  try {
    config = await response.json();
  } catch {
    throw new PageError(`The model description ${url.pathname} is not valid JSON: build the page again (${BUILD})`);
  }
  const names = config?.names && Object.keys(config.names);
  const size = config?.imgsz;
  if (typeof config?.model !== "string" || !names?.length || !Array.isArray(size) || size.length !== 2) {
    throw new PageError(`The model description ${url.pathname} lacks model, names or imgsz: build it with ${BUILD}`);
  }
  config.url = new URL(config.model, url);
  return config;
}

async function pickBackend() {
  const asked = params.get("backend");
  if (asked === "wasm") return "wasm";
  let adapter = null;
  if (navigator.gpu) {
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 3000));
    adapter = await Promise.race([navigator.gpu.requestAdapter().catch(() => null), timeout]);
  }
  if (adapter) return "webgpu";
  if (asked === "webgpu") showMessage("This browser offers no WebGPU here: the model runs on WebAssembly.", "note");
  return "wasm";
}

async function loadRuntime(backend) {
  let ort;
  try {
    ort = await import(RUNTIMES[backend]);
  } catch (e) {
    throw new PageError(`ONNX Runtime Web (${RUNTIMES[backend].slice(2)}) could not be loaded: ${brief(e)}. ` +
      `Build the page with ${BUILD}`);
  }
  ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
  // Several threads need a cross-origin isolated page (COOP/COEP headers); elsewhere ONNX Runtime uses one.
  const threads = Number(params.get("threads")) || Math.min(4, navigator.hardwareConcurrency || 1);
  ort.env.wasm.numThreads = self.crossOriginIsolated ? threads : 1;
  return ort;
}

async function createSession(ort, bytes, backend, name) {
  const providers = backend === "webgpu" ? ["webgpu", "wasm"] : ["wasm"];
  try {
    return [await ort.InferenceSession.create(bytes, { executionProviders: providers }), backend];
  } catch (e) {
    if (backend === "webgpu") return createSession(ort, bytes, "wasm", name); // a WebGPU problem, not the model's
    if (/protobuf|model|graph|node|opset|onnx/i.test(String(e?.message))) {
      throw new PageError(`The model file ${name} cannot be loaded: it is damaged or not an ONNX model ` +
        `(${brief(e)}). Build the page again: ${BUILD}`);
    }
    throw new PageError(`ONNX Runtime Web could not start (${brief(e)}). Build the page again: ${BUILD}`);
  }
}

/** One run on a grey image: the first real photo is then timed warm, and a model that does not fit its
 * model.json (another input size, another output) is reported now rather than at the first photo. */
async function warmUp() {
  const [h, w] = page.config.imgsz;
  let output;
  try {
    output = await infer(new Float32Array(3 * h * w).fill(114 / 255));
  } catch (e) {
    throw new PageError(`The model does not run at the size its model.json gives (${w}x${h}): ${brief(e)}`);
  }
  const nc = Object.keys(page.config.names).length;
  if (output.dims.length !== 3 || output.dims[1] !== 4 + nc) {
    throw new PageError(`The model's output has shape [${output.dims.join(", ")}], not [1, ${4 + nc}, anchors] ` +
      `(4 box values and ${nc} class scores): the page runs YOLOv5u/YOLOv8 detection exports without NMS`);
  }
}

async function load() {
  if (location.protocol === "file:") throw new PageError($("message").textContent);
  const config = await loadConfig();
  page.config = config;
  const backend = await pickBackend();
  const [ort, bytes] = await Promise.all([
    loadRuntime(backend),
    fetchOk(config.url, "The model file").then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b)),
  ]);
  page.ort = ort;
  [page.session, page.backend] = await createSession(ort, bytes, backend, config.model);
  page.threads = page.backend === "wasm" ? ort.env.wasm.numThreads : 0;
  await warmUp();
  for (const id of ["conf", "iou"]) {
    $(id).value = config[id] ?? $(id).value;
    $(`${id}-value`).textContent = Number($(id).value).toFixed(2);
  }
  $("file").disabled = false;
  $("camera").disabled = false;
  $("counts").textContent = "Choose a photo or start the camera.";
  $("status").textContent = describe();
  document.body.dataset.state = "ready";
  return info();
}

function describe() {
  const c = page.config;
  const engine = page.backend === "webgpu" ? "WebGPU" : `WebAssembly, ${page.threads} thread${page.threads > 1 ? "s" : ""}`;
  const single = page.backend === "wasm" && !self.crossOriginIsolated ? " (the server sends no cross-origin isolation headers)" : "";
  return `${c.model} (from ${c.source}) · ${c.imgsz[1]}x${c.imgsz[0]} px · ${Object.values(c.names).join(", ")} · ` +
    `${engine}${single} · ${c.runtime}`;
}

function info() {
  const c = page.config;
  return { ok: true, backend: page.backend, threads: page.threads, model: c.model, names: c.names, imgsz: c.imgsz,
    isolated: self.crossOriginIsolated };
}

// ---------------------------------------------------------------- detection

function exclusive(task) {
  const run = page.queue.then(task, task);
  page.queue = run.catch(() => {});
  return run;
}

async function infer(chw) {
  const [h, w] = page.config.imgsz;
  const input = new page.ort.Tensor("float32", chw, [1, 3, h, w]);
  const outputs = await exclusive(() => page.session.run({ [page.session.inputNames[0]]: input }));
  return outputs[page.session.outputNames[0]];
}

/** The RGBA pixels of an image or video frame at width x height, on white (as detect.py flattens alpha). */
function pixels(source, width, height) {
  const canvas = page.grab;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height).data;
}

function thresholds() {
  return { conf: Number($("conf").value), iou: Number($("iou").value), maxDet: page.config.max_det ?? 300 };
}

/** Faces in `source` (drawn at width x height): detections in those pixels, and the time of each step. */
async function detect(source, width, height) {
  const t0 = performance.now();
  const rgba = pixels(source, width, height);
  const [inH, inW] = page.config.imgsz;
  const { data, geometry } = letterbox(rgba, width, height, inW, inH);
  const t1 = performance.now();
  const output = await infer(data);
  const t2 = performance.now();
  const found = postprocess(output.data, output.dims, geometry, thresholds());
  const t3 = performance.now();
  const detections = found.map((d) => ({ ...d, name: page.config.names[d.cls] ?? String(d.cls) }));
  return { width, height, detections, ms: { preprocess: t1 - t0, inference: t2 - t1, postprocess: t3 - t2, total: t3 - t0 } };
}

function fit(width, height) {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

async function decode(blob) {
  // Upright as EXIF says, and without colour-profile conversion: the pixels detect.py's reader gives.
  const options = [{ imageOrientation: "from-image", colorSpaceConversion: "none", premultiplyAlpha: "none" }, {}];
  for (const option of options) {
    try {
      return await createImageBitmap(blob, option);
    } catch {
      // an option this browser does not know: try without
    }
  }
  throw new PageError("That file is not an image this browser can read (JPEG, PNG, WebP, …)");
}

function draw(source, result) {
  const canvas = $("view");
  const { width, height } = result;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(source, 0, 0, width, height);
  const line = Math.max(2, Math.round(Math.max(width, height) / 320));
  const size = Math.max(12, line * 6);
  ctx.font = `600 ${size}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  for (const d of result.detections) {
    const [x1, y1, x2, y2] = d.box;
    const colour = page.config.colors?.[d.cls] ?? "#a0a0a0";
    ctx.lineWidth = line;
    ctx.strokeStyle = colour;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const label = `${d.name} ${d.conf.toFixed(2)}`;
    const pad = Math.round(size / 4);
    const w = ctx.measureText(label).width + 2 * pad;
    const h = size + 2 * pad;
    const top = y1 - h >= 0 ? y1 - h : y1; // above the box, or inside it at the image's top edge
    ctx.fillStyle = colour;
    ctx.fillRect(x1 - line / 2, top, w, h);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, x1 - line / 2 + pad, top + pad);
  }
}

/** '7 faces: 2 Mask, 5 No Mask · 29% masked', as the Gradio app's headline. */
function headline(detections) {
  if (!detections.length) return "No faces found";
  const counts = Object.entries(page.config.names).map(([i, name]) => [name, detections.filter((d) => d.cls === Number(i)).length]);
  const parts = counts.filter(([, n]) => n).map(([name, n]) => `${n} ${name}`).join(", ");
  const masked = counts.find(([name]) => name === "Mask");
  const share = masked ? ` · ${Math.round((100 * masked[1]) / detections.length)}% masked` : "";
  return `${detections.length === 1 ? "1 face" : `${detections.length} faces`}: ${parts}${share}`;
}

function timing(ms) {
  return `${ms.total.toFixed(0)} ms (prepare ${ms.preprocess.toFixed(0)}, model ${ms.inference.toFixed(0)}, ` +
    `NMS ${ms.postprocess.toFixed(0)})`;
}

async function detectBitmap(bitmap) {
  const [width, height] = fit(bitmap.width, bitmap.height);
  const result = await detect(bitmap, width, height);
  draw(bitmap, result);
  $("counts").textContent = headline(result.detections);
  $("fps").textContent = `1 image in ${timing(result.ms)}`;
  return result;
}

async function detectBlob(blob) {
  if (!page.session) throw new PageError("The model is not loaded yet");
  stopCamera();
  const bitmap = await decode(blob);
  page.last?.close();
  page.last = bitmap;
  return detectBitmap(bitmap);
}

// ---------------------------------------------------------------- camera

function cameraError(e) {
  if (e?.name === "NotAllowedError" || e?.name === "SecurityError") {
    return "Camera access was denied: allow the camera for this site (the camera icon in the address bar, or the " +
      "site settings) and press Start camera again, or choose a photo instead.";
  }
  if (e?.name === "NotFoundError" || e?.name === "OverconstrainedError") {
    return "No camera was found on this device: choose a photo instead.";
  }
  if (e?.name === "NotReadableError" || e?.name === "AbortError") {
    return "The camera could not be started: another program may be using it.";
  }
  return `The camera could not be started (${e?.name || "error"}: ${brief(e)}).`;
}

function stopCamera() {
  if (!page.camera) return;
  page.camera.running = false;
  for (const track of page.camera.stream.getTracks()) track.stop();
  page.camera = null;
  $("video").srcObject = null;
  $("camera").textContent = "Start camera";
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    showMessage("This browser gives this page no camera: the camera needs a secure page (https:// or localhost).");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 640 } }, audio: false });
  } catch (e) {
    showMessage(cameraError(e));
    return;
  }
  clearMessage();
  const video = $("video");
  video.srcObject = stream;
  const camera = { stream, running: true };
  page.camera = camera;
  $("camera").textContent = "Stop camera";
  stream.getVideoTracks()[0]?.addEventListener("ended", () => {
    stopCamera();
    showMessage("The camera stopped (unplugged, or turned off by the system).");
  });
  try {
    await video.play();
  } catch (e) {
    stopCamera();
    showMessage(cameraError(e));
    return;
  }
  let last = performance.now();
  let fps = 0;
  try {
    while (camera.running) {
      if (video.readyState < 2 || !video.videoWidth) {
        await nextFrame();
        continue;
      }
      const result = await detect(video, video.videoWidth, video.videoHeight);
      if (!camera.running) break;
      draw(page.grab, result); // the very frame the faces were found in
      const now = performance.now();
      fps = fps ? 0.8 * fps + 0.2 * (1000 / (now - last)) : 1000 / (now - last);
      last = now;
      $("counts").textContent = headline(result.detections);
      $("fps").textContent = `${fps.toFixed(1)} fps · ${timing(result.ms)} per frame`;
      await nextFrame();
    }
  } catch (e) {
    if (page.camera === camera) stopCamera(); // a failed frame stops the camera; the message says why
    throw e;
  }
}

// ---------------------------------------------------------------- wiring

function guarded(task) {
  return (...args) => task(...args).catch((e) => showMessage(explain(e)));
}

$("file").addEventListener("change", guarded(async (event) => {
  const file = event.target.files?.[0];
  if (!file) return;
  clearMessage();
  await detectBlob(file);
}));

$("camera").addEventListener("click", guarded(async () => {
  if (page.camera) stopCamera();
  else await startCamera();
}));

for (const id of ["conf", "iou"]) {
  $(id).addEventListener("input", guarded(async () => {
    $(`${id}-value`).textContent = Number($(id).value).toFixed(2);
    if (page.last && !page.camera) await detectBitmap(page.last);
  }));
}

const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("dragging");
});
drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
drop.addEventListener("drop", guarded(async (e) => {
  e.preventDefault();
  drop.classList.remove("dragging");
  const file = e.dataTransfer?.files?.[0];
  if (file && page.session) {
    clearMessage();
    await detectBlob(file);
  }
}));

window.addEventListener("unhandledrejection", (e) => showMessage(explain(e.reason)));

const ready = load().catch((e) => {
  showMessage(explain(e));
  $("counts").textContent = "The detector could not start.";
  $("status").textContent = "";
  document.body.dataset.state = "error";
  return { ok: false, error: explain(e) };
});

window.facemask = {
  /** Resolves once the model is loaded: {ok, backend, threads, model, names, imgsz} or {ok: false, error}. */
  ready,
  /** Detect the image at `url` as an upload would: {width, height, detections: [{box, conf, cls, name}], ms}. */
  async detectImage(url) {
    await ready;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return detectBlob(await response.blob());
  },
};
