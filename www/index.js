// Demo page: FastSAM in a module Web Worker (the package's `FastSamWorker`), prompted with the
// pointer. The model runs once per image; every prompt is a quick request to the worker.
import "./style.css";
import { FastSamWorker, clearModelCache, isModelCached } from "../pkg/client.js";
import { receiveFiles } from "./drop.js";
import { cocoJson, download, maskPng } from "./export.js";
import { MAX_SIDE, decodeImage } from "./images.js";
import { Prompts } from "./prompts.js";
import { SAMPLES } from "./samples.js";
import { Stage } from "./stage.js";
import { fail, fileName, say, showModel, showProgress, showStats } from "./status.js";

const $ = (id) => document.getElementById(id);

/** localStorage key of the last model URL that loaded. */
const REMEMBERED_URL = "fastsam-web:model-url";
const HELP = {
  everything: "Every mask. Hover to highlight one; click to select it for export.",
  points: "Click an object; shift-click or right-click marks background. Points add up.",
  box: "Drag a box around an object; each box gives its best mask.",
  text: "Describe an object; separate several with “;”. Needs CLIP (the text encoder) once.",
};
/** The text encoder's three files, looked up in the folder a URL names. */
const CLIP_FILES = { image: "clip-image.onnx", text: "clip-text.onnx", vocab: "clip-bpe.txt.gz" };
/** Overlay of prompt results; a merged point mask takes the first colour. */
const PROMPT_STYLE = {
  colors: [
    [30, 144, 255],
    [255, 140, 0],
    [46, 204, 113],
    [175, 82, 222],
  ],
  alpha: 150,
};
/** Overlay of the selected and hovered masks in everything mode (the others are dimmed). */
const HIGHLIGHT_STYLE = { colors: [[255, 212, 0]], alpha: 190, outline: [255, 255, 255, 255] };
/** Boxes smaller than this (image px) are taken for a slip of the pointer. */
const MIN_BOX = 4;

const worker = new FastSamWorker();
worker.onbackendchange = ({ reason }) => {
  showStats({ model: worker.model });
  say(`WebGPU stopped working; the model now runs on the CPU (${reason}).`);
};
const stage = new Stage($("stage"));
const prompts = new Prompts();
const state = {
  mode: "everything",
  /** @type {{image: ImageData, name: string, note: string} | null} `note`: how it was resized */
  picture: null,
  /** @type {import("../js/client.js").WorkerSegmentation | null} */
  seg: null,
  /** Everything mode: instance index -> description. */
  masks: new Map(),
  /** Points and box modes: the masks (with bitmaps) of the last prompt. */
  selection: [],
  /** Everything mode: clicked and hovered instance indices. */
  selected: undefined,
  hovered: undefined,
  /** Box mode: the box being dragged. */
  drag: null,
  /** What the status line says about the current masks. */
  summary: "",
  /** @type {AbortController | null} the model load in progress */
  loading: null,
  /** Text mode: the sentences of the last text prompt (none yet: empty). */
  sentences: [],
  /** Whether a text encoder is loaded into the current model. */
  textReady: false,
  /** Counts text encoder loads (a segmentation's regions are embedded once per encoder). */
  textEncoder: 0,
};

/**
 * Returns a function that starts a new "generation" of some redraw and returns a check: true
 * while no later generation has started. Lets slow answers never overwrite newer ones.
 */
function generations() {
  let latest = 0;
  return () => {
    const mine = ++latest;
    return () => mine === latest;
  };
}
const nextSegment = generations();
const nextRender = generations();
const nextHighlight = generations();
const nextOutline = generations();

/** Marks the picture busy (`aria-busy`) while `task` runs. */
let pending = 0;
async function busy(task) {
  pending += 1;
  stage.root.setAttribute("aria-busy", "true");
  try {
    return await task;
  } finally {
    pending -= 1;
    if (pending === 0) stage.root.setAttribute("aria-busy", "false");
  }
}

