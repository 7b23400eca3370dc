//! Mask assembly on the device that ran the network (WebGPU in the browser, wgpu or Burn's CPU
//! backend natively): the prototypes never leave it, and only bit-packed masks come back.
//!
//! The steps and their arithmetic are those of the CPU assembly in [`super::masks`]: logits are
//! coefficients x the prototype cells a mask reads, then PyTorch's bilinear resize as gathers of
//! the same taps, with the same multiply-add order (`(v00*wx0 + v01*wx1)*wy0 + ...`), then
//! logit > 0. Only the logits' matrix product sums in another order, so a mask can differ from the
//! CPU's only where a logit lies within float noise of 0.
//!
//! Masks are made in chunks: detections sorted by box area are grouped while the group times the
//! largest intermediate of the rectangle that covers all its boxes stays under [`CHUNK_PIXELS`],
//! and each chunk is evaluated on that rectangle only; a box too big on its own is cut into row
//! strips. The crop to each detection's own box happens when its bits are read.

use std::ops::Range;

use burn_tensor::{Device, Int, Tensor, TensorData, Transaction};

use super::bits::{BITS_PER_WORD, push_row_runs, words_per_row};
use super::interpolate::Taps;
use super::masks::{MaskPlan, Stages};
use super::{Letterbox, Placed, SegmentOptions, mask_plan};
use crate::error::{Error, Result};
use crate::mask::{Mask, MaskBuilder};

/// Most values of any one intermediate tensor of a chunk (16 MB of f32): bounds the device memory
/// a chunk takes to a few such buffers.
pub const CHUNK_PIXELS: usize = 1 << 22;

/// Packed bytes queued before a readback (a batch holds at least one chunk and stops at the first
/// chunk that reaches this): bounds the device memory the packed results take.
pub const READBACK_BYTES: usize = 32 << 20;

/// Detections evaluated together on one rectangle of the mask frame.
#[derive(Debug, Clone)]
struct Chunk {
    /// Indices into the placed detections.
    members: Vec<usize>,
    /// Frame columns and rows evaluated.
    columns: Range<usize>,
    rows: Range<usize>,
    /// A row strip of one box too big for a chunk: nothing joins it.
    strip: bool,
}

impl Chunk {
    fn packed_bytes(&self) -> usize {
        self.members.len() * self.rows.len() * words_per_row(self.columns.len()) * 4
    }
}

/// Assembles the masks of placed detections on the prototypes' device, batch by batch: queue a
/// batch with [`DeviceMasks::next_batch`], execute the transaction (synchronously natively,
/// asynchronously on WebGPU), hand the data to [`DeviceMasks::accept`], and take the masks with
/// [`DeviceMasks::finish`] once no batch is left.
pub struct DeviceMasks<'a> {
    plan: MaskPlan,
    /// Box spans `(columns, rows)` in the mask frame, per placed detection.
    boxes: Vec<(Range<usize>, Range<usize>)>,
    /// Packed bytes per readback batch.
    readback_bytes: usize,
    /// `output1` without its batch dimension: `[mask_dim, proto_height, proto_width]`.
    prototypes: Tensor<3>,
    device: Device,
    placed: &'a [Placed],
    chunks: Vec<Chunk>,
    /// Chunks queued so far.
    queued: usize,
    /// Chunks of the batch being read back.
    in_flight: Range<usize>,
    /// Per detection: its mask so far (strips of one box arrive in row order).
    builders: Vec<MaskBuilder>,
    /// Per detection: chunks not yet read back.
    remaining: Vec<usize>,
}

impl<'a> DeviceMasks<'a> {
    /// Plans the assembly of `placed`'s masks from `prototypes` (`[mask_dim, height, width]`)
    /// with the default budgets [`CHUNK_PIXELS`] and [`READBACK_BYTES`].
    pub fn new(
        prototypes: Tensor<3>,
        placed: &'a [Placed],
        lb: &Letterbox,
        options: &SegmentOptions,
    ) -> Self {
        Self::with_budget(
            prototypes,
            placed,
            lb,
            options,
            CHUNK_PIXELS,
            READBACK_BYTES,
        )
    }

