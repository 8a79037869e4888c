//! The knowledge port in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::ids::DocumentId;
use crate::knowledge::{Chunk, Document, KbScope};
use crate::ports::{KnowledgeStore, StoreError};

#[async_trait]
impl KnowledgeStore for MemoryStore {
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError> {
        let mut tables = self.tables();
        tables.documents.insert((scope, document.id.clone()), (document.clone(), chunks.to_vec()));
        *tables.versions.entry(scope).or_default() += 1;
        Ok(())
    }

    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError> {
        let tables = self.tables();
        let mut docs: Vec<Document> =
            tables.documents.iter().filter(|((s, _), _)| *s == scope).map(|(_, (d, _))| d.clone()).collect();
        docs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(docs)
    }

    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let existed = tables.documents.remove(&(scope, id.clone())).is_some();
        if existed {
            *tables.versions.entry(scope).or_default() += 1;
        }
        Ok(existed)
    }

    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError> {
        let tables = self.tables();
        Ok(tables.documents.iter().filter(|((s, _), _)| *s == scope).flat_map(|(_, (_, c))| c.clone()).collect())
    }

    async fn version(&self, scope: KbScope) -> Result<u64, StoreError> {
        Ok(self.tables().versions.get(&scope).copied().unwrap_or(0))
    }
}