async function loadModel(source) {
  state.loading?.abort();
  const loading = new AbortController();
  state.loading = loading;
  const name = fileName(typeof source === "string" ? source : source.name);
  say(`Loading the model ${name}…`);
  try {
    const backend = $("model-backend").value;
    const model = await busy(worker.load(source, { onProgress: showProgress, signal: loading.signal, backend }));
    if (typeof source === "string") localStorage.setItem(REMEMBERED_URL, source);
    setTextReady(false, "No text encoder loaded (a new model was loaded).");
    showStats({ model });
    if (model.fallbackReason) say(`Running on the CPU: ${model.fallbackReason}.`);
    if (state.picture) await segment();
    else say(`Model ${name} ready. Pick an image.`);
  } catch (error) {
    if (state.loading !== loading) return; // replaced by a newer load
    showModel(worker.model);
    fail(`Could not load “${name}”`, error);
  } finally {
    if (state.loading === loading) state.loading = null;
  }
}

async function openImage(blob, name) {
  try {
    const { image, original } = await decodeImage(blob);
    state.seg?.free();
    state.seg = null;
    const resized =
      original && `${original.width}×${original.height} image downscaled to ${image.width}×${image.height}`;
    const note = resized ? `${resized} (the demo segments at most ${MAX_SIDE} px). ` : "";
    state.picture = { image, name, note };
    prompts.clear("points");
    prompts.clear("box");
    stage.showImage(image);
    if (worker.model) await segment();
    else say(`${note}Image ready: load a model to segment it.`);
  } catch (error) {
    fail(`Could not open “${name}”`, error);
  }
}

async function openSample({ file, url }) {
  say(`Opening ${file}…`);
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await openImage(await response.blob(), file);
  } catch (error) {
    fail(`Could not open “${file}”`, error);
  }
}

async function segment() {
  const { image, name, note } = state.picture;
  const isCurrent = nextSegment();
  say(`${note}Segmenting ${name}…`);
  try {
    const seg = await busy(worker.segment(image));
    if (!isCurrent()) return seg.free();
    state.seg?.free();
    state.seg = seg;
    outlined = "";
    state.selected = state.hovered = undefined;
    const { length, preprocessMs, inferenceMs, postprocessMs } = seg;
    showStats({ masks: length, preprocessMs, inferenceMs, postprocessMs, promptMs: null });
    await render();
  } catch (error) {
    if (isCurrent()) fail(`Could not segment “${name}”`, error);
  }
}

/** Enables the sentence input once a text encoder is loaded. */
function setTextReady(ready, note) {
  state.textReady = ready;
  $("text-prompt").disabled = $("text-go").disabled = !ready;
  if (note) $("clip-status").textContent = note;
}

/** Loads CLIP from a folder URL or from the three chosen files. */
async function loadTextEncoder(sources) {
  if (!worker.model) return say("Load a model first, then the text encoder.");
  const status = $("clip-status");
  status.textContent = "Loading the text encoder…";
  try {
    const info = await busy(
      worker.loadTextEncoder(sources, {
        onProgress: ({ status: step, file, progress }) => {
          const pct = typeof progress === "number" ? ` ${Math.round(progress)} %` : "";
          status.textContent = `Text encoder: ${step} ${fileName(file)}${pct}`;
        },
      }),
    );
    const where = info.backend === "webgpu" ? "WebGPU" : "the CPU";
    state.textEncoder += 1;
    // Segmentations keep their image for the text prompt only once an encoder is loaded.
    if (state.picture) await segment();
    setTextReady(true, `Text encoder ready (on ${where}).${info.fallbackReason ? ` ${info.fallbackReason}.` : ""}`);
    $("text-prompt").focus();
  } catch (error) {
    status.textContent = state.textReady
      ? "The previous text encoder is still loaded."
      : "No text encoder loaded.";
    fail("Could not load the text encoder", error);
  }
}