    /// [`DeviceMasks::new`] with at most `chunk_pixels` values per intermediate tensor and
    /// `readback_bytes` packed bytes per batch.
    pub fn with_budget(
        prototypes: Tensor<3>,
        placed: &'a [Placed],
        lb: &Letterbox,
        options: &SegmentOptions,
        chunk_pixels: usize,
        readback_bytes: usize,
    ) -> Self {
        let [_, proto_height, proto_width] = prototypes.dims();
        let plan = mask_plan(proto_height, proto_width, lb, options);
        let boxes: Vec<_> = placed.iter().map(|p| plan.box_span(&p.crop)).collect();
        let chunks = plan_chunks(&boxes, chunk_pixels, |xs, ys| {
            largest_intermediate(&plan, xs, ys)
        });
        let mut remaining = vec![0; placed.len()];
        for chunk in &chunks {
            for &i in &chunk.members {
                remaining[i] += 1;
            }
        }
        let frame = (plan.frame_width as u32, plan.frame_height as u32);
        Self {
            plan,
            boxes,
            readback_bytes,
            device: prototypes.device(),
            prototypes,
            placed,
            chunks,
            queued: 0,
            in_flight: 0..0,
            builders: (0..placed.len())
                .map(|_| MaskBuilder::new(frame.0, frame.1))
                .collect(),
            remaining,
        }
    }

    /// Queues the next chunks on the device and returns the transaction that reads their packed
    /// bits; `None` when every chunk has been queued.
    pub fn next_batch(&mut self) -> Option<Transaction> {
        if self.queued == self.chunks.len() {
            return None;
        }
        let start = self.queued;
        let mut transaction = Transaction::default();
        let mut bytes = 0;
        while self.queued < self.chunks.len() && bytes < self.readback_bytes {
            let chunk = &self.chunks[self.queued];
            bytes += chunk.packed_bytes();
            transaction = transaction.register(self.evaluate(chunk));
            self.queued += 1;
        }
        self.in_flight = start..self.queued;
        Some(transaction)
    }

    /// Reads the data of the last batch into masks.
    pub fn accept(&mut self, data: Vec<TensorData>) -> Result<()> {
        if data.len() != self.in_flight.len() {
            return Err(Error::Inference(format!(
                "the device returned {} mask batches for {}",
                data.len(),
                self.in_flight.len()
            )));
        }
        for (chunk, data) in self.chunks[self.in_flight.clone()].iter().zip(data) {
            let words = data
                .try_into_vec::<f32>()
                .map_err(|e| Error::Inference(format!("unexpected mask data: {e:?}")))?;
            let per_row = words_per_row(chunk.columns.len());
            let per_mask = chunk.rows.len() * per_row;
            if words.len() != chunk.members.len() * per_mask {
                return Err(Error::Inference(format!(
                    "the device returned {} mask words for {}",
                    words.len(),
                    chunk.members.len() * per_mask
                )));
            }
            for (&index, bits) in chunk.members.iter().zip(words.chunks_exact(per_mask)) {
                let (xs, ys) = &self.boxes[index];
                let columns = shift_back(xs, chunk.columns.start);
                let rows = ys.start.max(chunk.rows.start)..ys.end.min(chunk.rows.end);
                for y in rows {
                    let row = (y - chunk.rows.start) * per_row;
                    push_row_runs(
                        &mut self.builders[index],
                        y as u32,
                        &bits[row..row + per_row],
                        columns.clone(),
                        chunk.columns.start,
                    );
                }
                self.remaining[index] -= 1;
            }
        }
        self.in_flight = 0..0;
        Ok(())
    }

    /// The masks, in the order of the placed detections.
    pub fn finish(self) -> Result<Vec<Mask>> {
        if self.remaining.iter().any(|&r| r > 0) {
            return Err(Error::Inference("a mask batch was never read back".into()));
        }
        Ok(self.builders.into_iter().map(MaskBuilder::finish).collect())
    }

    /// Queues one chunk: its masks' logits > 0 on the chunk's rectangle, packed
    /// `[members, rows, words, 1]`.
    fn evaluate(&self, chunk: &Chunk) -> Tensor<4> {
        let coefficients: Vec<f32> = chunk
            .members
            .iter()
            .flat_map(|&i| self.placed[i].coefficients.iter().copied())
            .collect();
        let [mask_dim, _, _] = self.prototypes.dims();
        let coefficients = Tensor::<2>::from_data(
            TensorData::new(coefficients, [chunk.members.len(), mask_dim]),
            &self.device,
        );
        let (xs, ys) = (chunk.columns.clone(), chunk.rows.clone());
        let reads = self.plan.reads(&xs, &ys);
        let (cells_x, cells_y) = reads.cells;
        let cells = self.logits(coefficients, cells_y.clone(), cells_x.clone());
        let cropped = (reads.cropped.0.start, reads.cropped.1.start);
        let logits = match &self.plan.stages {
            // The cells are the cropped grid's, shifted by the padding.
            Stages::Single { x, y, .. } => self.resize(cells, (x, y), (xs, ys), cropped),
            Stages::Double {
                up_x, up_y, x, y, ..
            } => {
                let (ux, uy) = reads.upsampled;
                let origin = (cells_x.start, cells_y.start);
                let upsampled = self.resize(cells, (up_x, up_y), (ux, uy), origin);
                self.resize(upsampled, (x, y), (xs, ys), cropped)
            }
        };
        self.pack(logits)
    }

