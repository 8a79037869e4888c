//! Chunk embeddings: the vector a chunk was given at import, stored with it, and how close two are.

use serde::{Deserialize, Serialize};

/// A unit-length vector and the model that made it (vectors of different models never compare).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// The embeddings model's name, as configured (`EMBEDDINGS_MODEL`).
    pub model: String,
    /// The vector, scaled to unit length.
    pub vector: Vec<f32>,
}

impl Embedding {
    /// `vector` from `model`, scaled to unit length (a zero vector stays zero).
    #[must_use]
    pub fn new(model: impl Into<String>, mut vector: Vec<f32>) -> Self {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 && norm.is_finite() {
            for x in &mut vector {
                *x /= norm;
            }
        }
        Self { model: model.into(), vector }
    }

    /// The cosine similarity with another unit vector, from -1 to 1 (0 when the sizes differ).
    #[must_use]
    pub fn similarity(&self, other: &[f32]) -> f32 {
        if self.vector.len() != other.len() {
            return 0.0;
        }
        self.vector.iter().zip(other).map(|(a, b)| a * b).sum()
    }

    /// The vector as little-endian `f32` bytes, the stored form.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.vector.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// Reads the stored form back; `None` when `bytes` is not a whole number of `f32`s.
    #[must_use]
    pub fn from_bytes(model: impl Into<String>, bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
            return None;
        }
        let vector = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Some(Self { model: model.into(), vector })
    }
}

/// The text a chunk is embedded from: where it sits, then what it says.
#[must_use]
pub fn embedding_text(title: &str, heading: &str, text: &str) -> String {
    if heading.is_empty() { format!("{title}\n{text}") } else { format!("{title} › {heading}\n{text}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_and_compare_by_cosine() {
        let a = Embedding::new("m", vec![3.0, 4.0]);
        assert!((a.vector[0] - 0.6).abs() < 1e-6 && (a.vector[1] - 0.8).abs() < 1e-6);
        assert!((a.similarity(&a.vector) - 1.0).abs() < 1e-6);
        assert!(a.similarity(&[0.8, -0.6]).abs() < 1e-6, "orthogonal");
        assert!(a.similarity(&[1.0, 0.0, 0.0]).abs() < f32::EPSILON, "other sizes never match");
        assert_eq!(Embedding::new("m", vec![0.0, 0.0]).vector, [0.0, 0.0]);
    }

    #[test]
    fn the_stored_form_round_trips() {
        let a = Embedding::new("text-embedding-3-small", vec![0.25, -1.5, 3.0]);
        let back = Embedding::from_bytes("text-embedding-3-small", &a.to_bytes()).unwrap();
        assert_eq!(back, a);
        assert!(Embedding::from_bytes("m", &[1, 2, 3]).is_none());
        assert!(Embedding::from_bytes("m", &[]).is_none());
    }
}