/** The three CLIP files among `files`, by name. */
function clipFiles(files) {
  const found = {};
  for (const file of files) {
    if (/image.*\.onnx$/i.test(file.name)) found.image = file;
    else if (/text.*\.onnx$/i.test(file.name)) found.text = file;
    else if (/\.(gz|txt)$/i.test(file.name)) found.vocab = file;
  }
  return found.image && found.text && found.vocab ? found : null;
}

/** Draws the current mode's prompts. */
function showPrompts() {
  if (state.mode === "points") stage.showPrompts({ points: prompts.points, labels: prompts.labels });
  else if (state.mode === "box") stage.showPrompts({ boxes: prompts.boxes, drag: state.drag });
  else stage.showPrompts({});
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A sentence about the masks a prompt gave (`result` null: no prompt yet). */
function summarize(result) {
  const { name, note } = state.picture;
  if (state.mode === "everything") return `${note}${plural(state.seg.length, "mask")} in ${name}.`;
  if (!result) return HELP[state.mode];
  const given =
    state.mode === "points"
      ? plural(prompts.points.length, "point")
      : state.mode === "text"
        ? state.sentences.map((t) => `“${t}”`).join(", ")
        : plural(prompts.boxes.length, "box", "boxes");
  const area = result.masks.reduce((sum, m) => sum + m.area, 0);
  return result.masks.length === 0
    ? `${given}: no mask.`
    : `${given}: ${plural(result.masks.length, "mask")}, ${area} px.`;
}

/** Runs the current mode's prompt and draws its masks. */
async function render() {
  showPrompts();
  const seg = state.seg;
  if (!seg) return;
  const isCurrent = nextRender();
  try {
    let result = null;
    if (state.mode === "everything") {
      result = await busy(seg.everything());
    } else if (state.mode === "points" && prompts.has("points")) {
      result = await busy(seg.points(prompts.points, prompts.labels, { overlay: PROMPT_STYLE }));
    } else if (state.mode === "box" && prompts.has("box")) {
      result = await busy(seg.boxes(prompts.boxes, { overlay: PROMPT_STYLE }));
    } else if (state.mode === "text" && state.textReady && state.sentences.length) {
      const threshold = $("text-all").checked ? Number($("text-threshold").value) : undefined;
      if (seg.textEmbedded !== state.textEncoder) say("Embedding every mask with CLIP (once per image)…");
      result = await busy(seg.text(state.sentences, { overlay: PROMPT_STYLE, threshold }));
      seg.textEmbedded = state.textEncoder;
    }
    if (!isCurrent() || seg !== state.seg) return;
    stage.showMasks(result?.overlay ?? null);
    state.masks = new Map(state.mode === "everything" ? result.masks.map((m) => [m.index, m]) : []);
    state.selection = state.mode === "everything" ? [] : (result?.masks ?? []);
    showStats({ promptMs: result ? result.promptMs : null, renderMs: result?.renderMs });
    state.summary = summarize(result);
    say(state.summary);
    await highlight();
  } catch (error) {
    if (isCurrent() && seg === state.seg) fail("The prompt failed", error);
  }
}

/** Draws the selected and hovered masks of everything mode on the highlight layer. */
async function highlight() {
  outline();
  const isCurrent = nextHighlight();
  const seg = state.seg;
  const indices = [...new Set([state.selected, state.hovered])].filter((i) => i !== undefined);
  if (!seg || state.mode !== "everything" || indices.length === 0) {
    stage.showHighlight(null);
    return;
  }
  const overlay = await busy(seg.overlay(indices, HIGHLIGHT_STYLE));
  if (isCurrent() && seg === state.seg) stage.showHighlight(overlay);
}

/** What the outline layer shows: "indices@tolerance", so that hovering redraws nothing. */
let outlined = "";

/**
 * Outlines the selected masks as the polygons the exports write at the slider's tolerance, and
 * shows their point count. A merged point mask is no instance: it gets no outline.
 */
async function outline() {
  const seg = state.seg;
  const tolerance = Number($("outline-tolerance").value);
  const indices = seg ? selectedIndices() : [];
  const key = `${indices?.join(",")}@${tolerance}`;
  if (key === outlined) return;
  outlined = key;
  const isCurrent = nextOutline();
  if (!indices?.length) {
    stage.showOutline(null);
    $("outline-points").textContent = `${tolerance} px`;
    return;
  }
  try {
    const masks = await busy(seg.polygons(indices, { tolerance }));
    if (!isCurrent() || seg !== state.seg) return;
    const polygons = masks.flatMap((m) => m.polygons);
    const points = polygons.reduce(
      (n, p) => n + p.exterior.length / 2 + p.holes.reduce((h, ring) => h + ring.length / 2, 0),
      0,
    );
    stage.showOutline(polygons);
    $("outline-points").textContent = `${tolerance} px: ${plural(points, "point")}`;
  } catch (error) {
    if (isCurrent()) fail("Could not trace the outline", error);
  }
}

/** Describes mask `index` of everything mode in the status line (none: the summary). */
function describeMask(index) {
  const mask = state.masks.get(index);
  if (!mask) return say(state.summary);
  const [x1, y1, x2, y2] = mask.bbox.map(Math.round);
  say(`Mask ${index}: score ${mask.score.toFixed(2)}, ${mask.area} px, box ${x1},${y1} – ${x2},${y2}.`);
}

/**
 * Everything mode: highlights the mask under image pixel `at` (null: none) and describes it. If the
 * picture changed meanwhile, the answer is dropped.
 * @param {[number, number] | null} at
 * @param {boolean} click toggle the selection instead of hovering
 */
async function pointAtMask(at, click) {
  const seg = state.seg;
  try {
    const index = at && seg ? await busy(seg.maskAt(...at)) : undefined;
    if (seg !== state.seg) return;
    if (click) state.selected = index === state.selected ? undefined : index;
    else if (index === state.hovered) return;
    else state.hovered = index;
    describeMask(click ? state.selected : index);
    await highlight();
  } catch (error) {
    if (seg === state.seg) fail("Highlighting failed", error);
  }
}

/** Hover: one question to the worker at a time, always about the latest pointer position. */
let hoverAsking = false;
let hoverNext;
async function hover(point) {
  hoverNext = point;
  if (hoverAsking) return;
  hoverAsking = true;
  while (hoverNext !== undefined) {
    const at = hoverNext;
    hoverNext = undefined;
    await pointAtMask(at, false);
  }
  hoverAsking = false;
}

function setMode(mode) {
  state.mode = mode;
  for (const button of document.querySelectorAll(".mode")) {
    button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  }
  $("mode-help").textContent = HELP[mode];
  $("undo").disabled = $("clear").disabled = mode === "everything";
  $("text-panel").hidden = mode !== "text";
  state.hovered = undefined;
  render();
}

async function exportPng() {
  const { seg, picture } = state;
  if (!seg) return say("Nothing to export yet: load a model and an image.");
  try {
    let masks = state.selection;
    if (state.mode === "everything")
      masks = state.selected === undefined ? [] : [await seg.mask(state.selected)];
    if (masks.length === 0) {
      say(
        state.mode === "everything"
          ? "Click a mask to select it first."
          : "Add a prompt first: no mask is selected.",
      );
      return;
    }
    download(await maskPng(masks), `${baseName(picture.name)}-mask.png`);
  } catch (error) {
    fail("Could not export the mask", error);
  }
}

async function exportCoco() {
  const { seg, picture } = state;
  if (!seg) return say("Nothing to export yet: load a model and an image.");
  try {
    const masks = await busy(seg.rle());
    const image = { fileName: picture.name, width: picture.image.width, height: picture.image.height };
    download(cocoJson(masks, image), `${baseName(picture.name)}-masks.json`);
    say(`Exported ${masks.length} masks as COCO RLE.`);
  } catch (error) {
    fail("Could not export the masks", error);
  }
}

/** The exports of the format menu: the worker method, file suffix, MIME type and options. */
const POLYGON_FORMATS = {
  coco: ["toCoco", "-coco.json", "application/json"],
  yolo: ["toYolo", ".txt", "text/plain"],
  svg: ["toSvg", ".svg", "image/svg+xml"],
  geojson: ["toGeoJson", ".geojson", "application/geo+json"],
  labelstudio: ["toLabelStudio", "-label-studio.json", "application/json"],
  "labelstudio-brush": ["toLabelStudio", "-label-studio-brush.json", "application/json", { brush: true }],
};

/**
 * Instance indices of the selection: the clicked mask in everything mode, the prompt's masks
 * otherwise. A merged point mask is no instance (it has no index): `null`.
 */
function selectedIndices() {
  if (state.mode === "everything") return state.selected === undefined ? [] : [state.selected];
  if (state.selection.some((m) => m.index === undefined)) return null;
  return [...new Set(state.selection.map((m) => m.index))];
}

/** Saves the masks in the menu's format: every mask, or with `selected` the selection's. */
async function exportPolygons(selected = false) {
  const { seg, picture } = state;
  if (!seg) return say("Nothing to export yet: load a model and an image.");
  const indices = selected ? selectedIndices() : undefined;
  if (indices === null)
    return say("Merged point masks are not one of the masks: export them as PNG, or select masks with a box or text.");
  if (indices?.length === 0)
    return say(state.mode === "everything" ? "Click a mask to select it first." : "Add a prompt first: no mask is selected.");
  const format = $("export-format").value;
  const [method, suffix, type, formatOptions] = POLYGON_FORMATS[format];
  try {
    const tolerance = Number($("outline-tolerance").value);
    const options = { tolerance, ...formatOptions, ...(format === "coco" ? { fileName: picture.name } : {}) };
    const value = await busy(seg[method](indices, options));
    const text = typeof value === "string" ? value : JSON.stringify(value);
    const name = `${baseName(picture.name)}${selected ? "-selected" : ""}${suffix}`;
    download(new Blob([text], { type }), name);
    const count = indices ? indices.length : seg.length;
    say(`Exported ${plural(count, selected ? "selected mask" : "mask")} as ${$("export-format").selectedOptions[0].textContent}.`);
  } catch (error) {
    fail("Could not export the masks", error);
  }
}

const baseName = (name) => name.replace(/\.[^.]*$/, "") || "image";

// Model controls.
$("model-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadModel($("model-url").value.trim());
});
$("model-file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  event.target.value = "";
  if (file) loadModel(file);
});
$("model-cancel").addEventListener("click", () => state.loading?.abort());
$("model-forget").addEventListener("click", async () => {
  localStorage.removeItem(REMEMBERED_URL);
  say((await clearModelCache()) ? "Cached models deleted." : "No model was cached.");
});

