//! An [`Embedder`] over an OpenAI-compatible `/embeddings` endpoint.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use steward_domain::model::{ModelError, ModelErrorKind};
use steward_domain::ports::Embedder;

use crate::OpenAiConfig;
use crate::client::Client;

/// An OpenAI-compatible embeddings model (`text-embedding-3-small`, `nomic-embed-text`, …).
#[derive(Debug, Clone)]
pub struct OpenAiEmbedder {
    client: Client,
    url: String,
}

#[derive(Serialize)]
struct EmbeddingsBody<'a> {
    model: &'a str,
    input: &'a [String],
    encoding_format: &'static str,
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<Datum>,
}

#[derive(Deserialize)]
struct Datum {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// Builds the client; `config.model` names the embeddings model.
    ///
    /// # Errors
    /// Returns an error if the HTTP client cannot be built (TLS setup).
    pub fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        let client = Client::new(config)?;
        let url = client.url("/embeddings");
        Ok(Self { client, url })
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.client.config.model
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let body = EmbeddingsBody { model: &self.client.config.model, input: texts, encoding_format: "float" };
        let reply: EmbeddingsResponse = self.client.call(&self.url, &body).await?;
        // The data come with their input's index; put them back in input order.
        let mut vectors = vec![Vec::new(); texts.len()];
        for datum in reply.data {
            let slot = vectors.get_mut(datum.index).ok_or_else(|| {
                ModelError::new(
                    ModelErrorKind::Malformed,
                    format!("an embedding for input {} of {}", datum.index, texts.len()),
                )
            })?;
            *slot = datum.embedding;
        }
        if vectors.iter().any(Vec::is_empty) {
            return Err(ModelError::new(ModelErrorKind::Malformed, "an input got no embedding"));
        }
        Ok(vectors)
    }
}
