//! Text-to-mask selection: cosine similarity between each region's image embedding and the
//! sentence's text embedding, as the official code scores them (`100 * cos`, softmax over masks).

use crate::error::{Error, Result};

/// L2-normalised embeddings of the scored regions of one segmentation.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionEmbeddings {
    instances: Vec<usize>,
    dim: usize,
    unit: Vec<f32>,
}

/// How a sentence picks masks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TextOptions {
    /// `None`: the single best mask (the official behaviour). `Some(t)`: every mask whose cosine
    /// similarity is at least `t` (CLIP cosines of a matching pair are typically 0.25-0.35).
    pub threshold: Option<f32>,
}

impl TextOptions {
    /// Checks the threshold is a cosine (-1..=1).
    pub fn validate(&self) -> Result<()> {
        match self.threshold {
            Some(t) if !(-1.0..=1.0).contains(&t) => Err(Error::InvalidOption(format!(
                "threshold {t} is not a cosine similarity; use a value in -1..1 (0.25 is a common start)"
            ))),
            _ => Ok(()),
        }
    }
}

/// One scored region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionScore {
    /// Instance index in the segmentation.
    pub instance: usize,
    /// Cosine similarity with the sentence.
    pub cosine: f32,
    /// Softmax of `100 * cosine` over every scored region.
    pub probability: f32,
}

/// What one sentence selected.
#[derive(Debug, Clone, PartialEq)]
pub struct TextMatch {
    /// The selected instances: the best one, or with a threshold every passing one, best first.
    pub selected: Vec<usize>,
    /// Every scored region, in detection order.
    pub scores: Vec<RegionScore>,
}

impl TextMatch {
    /// The best instance, if any region was scored.
    pub fn best(&self) -> Option<usize> {
        best_of(&self.scores).map(|s| s.instance)
    }
}

fn best_of(scores: &[RegionScore]) -> Option<&RegionScore> {
    // The first maximum, like argmax.
    scores
        .iter()
        .fold(None, |best: Option<&RegionScore>, s| match best {
            Some(b) if b.cosine >= s.cosine => Some(b),
            _ => Some(s),
        })
}

/// Normalises `v` in place to unit length (zero vectors stay zero).
fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

impl RegionEmbeddings {
    /// Wraps raw image embeddings (`instances.len() x dim`, row-major), normalising each row.
    pub fn new(instances: Vec<usize>, dim: usize, mut embeddings: Vec<f32>) -> Result<Self> {
        if embeddings.len() != instances.len() * dim {
            return Err(Error::Inference(format!(
                "{} embedding values for {} regions of {dim}",
                embeddings.len(),
                instances.len()
            )));
        }
        if dim > 0 {
            embeddings.chunks_exact_mut(dim).for_each(normalise);
        }
        Ok(Self {
            instances,
            dim,
            unit: embeddings,
        })
    }

    /// The scored instances, in detection order.
    pub fn instances(&self) -> &[usize] {
        &self.instances
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Scores every region against one raw text embedding and selects per `options`.
    pub fn select(&self, text: &[f32], options: &TextOptions) -> Result<TextMatch> {
        if text.len() != self.dim {
            return Err(Error::Inference(format!(
                "text embedding of {} values, image embeddings of {}",
                text.len(),
                self.dim
            )));
        }
        let mut t = text.to_vec();
        normalise(&mut t);
        let cosines: Vec<f32> = self
            .unit
            .chunks_exact(self.dim.max(1))
            .map(|row| row.iter().zip(&t).map(|(a, b)| a * b).sum())
            .collect();
        let max = cosines.iter().fold(f32::NEG_INFINITY, |m, &c| m.max(c));
        let exps: Vec<f32> = cosines.iter().map(|c| (100.0 * (c - max)).exp()).collect();
        let total: f32 = exps.iter().sum();
        let scores: Vec<RegionScore> = self
            .instances
            .iter()
            .zip(cosines.iter().zip(&exps))
            .map(|(&instance, (&cosine, &e))| RegionScore {
                instance,
                cosine,
                probability: e / total,
            })
            .collect();
        let selected = match options.threshold {
            None => best_of(&scores).map(|s| s.instance).into_iter().collect(),
            Some(threshold) => {
                let mut passing: Vec<&RegionScore> =
                    scores.iter().filter(|s| s.cosine >= threshold).collect();
                passing.sort_by(|a, b| b.cosine.total_cmp(&a.cosine));
                passing.iter().map(|s| s.instance).collect()
            }
        };
        Ok(TextMatch { selected, scores })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> RegionEmbeddings {
        // Three regions in 2-D: along x, along y, and diagonal (not normalised on purpose).
        RegionEmbeddings::new(vec![0, 3, 5], 2, vec![2.0, 0.0, 0.0, 3.0, 1.0, 1.0]).unwrap()
    }

    #[test]
    fn best_is_the_highest_cosine() {
        let m = regions()
            .select(&[0.0, 5.0], &TextOptions::default())
            .unwrap();
        assert_eq!(m.selected, vec![3]);
        assert_eq!(m.best(), Some(3));
        assert!((m.scores[1].cosine - 1.0).abs() < 1e-6);
        assert!((m.scores[2].cosine - 0.5f32.sqrt()).abs() < 1e-6);
        let total: f32 = m.scores.iter().map(|s| s.probability).sum();
        assert!((total - 1.0).abs() < 1e-5);
    }

    #[test]
    fn threshold_keeps_every_passing_region_best_first() {
        let options = TextOptions {
            threshold: Some(0.5),
        };
        let m = regions().select(&[1.0, 2.0], &options).unwrap();
        // cosines: 0.447 (x), 0.894 (y), 0.949 (diagonal)
        assert_eq!(m.selected, vec![5, 3]);
        assert!(
            TextOptions {
                threshold: Some(1.5)
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn no_regions_select_nothing() {
        let empty = RegionEmbeddings::new(vec![], 2, vec![]).unwrap();
        let m = empty.select(&[1.0, 0.0], &TextOptions::default()).unwrap();
        assert!(m.selected.is_empty() && m.best().is_none());
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        assert!(RegionEmbeddings::new(vec![0], 2, vec![1.0]).is_err());
        assert!(regions().select(&[1.0], &TextOptions::default()).is_err());
    }
}