    /// `coefficients` (`[n, mask_dim]`) x the prototype cells `rows` x `cols`: `[n, rows, cols]`.
    fn logits(&self, coefficients: Tensor<2>, rows: Range<usize>, cols: Range<usize>) -> Tensor<3> {
        let [mask_dim, _, _] = self.prototypes.dims();
        let (h, w) = (rows.len(), cols.len());
        let cells = self
            .prototypes
            .clone()
            .slice([0..mask_dim, rows, cols])
            .reshape([mask_dim, h * w]);
        let n = coefficients.dims()[0];
        coefficients.matmul(cells).reshape([n, h, w])
    }

    /// PyTorch's bilinear resize of `source` (`[n, rows, cols]`, its cell `(0, 0)` at source
    /// coordinates `origin`) evaluated on the output columns x rows `outputs`.
    fn resize(
        &self,
        source: Tensor<3>,
        (taps_x, taps_y): (&Taps, &Taps),
        (xs, ys): (Range<usize>, Range<usize>),
        (origin_x, origin_y): (usize, usize),
    ) -> Tensor<3> {
        let (nx, ny) = (xs.len(), ys.len());
        let index = |taps: &[usize], origin: usize| {
            let local: Vec<i32> = taps.iter().map(|&t| (t - origin) as i32).collect();
            let len = local.len();
            Tensor::<1, Int>::from_data(TensorData::new(local, [len]), &self.device)
        };
        let weight = |w: &[f32], shape: [usize; 3]| {
            Tensor::<3>::from_data(TensorData::new(w.to_vec(), shape), &self.device)
        };
        let (xa, xb) = (
            index(&taps_x.first[xs.clone()], origin_x),
            index(&taps_x.second[xs.clone()], origin_x),
        );
        let (wxa, wxb) = (
            weight(&taps_x.weight_first[xs.clone()], [1, 1, nx]),
            weight(&taps_x.weight_second[xs], [1, 1, nx]),
        );
        let horizontal = source.clone().select(2, xa) * wxa + source.select(2, xb) * wxb;
        let (ya, yb) = (
            index(&taps_y.first[ys.clone()], origin_y),
            index(&taps_y.second[ys.clone()], origin_y),
        );
        let (wya, wyb) = (
            weight(&taps_y.weight_first[ys.clone()], [1, ny, 1]),
            weight(&taps_y.weight_second[ys], [1, ny, 1]),
        );
        horizontal.clone().select(1, ya) * wya + horizontal.select(1, yb) * wyb
    }

    /// logit > 0 as bits, [`BITS_PER_WORD`] pixels per word: `[n, rows, words, 1]`.
    fn pack(&self, logits: Tensor<3>) -> Tensor<4> {
        let [n, h, w] = logits.dims();
        let words = words_per_row(w);
        let mut bits = logits.greater_elem(0.0).float();
        let padding = words * BITS_PER_WORD - w;
        if padding > 0 {
            let zeros = Tensor::<3>::zeros([n, h, padding], &self.device);
            bits = Tensor::cat(vec![bits, zeros], 2);
        }
        let weights: Vec<f32> = (0..BITS_PER_WORD).map(|i| (1u32 << i) as f32).collect();
        let weights = Tensor::<4>::from_data(
            TensorData::new(weights, [1, 1, 1, BITS_PER_WORD]),
            &self.device,
        );
        (bits.reshape([n, h, words, BITS_PER_WORD]) * weights).sum_dim(3)
    }
}

/// `r` shifted down by `by`.
fn shift_back(r: &Range<usize>, by: usize) -> Range<usize> {
    r.start - by..r.end - by
}

