//! A deterministic stand-in for an embeddings model: words to hashed buckets, synonyms to one.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::language::topic_words;
use crate::model::{ModelError, ModelErrorKind};
use crate::ports::Embedder;

/// How many dimensions [`WordEmbedder`]'s vectors have.
pub const WORD_EMBEDDER_DIMENSIONS: usize = 256;

/// Embeds a text as the counts of its topic words, each word's first five letters hashed into
/// one of [`WORD_EMBEDDER_DIMENSIONS`] buckets; words of one synonym group share a bucket, which
/// is how a test gives it "meaning" that word search cannot see. Counts its calls.
#[derive(Debug, Clone, Default)]
pub struct WordEmbedder {
    synonyms: Arc<Vec<Vec<String>>>,
    calls: Arc<AtomicUsize>,
    drop_last: bool,
    failing: Arc<AtomicBool>,
}

impl WordEmbedder {
    /// Words that mean the same: each group's words land in one bucket.
    #[must_use]
    pub fn with_synonyms(groups: &[&[&str]]) -> Self {
        let synonyms = groups.iter().map(|g| g.iter().map(|w| w.to_lowercase()).collect()).collect();
        Self { synonyms: Arc::new(synonyms), ..Self::default() }
    }

    /// Returns one vector too few (a broken server), to test the checks.
    #[must_use]
    pub fn dropping_last(mut self) -> Self {
        self.drop_last = true;
        self
    }

    /// Makes every later call fail (or succeed again).
    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// How many calls were made.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The vector of one text.
    #[must_use]
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0; WORD_EMBEDDER_DIMENSIONS];
        for word in topic_words(text) {
            let bucket = match self.synonyms.iter().position(|group| group.contains(&word)) {
                Some(group) => group,
                None => {
                    let stem: String = word.chars().take(5).collect();
                    let mut hasher = DefaultHasher::new();
                    stem.hash(&mut hasher);
                    // Buckets below the synonym groups' stay theirs alone.
                    let free = WORD_EMBEDDER_DIMENSIONS - self.synonyms.len();
                    self.synonyms.len() + usize::try_from(hasher.finish() % free as u64).unwrap_or(0)
                }
            };
            vector[bucket] += 1.0;
        }
        vector
    }
}

#[async_trait]
impl Embedder for WordEmbedder {
    fn model(&self) -> &str {
        "word-embedder"
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(ModelError::new(ModelErrorKind::Unavailable, "the embeddings model is down"));
        }
        let mut vectors: Vec<Vec<f32>> = texts.iter().map(|t| self.vector(t)).collect();
        if self.drop_last {
            vectors.pop();
        }
        Ok(vectors)
    }
}