// Image controls.
$("image-file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  event.target.value = "";
  if (file) openImage(file, file.name);
});
for (const sample of SAMPLES) {
  const button = document.createElement("button");
  button.type = "button";
  button.append(Object.assign(document.createElement("img"), { src: sample.url, alt: "" }), sample.name);
  button.addEventListener("click", () => openSample(sample));
  $("samples").append(button);
}
receiveFiles((file) => (/\.onnx$/i.test(file.name) ? loadModel(file) : openImage(file, file.name)));

// Prompt controls.
for (const button of document.querySelectorAll(".mode")) {
  button.addEventListener("click", () => setMode(button.dataset.mode));
}
/** Text mode: the sentence input shows the sentences in use. */
const showSentences = () => ($("text-prompt").value = state.sentences.join("; "));
$("undo").addEventListener("click", () => {
  if (state.mode === "text") {
    state.sentences.pop();
    showSentences();
  } else prompts.undo(state.mode);
  render();
});
$("clear").addEventListener("click", () => {
  if (state.mode === "text") {
    state.sentences = [];
    showSentences();
  } else prompts.clear(state.mode);
  render();
});
$("clip-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const folder = $("clip-url").value.trim();
  if (!folder) return say("Give the URL of a folder holding the three CLIP files.");
  const base = new URL(folder.endsWith("/") ? folder : `${folder}/`, location.href);
  const sources = Object.fromEntries(Object.entries(CLIP_FILES).map(([k, f]) => [k, new URL(f, base).href]));
  loadTextEncoder(sources);
});
$("clip-files").addEventListener("change", (event) => {
  const files = clipFiles(event.target.files);
  event.target.value = "";
  if (files) loadTextEncoder(files);
  else say("Choose the three files together: clip-image.onnx, clip-text.onnx and clip-bpe.txt.gz.");
});
$("text-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.sentences = $("text-prompt")
    .value.split(";")
    .map((t) => t.trim())
    .filter(Boolean);
  if (!state.seg) return say("Load a model and an image first.");
  render();
});
$("text-all").addEventListener("change", () => state.mode === "text" && render());
$("text-threshold").addEventListener("change", () => state.mode === "text" && $("text-all").checked && render());
$("export-png").addEventListener("click", exportPng);
$("export-coco").addEventListener("click", exportCoco);
$("export-polygons").addEventListener("click", () => exportPolygons());
$("outline-tolerance").addEventListener("input", () => outline());
$("export-polygons-selected").addEventListener("click", () => exportPolygons(true));
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "z" && !(event.target instanceof HTMLInputElement)) {
    event.preventDefault();
    $("undo").click();
  }
});

