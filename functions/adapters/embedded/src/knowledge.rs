//! The knowledge base: documents, their chunks, and a version per scope.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Transaction, params};
use steward_domain::clock::Timestamp;
use steward_domain::ids::DocumentId;
use steward_domain::knowledge::{Chunk, Document, Embedding, KbScope};
use steward_domain::ports::{KnowledgeStore, StoreError};

use crate::SqliteStore;
use crate::row::{corrupt, error, i64_of, u64_of};

fn bump_version(tx: &Transaction<'_>, scope: &str, op: &'static str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO kb_versions (scope, version) VALUES (?1, 1)
         ON CONFLICT (scope) DO UPDATE SET version = version + 1",
        [scope],
    )
    .map_err(error(op))?;
    Ok(())
}

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn put_document(&self, scope: KbScope, document: &Document, chunks: &[Chunk]) -> Result<(), StoreError> {
        const OP: &str = "put document";
        let document = document.clone();
        let chunks = chunks.to_vec();
        self.with(OP, move |conn| {
            let scope = scope.to_string();
            let tx = conn.transaction().map_err(error(OP))?;
            tx.execute(
                "INSERT INTO kb_documents (scope, id, title, source, created_at, chars, chunks)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    scope,
                    document.id.as_str(),
                    document.title,
                    document.source,
                    document.created_at.as_millis(),
                    i64_of(document.chars),
                    document.chunks
                ],
            )
            .map_err(error(OP))?;
            {
                let mut insert = tx
                    .prepare(
                        "INSERT INTO kb_chunks (scope, document, idx, title, heading, body, embedding_model, embedding)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )
                    .map_err(error(OP))?;
                for chunk in &chunks {
                    let embedding = chunk.embedding.as_ref();
                    insert
                        .execute(params![
                            scope,
                            chunk.document.as_str(),
                            chunk.index,
                            chunk.title,
                            chunk.heading,
                            chunk.text,
                            embedding.map(|e| e.model.as_str()),
                            embedding.map(Embedding::to_bytes),
                        ])
                        .map_err(error(OP))?;
                }
            }
            bump_version(&tx, &scope, OP)?;
            tx.commit().map_err(error(OP))
        })
        .await
    }

    async fn list_documents(&self, scope: KbScope) -> Result<Vec<Document>, StoreError> {
        const OP: &str = "list documents";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT id, title, source, created_at, chars, chunks FROM kb_documents
                     WHERE scope = ?1 ORDER BY created_at, id",
                )
                .map_err(error(OP))?;
            let rows = query
                .query_map([scope.to_string()], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get(5)?,
                    ))
                })
                .map_err(error(OP))?;
            rows.map(|row| {
                let (id, title, source, created_at, chars, chunks) = row.map_err(error(OP))?;
                Ok(Document {
                    id: DocumentId::parse(&id).map_err(corrupt(OP))?,
                    title,
                    source,
                    created_at: Timestamp::from_millis(created_at),
                    chars: u64_of(chars),
                    chunks,
                })
            })
            .collect()
        })
        .await
    }

    async fn delete_document(&self, scope: KbScope, id: &DocumentId) -> Result<bool, StoreError> {
        const OP: &str = "delete document";
        let id = id.clone();
        self.with(OP, move |conn| {
            let scope = scope.to_string();
            let tx = conn.transaction().map_err(error(OP))?;
            let removed = tx
                .execute("DELETE FROM kb_documents WHERE scope = ?1 AND id = ?2", params![scope, id.as_str()])
                .map_err(error(OP))?;
            tx.execute("DELETE FROM kb_chunks WHERE scope = ?1 AND document = ?2", params![scope, id.as_str()])
                .map_err(error(OP))?;
            if removed > 0 {
                bump_version(&tx, &scope, OP)?;
            }
            tx.commit().map_err(error(OP))?;
            Ok(removed > 0)
        })
        .await
    }

    async fn chunks(&self, scope: KbScope) -> Result<Vec<Chunk>, StoreError> {
        const OP: &str = "load chunks";
        self.with(OP, move |conn| {
            let mut query = conn
                .prepare(
                    "SELECT document, idx, title, heading, body, embedding_model, embedding FROM kb_chunks
                     WHERE scope = ?1 ORDER BY document, idx",
                )
                .map_err(error(OP))?;
            let rows = query
                .query_map([scope.to_string()], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get::<_, Option<String>>(5)?,
                        row.get::<_, Option<Vec<u8>>>(6)?,
                    ))
                })
                .map_err(error(OP))?;
            rows.map(|row| {
                let (document, index, title, heading, text, model, vector) = row.map_err(error(OP))?;
                let embedding = match (model, vector) {
                    (Some(model), Some(bytes)) => Some(
                        Embedding::from_bytes(model, &bytes)
                            .ok_or_else(|| corrupt(OP)("an embedding is not whole f32s"))?,
                    ),
                    _ => None,
                };
                Ok(Chunk {
                    document: DocumentId::parse(&document).map_err(corrupt(OP))?,
                    index,
                    title,
                    heading,
                    text,
                    embedding,
                })
            })
            .collect()
        })
        .await
    }

    async fn version(&self, scope: KbScope) -> Result<u64, StoreError> {
        const OP: &str = "read knowledge version";
        self.with(OP, move |conn| {
            let version: Option<i64> = conn
                .query_row("SELECT version FROM kb_versions WHERE scope = ?1", [scope.to_string()], |row| row.get(0))
                .optional()
                .map_err(error(OP))?;
            Ok(version.map_or(0, u64_of))
        })
        .await
    }
}