/// Values of the largest tensor evaluating `plan` on the frame rectangle `xs` x `ys` makes for
/// one mask: the logits, each resize's horizontal pass and output.
fn largest_intermediate(plan: &MaskPlan, xs: &Range<usize>, ys: &Range<usize>) -> usize {
    let (nx, ny) = (xs.len(), ys.len());
    let reads = plan.reads(xs, ys);
    let (px, py) = (reads.cells.0.len(), reads.cells.1.len());
    let (ux, uy) = (reads.upsampled.0.len(), reads.upsampled.1.len());
    let upsampling = match plan.stages {
        Stages::Single { .. } => 0,
        Stages::Double { .. } => (py * ux).max(uy * ux),
    };
    // Logits, the upsampling's passes, the last resize's horizontal pass and output.
    (py * px).max(upsampling).max(uy * nx).max(ny * nx)
}

/// Groups the non-empty boxes (`(columns, rows)` per detection) into chunks: largest boxes first,
/// each chunk growing while its size times `cost` of the rectangle covering its boxes stays within
/// `budget`. A box over `budget` on its own becomes row strips within it (one row at least).
fn plan_chunks(
    boxes: &[(Range<usize>, Range<usize>)],
    budget: usize,
    cost: impl Fn(&Range<usize>, &Range<usize>) -> usize,
) -> Vec<Chunk> {
    let area = |(xs, ys): &(Range<usize>, Range<usize>)| xs.len() * ys.len();
    let mut order: Vec<usize> = (0..boxes.len()).filter(|&i| area(&boxes[i]) > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(area(&boxes[i])));
    let mut chunks: Vec<Chunk> = Vec::new();
    for i in order {
        let (xs, ys) = &boxes[i];
        if let Some(last) = chunks.last_mut().filter(|c| !c.strip) {
            let columns = last.columns.start.min(xs.start)..last.columns.end.max(xs.end);
            let rows = last.rows.start.min(ys.start)..last.rows.end.max(ys.end);
            if (last.members.len() + 1) * cost(&columns, &rows) <= budget {
                last.members.push(i);
                last.columns = columns;
                last.rows = rows;
                continue;
            }
        }
        if cost(xs, ys) <= budget {
            chunks.push(Chunk {
                members: vec![i],
                columns: xs.clone(),
                rows: ys.clone(),
                strip: false,
            });
            continue;
        }
        // Too big alone: strips of as many rows as fit (the cost grows with the rows).
        let mut start = ys.start;
        while start < ys.end {
            let mut end = ys.end;
            while end - start > 1 && cost(xs, &(start..end)) > budget {
                end = start + (end - start) / 2;
            }
            chunks.push(Chunk {
                members: vec![i],
                columns: xs.clone(),
                rows: start..end,
                strip: true,
            });
            start = end;
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_non_empty_box_once_within_budget() {
        let boxes: Vec<(Range<usize>, Range<usize>)> = (0..40)
            .map(|i| {
                let x = (i * 37) % 900;
                let y = (i * 53) % 500;
                let side = 10 + (i * 97) % 700;
                (x..(x + side).min(1000), y..(y + side / 2).min(600))
            })
            .chain([(5..5, 0..10)])
            .collect();
        let area = |xs: &Range<usize>, ys: &Range<usize>| xs.len() * ys.len();
        let chunks = plan_chunks(&boxes, CHUNK_PIXELS, area);
        let mut seen: Vec<usize> = chunks.iter().flat_map(|c| c.members.clone()).collect();
        seen.sort();
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
        for c in &chunks {
            assert!(c.members.len() * area(&c.columns, &c.rows) <= CHUNK_PIXELS);
            for &i in &c.members {
                let (xs, ys) = &boxes[i];
                assert!(c.columns.start <= xs.start && xs.end <= c.columns.end);
                assert!(c.rows.start <= ys.start && ys.end <= c.rows.end);
            }
        }
        assert!(chunks.len() > 1 && chunks.len() < 40);
    }

    #[test]
    fn a_box_over_budget_becomes_row_strips_covering_it() {
        let boxes = vec![(0..1000, 0..700), (10..20, 10..20)];
        let area = |xs: &Range<usize>, ys: &Range<usize>| xs.len() * ys.len();
        let chunks = plan_chunks(&boxes, 100_000, area);
        let strips: Vec<&Chunk> = chunks.iter().filter(|c| c.members == [0]).collect();
        assert!(strips.len() > 1 && strips.iter().all(|c| c.strip));
        let mut next = 0;
        for s in &strips {
            assert_eq!((s.rows.start, s.columns.clone()), (next, 0..1000));
            assert!(area(&s.columns, &s.rows) <= 100_000);
            next = s.rows.end;
        }
        assert_eq!(next, 700);
        // The small box does not join a strip.
        assert!(chunks.iter().any(|c| c.members == [1] && !c.strip));
    }
}
