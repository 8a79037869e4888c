//! Knowledge-base cases.

use super::guild;
use crate::clock::Timestamp;
use crate::ids::DocumentId;
use crate::knowledge::{Embedding, KbScope, NewDocument};
use crate::ports::KnowledgeStore;

/// Documents and chunks are stored per scope; every write changes the version; delete removes chunks.
pub async fn knowledge_documents(store: &dyn KnowledgeStore) {
    let scope = KbScope::Guild(guild(7));
    let v0 = store.version(scope).await.unwrap();
    assert!(store.list_documents(scope).await.unwrap().is_empty());
    let body = format!("# Billing\n{}\n\n# Install\nRun the installer.", "Plans are paid monthly. ".repeat(60));
    let (doc, chunks) = NewDocument { title: "FAQ".into(), source: Some("faq.md".into()), body }
        .into_parts(DocumentId::generate(), Timestamp::from_secs(100))
        .unwrap();
    assert!(chunks.len() >= 2);
    store.put_document(scope, &doc, &chunks).await.unwrap();
    let v1 = store.version(scope).await.unwrap();
    assert_ne!(v0, v1, "a write changes the version");
    assert_eq!(store.list_documents(scope).await.unwrap(), vec![doc.clone()]);
    let mut stored = store.chunks(scope).await.unwrap();
    stored.sort_by_key(|c| c.index);
    assert_eq!(stored, chunks);
    assert!(store.list_documents(KbScope::Global).await.unwrap().iter().all(|d| d.id != doc.id), "scopes are separate");

    let (second, second_chunks) = NewDocument { title: "Guide".into(), source: None, body: "Hello world.".into() }
        .into_parts(DocumentId::generate(), Timestamp::from_secs(200))
        .unwrap();
    store.put_document(scope, &second, &second_chunks).await.unwrap();
    let listed: Vec<_> = store.list_documents(scope).await.unwrap().into_iter().map(|d| d.title).collect();
    assert_eq!(listed, ["FAQ", "Guide"], "oldest first");

    assert!(store.delete_document(scope, &doc.id).await.unwrap());
    assert!(!store.delete_document(scope, &doc.id).await.unwrap(), "second delete finds nothing");
    let v2 = store.version(scope).await.unwrap();
    assert!(v2 != v1, "a delete changes the version");
    let remaining = store.chunks(scope).await.unwrap();
    assert_eq!(remaining, second_chunks, "the deleted document's chunks are gone");
}

/// Chunks keep their vectors exactly (model and every `f32`), and chunks without one stay without.
pub async fn knowledge_embeddings(store: &dyn KnowledgeStore) {
    let scope = KbScope::Guild(guild(8));
    let body = "# Refunds\nRefunds take 14 days.\n\n# Install\nRun the installer.";
    let (doc, mut chunks) = NewDocument { title: "FAQ".into(), source: None, body: body.into() }
        .into_parts(DocumentId::generate(), Timestamp::from_secs(100))
        .unwrap();
    assert_eq!(chunks.len(), 2);
    // 1,536 dimensions, as OpenAI's small model gives, with values no rounding survives.
    let vector: Vec<f32> = (0..1536_u16).map(|i| (f32::from(i) * 0.618_034).sin() / 7.0 + 1e-7).collect();
    chunks[0].embedding = Some(Embedding::new("text-embedding-3-small", vector));
    store.put_document(scope, &doc, &chunks).await.unwrap();
    let mut stored = store.chunks(scope).await.unwrap();
    stored.sort_by_key(|c| c.index);
    assert_eq!(stored, chunks, "vectors round-trip bit for bit");
    assert!(stored[1].embedding.is_none());
}
