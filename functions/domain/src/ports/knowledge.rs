//! The knowledge port: documents and chunks of the knowledge base.

use async_trait::async_trait;

use super::StoreError;
use crate::ids::DocumentId;
use crate::knowledge::{Chunk, Document, KbScope};

/// Stores knowledge-base documents and their chunks, with a version that changes on every write.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Stores a document and its chunks, replacing none, and bumps the scope's version.
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError>;
    /// Lists a scope's documents, oldest first.
    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError>;
    /// Deletes a document and its chunks; `false` when it did not exist.
    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError>;
    /// Every chunk in a scope.
    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError>;
    /// The scope's version: any write changes it, so caches keyed on it stay correct.
    async fn version(&self, scope: KbScope) -> Result<u64, StoreError>;
}
