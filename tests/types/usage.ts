// Every export of the package, used as a page would, so that `tsc --strict` checks the
// declarations against real calls (this file is type-checked, never run).
import init, {
  ERROR_CODES,
  FastSam,
  FastSamError,
  type FastSamErrorCode,
  type BackendChange,
  type Mask,
  type Segmentation,
  type CocoDataset,
  type ImageInput,
  type LabelStudioResult,
  type Polygon,
  type PolygonMask as MainPolygonMask,
  type SegmentOptions,
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
import { FastSam as CpuFastSam, initSync } from "fastsam-web/cpu";

export async function mainThread(bytes: Uint8Array, image: ImageInput): Promise<string> {
  await init();
  const model: FastSam = await FastSam.load(bytes, { backend: "auto" });
  model.onbackendchange = (event: BackendChange) => console.log(event.backend, event.reason);
  const options: SegmentOptions = { conf: 0.4, iou: 0.9, maskResolution: "low" };
  const seg: Segmentation = await model.segment(image, options);
  const masks: Mask[] = seg.everything();
  const [picked] = seg.points([[10, 20]], [1], { mode: "merged" });
  const boxed = seg.boxes([[0, 0, 10, 10]]);
  const polygons: Polygon[] = picked.toPolygons({ tolerance: 1, holes: true, maxPoints: 50 });
  const coco: CocoDataset = seg.toCoco(undefined, { fileName: "a.jpg", polygons: true });
  const outlines: MainPolygonMask[] = seg.polygons([0, 1], { tolerance: 2, minArea: 4 });
  const studio: LabelStudioResult[] = seg.toLabelStudio([0], { brush: true });
  const text = [
    seg.toYolo(undefined, { classId: 1 }),
    seg.toSvg(),
    JSON.stringify(seg.toGeoJson()),
    picked.toSvgPath(),
    `${model.dtype} ${model.backend} ${model.engine} ${model.build} ${seg.maskWidth}`,
    `${polygons.length} ${coco.annotations.length} ${studio.length} ${boxed.length} ${outlines[0].area}`,
    `${picked.toRle().counts.length} ${picked.data().length} ${picked.bbox[0]} ${seg.maskAt(1, 2)}`,
  ].join("\n");
  const overlay: ImageData = seg.overlay(undefined, { alpha: 120 });
  picked.toImageData([30, 144, 255, 153]);
  await model.loadTextEncoder({ image: bytes, text: bytes, vocab: bytes });
  await seg.text("a dog", { threshold: 0.2 });
  for (const mask of [...masks, picked, ...boxed]) mask.free();
  seg.free();
  model.free();
  return `${text} ${overlay.width}`;
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
  return all.masks.length + point.masks.length + traced.length + info.inputSize + Number(cached);
}

export async function oneEngine(bytes: Uint8Array): Promise<string> {
  const gpu = await GpuFastSam.load(bytes, { backend: "webgpu" });
  const cpu = await CpuFastSam.load(bytes, { backend: "cpu" });
  return `${gpu.backend} ${cpu.backend} ${initSync.length}`;
}
