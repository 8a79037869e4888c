//! Adding documents to a knowledge base: a document from a source already there replaces it, so
//! re-importing a changed page or file never leaves a stale copy behind.

use super::{Document, DocumentError, KbScope, NewDocument};
use crate::clock::Timestamp;
use crate::ids::DocumentId;
use crate::ports::{KnowledgeStore, StoreError};

/// What adding a document did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The stored document.
    pub document: Document,
    /// How many chunks it was cut into.
    pub chunks: usize,
    /// How many earlier documents from the same source it replaced.
    pub replaced: usize,
}

/// Why a document was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The submission itself is invalid (nothing was stored).
    #[error(transparent)]
    Invalid(#[from] DocumentError),
    /// The store failed.
    #[error("the knowledge base could not be updated")]
    Store(#[from] StoreError),
}

/// Stores `new` in `scope` as document `id`, then removes earlier documents with the same
/// source. The new one is stored first, so the knowledge base is never without the page.
///
/// # Errors
/// Returns [`AddError::Invalid`] for an invalid submission and [`AddError::Store`] when the
/// store fails.
pub async fn add_document(
    store: &dyn KnowledgeStore,
    scope: KbScope,
    new: NewDocument,
    id: DocumentId,
    now: Timestamp,
) -> Result<Added, AddError> {
    let (document, chunks) = new.into_parts(id, now)?;
    store.put_document(scope, &document, &chunks).await?;
    let mut replaced = 0;
    if let Some(source) = &document.source {
        for earlier in store.list_documents(scope).await? {
            if earlier.id != document.id && earlier.source.as_ref() == Some(source) {
                replaced += usize::from(store.delete_document(scope, &earlier.id).await?);
            }
        }
    }
    Ok(Added { chunks: chunks.len(), document, replaced })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryStore;

    fn page(source: Option<&str>, body: &str) -> NewDocument {
        NewDocument { title: "Refunds".into(), source: source.map(str::to_owned), body: body.into() }
    }

    #[tokio::test]
    async fn re_importing_a_source_replaces_its_document() {
        let store = MemoryStore::default();
        let scope = KbScope::Global;
        let first = add_document(
            &store,
            scope,
            page(Some("help/refunds.md"), "Old text."),
            DocumentId::generate(),
            Timestamp::from_secs(1),
        )
        .await
        .unwrap();
        assert_eq!(first.replaced, 0);
        let second = add_document(
            &store,
            scope,
            page(Some("help/refunds.md"), "New text."),
            DocumentId::generate(),
            Timestamp::from_secs(2),
        )
        .await
        .unwrap();
        assert_eq!(second.replaced, 1);
        let documents = store.list_documents(scope).await.unwrap();
        assert_eq!(documents, vec![second.document]);
        let chunks = store.chunks(scope).await.unwrap();
        assert!(chunks.iter().all(|c| c.text == "New text."), "{chunks:?}");
    }

    #[tokio::test]
    async fn documents_without_a_source_or_from_other_sources_stay() {
        let store = MemoryStore::default();
        let scope = KbScope::Global;
        for (source, body) in [(None, "a"), (None, "b"), (Some("x.md"), "c"), (Some("y.md"), "d")] {
            add_document(&store, scope, page(source, body), DocumentId::generate(), Timestamp::from_secs(1))
                .await
                .unwrap();
        }
        assert_eq!(store.list_documents(scope).await.unwrap().len(), 4);
        let invalid =
            add_document(&store, scope, page(Some("x.md"), " "), DocumentId::generate(), Timestamp::from_secs(2)).await;
        assert!(matches!(invalid, Err(AddError::Invalid(_))));
        assert_eq!(store.list_documents(scope).await.unwrap().len(), 4, "an invalid page replaces nothing");
    }
}
