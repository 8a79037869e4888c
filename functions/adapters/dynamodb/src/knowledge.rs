//! The knowledge base: documents and their chunks under one partition per scope, and its version.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use steward_domain::clock::Timestamp;
use steward_domain::ids::DocumentId;
use steward_domain::knowledge::{Chunk, Document, Embedding, KbScope};
use steward_domain::ports::{KnowledgeStore, StoreError};

use crate::DynamoStore;
use crate::error::{corrupt, sdk_error};
use crate::item::{Item, delete_request, get_n, get_s, key, n, put_request, s};

fn kb_pk(scope: KbScope) -> String {
    format!("KB#{scope}")
}

fn chunk_sk(document: &DocumentId, index: u32) -> String {
    format!("CHUNK#{document}#{index:06}")
}

impl DynamoStore {
    async fn bump_version(&self, scope: KbScope, op: &'static str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(kb_pk(scope), "VERSION")))
            .update_expression("ADD version :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(sdk_error(op))?;
        Ok(())
    }
}

#[async_trait]
impl KnowledgeStore for DynamoStore {
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError> {
        const OP: &str = "put document";
        let pk = kb_pk(scope);
        let mut requests = Vec::with_capacity(chunks.len() + 1);
        for chunk in chunks {
            let mut item = key(pk.clone(), chunk_sk(&chunk.document, chunk.index));
            item.insert("document".into(), s(chunk.document.as_str()));
            item.insert("idx".into(), n(chunk.index));
            item.insert("title".into(), s(&chunk.title));
            item.insert("heading".into(), s(&chunk.heading));
            item.insert("body".into(), s(&chunk.text));
            if let Some(embedding) = &chunk.embedding {
                item.insert("emb_model".into(), s(&embedding.model));
                item.insert("emb".into(), AttributeValue::B(Blob::new(embedding.to_bytes())));
            }
            requests.push(put_request(item, OP)?);
        }
        // The document item goes last: a reader never sees a document whose chunks are missing.
        let mut item = key(pk, format!("DOC#{}", document.id));
        item.insert("id".into(), s(document.id.as_str()));
        item.insert("title".into(), s(&document.title));
        if let Some(source) = &document.source {
            item.insert("source".into(), s(source));
        }
        item.insert("created_at".into(), n(document.created_at.as_millis()));
        item.insert("chars".into(), n(document.chars));
        item.insert("chunks".into(), n(document.chunks));
        self.batch_write(requests, OP).await?;
        self.put(item, OP).await?;
        self.bump_version(scope, OP).await
    }

    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError> {
        const OP: &str = "list documents";
        let items = self.query_prefix(kb_pk(scope), "DOC#", OP).await?;
        let mut documents = items
            .iter()
            .map(|item| {
                Ok(Document {
                    id: DocumentId::parse(get_s(item, "id", OP)?).map_err(corrupt(OP))?,
                    title: get_s(item, "title", OP)?.to_owned(),
                    source: item.get("source").and_then(|v| v.as_s().ok()).cloned(),
                    created_at: Timestamp::from_millis(get_n(item, "created_at", OP)?),
                    chars: get_n(item, "chars", OP)?,
                    chunks: get_n(item, "chunks", OP)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        documents.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(documents)
    }

    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError> {
        const OP: &str = "delete document";
        let pk = kb_pk(scope);
        let removed = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), format!("DOC#{id}"))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_error(OP))?
            .attributes
            .is_some_and(|a| !a.is_empty());
        let chunks = self.query_prefix(pk.clone(), &format!("CHUNK#{id}#"), OP).await?;
        let requests = chunks
            .iter()
            .map(|item| delete_request(key(pk.clone(), get_s(item, "SK", OP)?), OP))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(requests, OP).await?;
        if removed {
            self.bump_version(scope, OP).await?;
        }
        Ok(removed)
    }

    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError> {
        const OP: &str = "load chunks";
        let items = self.query_prefix(kb_pk(scope), "CHUNK#", OP).await?;
        items
            .iter()
            .map(|item| {
                Ok(Chunk {
                    document: DocumentId::parse(get_s(item, "document", OP)?).map_err(corrupt(OP))?,
                    index: get_n(item, "idx", OP)?,
                    title: get_s(item, "title", OP)?.to_owned(),
                    heading: get_s(item, "heading", OP)?.to_owned(),
                    text: get_s(item, "body", OP)?.to_owned(),
                    embedding: embedding(item, OP)?,
                })
            })
            .collect()
    }

    async fn version(&self, scope: KbScope) -> Result<u64, StoreError> {
        const OP: &str = "read knowledge version";
        let item = self.get(key(kb_pk(scope), "VERSION"), OP).await?;
        item.map_or(Ok(0), |item| get_n(&item, "version", OP))
    }
}

/// A chunk item's vector (`emb`, little-endian f32s) and its model (`emb_model`), when it has one.
fn embedding(item: &Item, op: &'static str) -> Result<Option<Embedding>, StoreError> {
    let (Some(model), Some(bytes)) = (item.get("emb_model"), item.get("emb")) else { return Ok(None) };
    let (Ok(model), Ok(bytes)) = (model.as_s(), bytes.as_b()) else {
        return Err(corrupt(op)("an embedding attribute has the wrong type"));
    };
    Embedding::from_bytes(model.as_str(), bytes.as_ref())
        .map(Some)
        .ok_or_else(|| corrupt(op)("an embedding is not whole f32s"))
}
