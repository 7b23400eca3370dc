// Every export of the package, used as a page would, so that `tsc --strict` checks the
// declarations against real calls (this file is type-checked, never run).
import init, {
  ERROR_CODES,
  FastSam,
  FastSamError,
  Segmentation,
  type FastSamErrorCode,
  type BackendChange,
  type CocoDataset,
  type EverythingResult,
  type ImageInput,
  type LabelStudioResult,
  type MaskResult,
  type Polygon,
  type PolygonMask as MainPolygonMask,
  type PromptResult,
  type RleMask,
  type SegmentOptions,
  type WithoutOverlay,
} from "fastsam-web";
import {
  ERROR_CODES as WORKER_ERROR_CODES,
  FastSamError as WorkerFastSamError,
  FastSamWorker,
  WorkerSegmentation,
  clearModelCache,
  isModelCached,
  type ModelInfo,
  type PolygonMask,
  type ProgressInfo,
} from "fastsam-web/worker";
import { FastSam as GpuFastSam } from "fastsam-web/webgpu";
import { FastSam as CpuFastSam, initSync, type Mask } from "fastsam-web/cpu";

/** `T`'s methods answering Promises of what they answer (the worker's view of a class). */
type Promised<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};
/** The worker's segmentation is the main-thread one behind Promises: one API shape. */
export const sameShape = (seg: WorkerSegmentation): Promised<Omit<Segmentation, typeof Symbol.dispose>> => seg;

export async function mainThread(bytes: Uint8Array, image: ImageInput): Promise<string> {
  await init();
  const model: FastSam = await FastSam.load(bytes, { backend: "auto" });
  model.onbackendchange = (event: BackendChange) => console.log(event.backend, event.reason);
  const options: SegmentOptions = { conf: 0.4, iou: 0.9, maskResolution: "low" };
  using seg: Segmentation = await model.segment(image, options);
  const all: EverythingResult = seg.everything({ overlay: { alpha: 120 } });
  const listed: null = seg.everything({ overlay: false }).overlay;
  const bare: WithoutOverlay<PromptResult> = seg.boxes([[0, 0, 9, 9]], { overlay: false, polygons: {} });
  const picked: PromptResult = seg.points([[10, 20]], [1], { mode: "merged", overlay: { outline: null } });
  const boxed = seg.boxes([[0, 0, 10, 10]]);
  const one: MaskResult = seg.mask(all.masks[0].index ?? 0);
  const rle: RleMask[] = seg.rle([0]);
  const polygons: Polygon[] = seg.polygons([0], { tolerance: 1, holes: true, maxPoints: 50 })[0].polygons;
  const coco: CocoDataset = seg.toCoco(undefined, { fileName: "a.jpg", polygons: true });
  const outlines: MainPolygonMask[] = seg.polygons([0, 1], { tolerance: 2, minArea: 4 });
  const studio: LabelStudioResult[] = seg.toLabelStudio([0], { brush: true });
  const text = [
    seg.toYolo(undefined, { classId: 1 }),
    seg.toSvg(),
    JSON.stringify(seg.toGeoJson()),
    `${model.dtype} ${model.backend} ${model.engine} ${model.build} ${seg.maskWidth}`,
    `${polygons.length} ${coco.annotations.length} ${studio.length} ${boxed.masks.length} ${outlines[0].area}`,
    `${rle[0].rle.counts.length} ${one.data.length} ${picked.masks[0].bbox[0]} ${seg.maskAt(1, 2)}`,
    `${seg.edges().area} ${seg.proposals(3).length} ${picked.overlay.width} ${all.promptMs}`,
    `${listed} ${bare.masks.length} ${bare.overlay}`,
  ].join("\n");
  const overlay: ImageData = seg.overlay(undefined, { alpha: 120 });
  await model.loadTextEncoder({ image: bytes, text: bytes, vocab: bytes });
  const named: PromptResult = await seg.text("a dog", { threshold: 0.2 });
  await seg.textScores("a dog");
  model.free();
  return `${text} ${overlay.width} ${named.masks.length}`;
}

/** The one-engine builds hand out the wasm classes themselves. */
export function wasmMasks(masks: Mask[]): number {
  return masks.reduce((sum, m) => sum + m.toPolygons({ tolerance: 1 }).length, 0);
}

export function refused(error: unknown): FastSamErrorCode | undefined {
  if (error instanceof FastSamError) return error.code;
  if (error instanceof WorkerFastSamError) return error.code;
  const made = new FastSamError("NO_MODEL", "no model", { cause: error });
  return ERROR_CODES.includes(made.code) && WORKER_ERROR_CODES.length > 0 ? undefined : made.code;
}

export async function inWorker(url: string, image: ImageInput): Promise<number> {
  const fastsam = new FastSamWorker();
  fastsam.onbackendchange = ({ backend, reason }) => console.log(backend, reason);
  const info: ModelInfo = await fastsam.load(url, {
    backend: "auto",
    onProgress: (p: ProgressInfo) => console.log(p.status),
    signal: new AbortController().signal,
  });
  await fastsam.loadTextEncoder({ image: url, text: url, vocab: url });
  const seg: WorkerSegmentation = await fastsam.segment(image, { transfer: false });
  const all = await seg.everything({ overlay: { alpha: 140 } });
  const unlisted: null = (await seg.points([[5, 5]], undefined, { overlay: false })).overlay;
  const point = await seg.points([[5, 5]], [1]);
  const traced: PolygonMask[] = await seg.polygons(undefined, { tolerance: 2 });
  await seg.boxes([[0, 0, 5, 5]]);
  await seg.text(["a cat", "a dog"]);
  await seg.textScores("a cat");
  await seg.mask(0);
  await seg.edges();
  await seg.rle([0]);
  await seg.toCoco();
  await seg.toYolo();
  await seg.toSvg();
  await seg.toGeoJson();
  await seg.toLabelStudio();
  await seg.overlay();
  await seg.maskAt(1, 1);
  await seg.proposals(3);
  await seg.free();
  const cached = (await isModelCached(url)) && (await clearModelCache());
  fastsam.terminate();
  return all.masks.length + point.masks.length + traced.length + info.inputSize + Number(cached) + Number(unlisted);
}

export async function oneEngine(bytes: Uint8Array): Promise<string> {
  const gpu = await GpuFastSam.load(bytes, { backend: "webgpu" });
  if (!(gpu instanceof GpuFastSam) || Segmentation.name === "") return "";
  const cpu = await CpuFastSam.load(bytes, { backend: "cpu" });
  return `${gpu.backend} ${cpu.backend} ${initSync.length}`;
}
