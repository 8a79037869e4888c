//! A model that answers from a script.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::language::Language;
use crate::model::{AnswerRequest, ChatModel, DecideRequest, ModelError};

/// A model that answers from a script and records every request.
#[derive(Debug, Default, Clone)]
pub struct ScriptedModel {
    replies: Arc<Mutex<Vec<Result<String, crate::model::ModelErrorKind>>>>,
    requests: Arc<Mutex<Vec<AnswerRequest>>>,
    terms: Arc<Mutex<Option<String>>>,
    rewrites: Arc<Mutex<Vec<(String, Language)>>>,
}

impl ScriptedModel {
    /// Queues a reply (text, or a failure of that kind). With none queued it echoes the first passage.
    pub fn push(&self, reply: Result<&str, crate::model::ModelErrorKind>) {
        lock(&self.replies).push(reply.map(str::to_owned));
    }

    /// Makes [`ChatModel::search_terms`] answer `terms` (by default it answers `None`).
    pub fn rewrite_to(&self, terms: &str) {
        *lock(&self.terms) = Some(terms.to_owned());
    }

    /// Every search-terms request received: the question and the language asked for.
    #[must_use]
    pub fn rewrites(&self) -> Vec<(String, Language)> {
        lock(&self.rewrites).clone()
    }

    /// Every request received.
    #[must_use]
    pub fn requests(&self) -> Vec<AnswerRequest> {
        lock(&self.requests).clone()
    }
}

#[async_trait]
impl ChatModel for ScriptedModel {
    async fn answer(&self, request: &AnswerRequest) -> Result<String, ModelError> {
        lock(&self.requests).push(request.clone());
        let next = {
            let mut replies = lock(&self.replies);
            (!replies.is_empty()).then(|| replies.remove(0))
        };
        match next {
            Some(Ok(text)) => Ok(text),
            Some(Err(kind)) => Err(ModelError::new(kind, "scripted failure")),
            None => {
                Ok(request.passages.first().map_or_else(|| "I don't know.".to_owned(), |p| format!("{} [1]", p.text)))
            }
        }
    }

    async fn should_answer(&self, request: &DecideRequest) -> Result<bool, ModelError> {
        Ok(crate::smart::looks_answerable(&request.message, &request.passages))
    }

    async fn search_terms(&self, question: &str, language: Language) -> Result<Option<String>, ModelError> {
        lock(&self.rewrites).push((question.to_owned(), language));
        Ok(lock(&self.terms).clone())
    }

    fn name(&self) -> String {
        "scripted".into()
    }
}
