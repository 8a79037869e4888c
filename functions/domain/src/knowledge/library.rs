//! Adding documents to a knowledge base: a document from a source already there replaces it, so
//! re-importing a changed page or file never leaves a stale copy behind.

use super::{Document, DocumentError, KbScope, NewDocument};
use crate::clock::Timestamp;
use crate::ids::DocumentId;
use crate::model::ModelError;
use crate::ports::{Embedder, KnowledgeStore, StoreError, embed_chunks};

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
    /// The embeddings model failed (nothing was stored).
    #[error("the embeddings model could not embed the document")]
    Embed(#[source] ModelError),
    /// The store failed.
    #[error("the knowledge base could not be updated")]
    Store(#[from] StoreError),
}

/// Stores `new` in `scope` as document `id`, each chunk with its vector when an `embedder` is
/// configured, then removes earlier documents with the same source. The new one is stored
/// first, so the knowledge base is never without the page.
///
/// # Errors
/// Returns [`AddError::Invalid`] for an invalid submission, [`AddError::Embed`] when the
/// embeddings model fails and [`AddError::Store`] when the store fails; nothing is stored then.
pub async fn add_document(
    store: &dyn KnowledgeStore,
    embedder: Option<&dyn Embedder>,
    scope: KbScope,
    new: NewDocument,
    id: DocumentId,
    now: Timestamp,
) -> Result<Added, AddError> {
    let (document, mut chunks) = new.into_parts(id, now)?;
    if let Some(embedder) = embedder {
        embed_chunks(embedder, &mut chunks).await.map_err(AddError::Embed)?;
    }
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
            None,
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
            None,
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
            add_document(&store, None, scope, page(source, body), DocumentId::generate(), Timestamp::from_secs(1))
                .await
                .unwrap();
        }
        assert_eq!(store.list_documents(scope).await.unwrap().len(), 4);
        let invalid =
            add_document(&store, None, scope, page(Some("x.md"), " "), DocumentId::generate(), Timestamp::from_secs(2))
                .await;
        assert!(matches!(invalid, Err(AddError::Invalid(_))));
        assert_eq!(store.list_documents(scope).await.unwrap().len(), 4, "an invalid page replaces nothing");
    }

    #[tokio::test]
    async fn chunks_are_stored_with_their_vectors_when_an_embedder_is_configured() {
        let store = MemoryStore::default();
        let embedder = crate::testing::WordEmbedder::default();
        let body = "# Card\nRefunds go back to the card.\n\n# Time\nThey take 14 days.";
        add_document(
            &store,
            Some(&embedder),
            KbScope::Global,
            page(None, body),
            DocumentId::generate(),
            Timestamp::from_secs(1),
        )
        .await
        .unwrap();
        let chunks = store.chunks(KbScope::Global).await.unwrap();
        assert_eq!(chunks.len(), 2);
        for chunk in &chunks {
            let embedding = chunk.embedding.as_ref().expect("every chunk has its vector");
            assert_eq!(embedding.model, "word-embedder");
            let expected = crate::knowledge::Embedding::new("word-embedder", embedder.vector(&chunk.embedding_text()));
            assert_eq!(embedding, &expected);
        }
    }

    #[tokio::test]
    async fn a_failing_embedder_stores_nothing_and_replaces_nothing() {
        let store = MemoryStore::default();
        let scope = KbScope::Global;
        add_document(&store, None, scope, page(Some("r.md"), "Old."), DocumentId::generate(), Timestamp::from_secs(1))
            .await
            .unwrap();
        let embedder = crate::testing::WordEmbedder::default();
        embedder.fail(true);
        let failed = add_document(
            &store,
            Some(&embedder),
            scope,
            page(Some("r.md"), "New."),
            DocumentId::generate(),
            Timestamp::from_secs(2),
        )
        .await;
        assert!(matches!(failed, Err(AddError::Embed(_))), "{failed:?}");
        let chunks = store.chunks(scope).await.unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "Old.", "the earlier page stays");
    }
}
