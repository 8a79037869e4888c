//! The embeddings port: vectors for texts, so search can match meaning as well as words.

use async_trait::async_trait;

use crate::knowledge::{Chunk, Embedding};
use crate::model::{ModelError, ModelErrorKind};

/// How many texts one embeddings call carries at most.
pub const EMBED_BATCH: usize = 64;

/// Turns texts into vectors (an OpenAI-compatible `/v1/embeddings` in production).
#[async_trait]
pub trait Embedder: Send + Sync {
    /// The model's name; stored with every vector so vectors of another model are never compared.
    fn model(&self) -> &str;

    /// One vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError>;
}

/// One text's vector.
///
/// # Errors
/// Returns the model's error, or [`ModelErrorKind::Malformed`] when it returns no vector.
pub async fn embed_one(embedder: &dyn Embedder, text: &str) -> Result<Embedding, ModelError> {
    let vectors = embedder.embed(&[text.to_owned()]).await?;
    let vector = vectors
        .into_iter()
        .next()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ModelError::new(ModelErrorKind::Malformed, "the embeddings model returned no vector"))?;
    Ok(Embedding::new(embedder.model(), vector))
}

/// Gives every chunk its vector, [`EMBED_BATCH`] chunks per call.
///
/// # Errors
/// Returns the model's error, or [`ModelErrorKind::Malformed`] when it returns another number
/// of vectors than texts, an empty vector, or vectors of different sizes.
pub async fn embed_chunks(embedder: &dyn Embedder, chunks: &mut [Chunk]) -> Result<(), ModelError> {
    let mut size = None;
    for batch in chunks.chunks_mut(EMBED_BATCH) {
        let texts: Vec<String> = batch.iter().map(Chunk::embedding_text).collect();
        let vectors = embedder.embed(&texts).await?;
        if vectors.len() != batch.len() {
            return Err(ModelError::new(
                ModelErrorKind::Malformed,
                format!("the embeddings model returned {} vectors for {} texts", vectors.len(), batch.len()),
            ));
        }
        for (chunk, vector) in batch.iter_mut().zip(vectors) {
            if vector.is_empty() || size.is_some_and(|size| size != vector.len()) {
                return Err(ModelError::new(ModelErrorKind::Malformed, "the embeddings model returned uneven vectors"));
            }
            size = Some(vector.len());
            chunk.embedding = Some(Embedding::new(embedder.model(), vector));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::ids::DocumentId;
    use crate::knowledge::NewDocument;
    use crate::testing::WordEmbedder;

    #[tokio::test]
    async fn every_chunk_gets_a_vector_in_batches() {
        let body = (0..150).map(|i| format!("# Part {i}\nParagraph number {i} about refunds.")).collect::<Vec<_>>();
        let (_, mut chunks) = NewDocument { title: "Long".into(), source: None, body: body.join("\n\n") }
            .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
            .unwrap();
        assert!(chunks.len() > EMBED_BATCH, "{} chunks", chunks.len());
        let embedder = WordEmbedder::default();
        embed_chunks(&embedder, &mut chunks).await.unwrap();
        assert!(chunks.iter().all(|c| c.embedding.as_ref().is_some_and(|e| e.model == embedder.model())));
        assert_eq!(embedder.calls(), chunks.len().div_ceil(EMBED_BATCH));
    }

    #[tokio::test]
    async fn a_model_that_miscounts_is_an_error_not_a_shifted_vector() {
        let (_, mut chunks) = NewDocument { title: "T".into(), source: None, body: "# A\nOne.\n\n# B\nTwo.".into() }
            .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
            .unwrap();
        let embedder = WordEmbedder::default().dropping_last();
        let error = embed_chunks(&embedder, &mut chunks).await.unwrap_err();
        assert_eq!(error.kind, ModelErrorKind::Malformed);
    }
}