// The picture.
const layer = stage.prompts;
layer.addEventListener("contextmenu", (event) => event.preventDefault());
layer.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.button !== 2) return;
  if (!state.seg) return say("Load a model and an image first.");
  const point = stage.pointAt(event);
  if (state.mode === "everything") {
    pointAtMask(point, true);
  } else if (state.mode === "points") {
    prompts.addPoint(point, event.button !== 2 && !event.shiftKey);
    render();
  } else if (state.mode === "box") {
    state.drag = [...point, ...point];
    layer.setPointerCapture(event.pointerId);
  }
});
layer.addEventListener("pointermove", (event) => {
  if (state.mode === "everything") {
    hover(stage.pointAt(event));
  } else if (state.drag) {
    state.drag = [state.drag[0], state.drag[1], ...stage.pointAt(event)];
    showPrompts();
  }
});
layer.addEventListener("pointerup", () => {
  const drag = state.drag;
  if (!drag) return;
  state.drag = null;
  if (Math.abs(drag[2] - drag[0]) >= MIN_BOX && Math.abs(drag[3] - drag[1]) >= MIN_BOX) prompts.addBox(drag);
  render();
});
layer.addEventListener("pointerleave", () => {
  if (state.mode === "everything") hover(null);
});

// Start: a model named in the URL (?model=…), or the last one if the browser still has it.
setMode("everything");
const presetBackend = new URLSearchParams(location.search).get("backend");
if (["auto", "webgpu", "cpu"].includes(presetBackend)) $("model-backend").value = presetBackend;
const presetClip = new URLSearchParams(location.search).get("clip");
if (presetClip) $("clip-url").value = presetClip;
const preset = new URLSearchParams(location.search).get("model");
const remembered = localStorage.getItem(REMEMBERED_URL);
if (preset) {
  $("model-url").value = preset;
  loadModel(preset);
} else if (remembered) {
  $("model-url").value = remembered;
  if (await isModelCached(remembered)) loadModel(remembered);
}
