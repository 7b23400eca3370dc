// Demo page: load a FastSAM ONNX model, segment an image once, then prompt interactively.
import init, { FastSam } from "../pkg/fastsam_web.js";

const $ = (id) => document.getElementById(id);
const imageCanvas = $("image");
const overlay = $("overlay");
const status = $("status");

const state = {
  model: null,
  segmentation: null,
  imageData: null,
  mode: "everything",
  points: [],
  labels: [],
  boxes: [],
  drag: null,
};

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function fail(error) {
  console.error(error);
  say(error?.message ?? String(error), true);
}

async function loadModel(bytes, name) {
  say(`Compiling ${name} (${(bytes.byteLength / 1e6).toFixed(1)} MB)…`);
  state.model?.free();
  state.model = null;
  state.model = await FastSam.load(bytes);
  say(`Model ready: ${name}, ${state.model.inputSize} px, backend ${state.model.backend}. Pick an image.`);
  if (state.imageData) await segment();
}

async function segment() {
  if (!state.model || !state.imageData) return;
  say("Segmenting…");
  state.segmentation?.free();
  state.segmentation = null;
  const seg = await state.model.segment(state.imageData);
  state.segmentation = seg;
  $("timings").textContent =
    `model ${seg.inferenceMs.toFixed(0)} ms · post-processing ${seg.postprocessMs.toFixed(0)} ms · ${seg.length} masks`;
  say(`${seg.length} masks. ${state.mode === "everything" ? "" : "Prompt away."}`);
  render();
}

function colour(i) {
  const hue = (i * 137.508) % 360;
  const c = (1 - Math.abs(((hue / 60) % 2) - 1)) * 255;
  const rgb = [[255, c, 0], [c, 255, 0], [0, 255, c], [0, c, 255], [c, 0, 255], [255, 0, c]][Math.floor(hue / 60)];
  return [Math.round(rgb[0]), Math.round(rgb[1]), Math.round(rgb[2]), 120];
}

function drawMasks(masks) {
  const ctx = overlay.getContext("2d");
  const layer = document.createElement("canvas");
  masks.forEach((mask, i) => {
    layer.width = mask.width;
    layer.height = mask.height;
    layer.getContext("2d").putImageData(mask.toImageData(colour(i)), 0, 0);
    ctx.drawImage(layer, 0, 0, overlay.width, overlay.height);
    mask.free();
  });
}

function render() {
  const ctx = overlay.getContext("2d");
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  const seg = state.segmentation;
  if (!seg) return;
  const t0 = performance.now();
  let masks = [];
  try {
    if (state.mode === "everything") masks = seg.everything();
    else if (state.mode === "points" && state.points.length) masks = seg.points(state.points, state.labels);
    else if (state.mode === "box" && state.boxes.length) masks = seg.boxes(state.boxes);
  } catch (error) {
    fail(error);
  }
  const promptMs = performance.now() - t0;
  drawMasks(masks);
  ctx.lineWidth = Math.max(2, overlay.width / 400);
  for (const [i, [x, y]] of state.points.entries()) {
    ctx.fillStyle = state.labels[i] ? "#2ecc71" : "#e74c3c";
    ctx.beginPath();
    ctx.arc(x, y, ctx.lineWidth * 3, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.strokeStyle = "#1e90ff";
  for (const [x1, y1, x2, y2] of state.boxes) ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  if (state.drag) {
    const [x1, y1, x2, y2] = state.drag;
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    ctx.setLineDash([]);
  }
  if (state.mode !== "everything") say(`Prompt: ${promptMs.toFixed(1)} ms`);
}

function imagePoint(event) {
  const r = overlay.getBoundingClientRect();
  const x = ((event.clientX - r.left) / r.width) * overlay.width;
  const y = ((event.clientY - r.top) / r.height) * overlay.height;
  return [Math.min(Math.max(x, 0), overlay.width - 1), Math.min(Math.max(y, 0), overlay.height - 1)];
}

async function loadImage(blob) {
  const bitmap = await createImageBitmap(blob);
  for (const c of [imageCanvas, overlay]) {
    c.width = bitmap.width;
    c.height = bitmap.height;
  }
  const ctx = imageCanvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  state.imageData = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  state.points = [];
  state.labels = [];
  state.boxes = [];
  if (state.model) await segment();
  else say("Image ready. Load a model.");
}

$("model-load").onclick = async () => {
  const url = $("model-url").value.trim();
  if (!url) return say("Enter the URL of a FastSAM .onnx file.", true);
  try {
    say(`Downloading ${url}…`);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`Download failed: HTTP ${response.status}`);
    await loadModel(new Uint8Array(await response.arrayBuffer()), url.split("/").pop());
  } catch (error) {
    fail(error);
  }
};
$("model-file").onchange = async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  try {
    await loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (error) {
    fail(error);
  }
};
$("image-file").onchange = async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  try {
    await loadImage(file);
  } catch (error) {
    fail(error);
  }
};
for (const button of document.querySelectorAll(".mode")) {
  button.onclick = () => {
    state.mode = button.dataset.mode;
    for (const b of document.querySelectorAll(".mode")) b.setAttribute("aria-pressed", String(b === button));
    render();
  };
}
$("clear").onclick = () => {
  state.points = [];
  state.labels = [];
  state.boxes = [];
  render();
};
overlay.addEventListener("contextmenu", (e) => e.preventDefault());
overlay.addEventListener("pointerdown", (e) => {
  if (!state.segmentation) return;
  const [x, y] = imagePoint(e);
  if (state.mode === "points") {
    state.points.push([x, y]);
    state.labels.push(e.button === 2 || e.shiftKey ? 0 : 1);
    render();
  } else if (state.mode === "box") {
    state.drag = [x, y, x, y];
    overlay.setPointerCapture(e.pointerId);
  }
});
overlay.addEventListener("pointermove", (e) => {
  if (!state.drag) return;
  const [x, y] = imagePoint(e);
  state.drag = [state.drag[0], state.drag[1], x, y];
  render();
});
overlay.addEventListener("pointerup", () => {
  if (!state.drag) return;
  const [a, b, c, d] = state.drag;
  state.drag = null;
  const box = [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
  if (box[2] - box[0] >= 2 && box[3] - box[1] >= 2) state.boxes.push(box);
  render();
});

await init();
const preset = new URLSearchParams(location.search).get("model");
if (preset) {
  $("model-url").value = preset;
  $("model-load").click();
}
