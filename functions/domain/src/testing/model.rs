//! A model that answers from a script.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::language::Language;
use crate::model::{AnswerRequest, ChatModel, DecideRequest, ModelError};
use crate::moderation::prompt::{JudgeReply, JudgeRequest};

/// A model that answers from a script and records every request.
#[derive(Debug, Default, Clone)]
pub struct ScriptedModel {
    replies: Arc<Mutex<Vec<Result<String, crate::model::ModelErrorKind>>>>,
    requests: Arc<Mutex<Vec<AnswerRequest>>>,
    terms: Arc<Mutex<Option<String>>>,
    rewrites: Arc<Mutex<Vec<(String, Language)>>>,
    verdicts: Arc<Mutex<Vec<Result<JudgeReply, crate::model::ModelErrorKind>>>>,
    judged: Arc<Mutex<Vec<JudgeRequest>>>,
    cannot_judge: Arc<std::sync::atomic::AtomicBool>,
}

/// A verdict JSON with one violation of `rule` on `m1`, quoting `evidence`.
#[must_use]
pub fn violation(rule: u32, evidence: &str, severity: &str, confidence: f32) -> JudgeReply {
    JudgeReply::Text(
        serde_json::json!({"verdicts": [{
            "ref": "m1", "violation": true, "rule_ids": [format!("R{rule}")], "severity": severity,
            "confidence": confidence, "evidence": evidence, "reason": "It breaks the rule."
        }]})
        .to_string(),
    )
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

    /// Queues a moderation verdict (or a failure of that kind). With none queued every message is clean.
    pub fn push_verdict(&self, reply: Result<JudgeReply, crate::model::ModelErrorKind>) {
        lock(&self.verdicts).push(reply);
    }

    /// Every moderation request received.
    #[must_use]
    pub fn judged(&self) -> Vec<JudgeRequest> {
        lock(&self.judged).clone()
    }

    /// Makes the model one that cannot judge (like the offline model).
    pub fn cannot_judge(&self) {
        self.cannot_judge.store(true, std::sync::atomic::Ordering::SeqCst);
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

    async fn judge(&self, request: &JudgeRequest) -> Result<Option<JudgeReply>, ModelError> {
        if self.cannot_judge.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(None);
        }
        lock(&self.judged).push(request.clone());
        let next = {
            let mut verdicts = lock(&self.verdicts);
            (!verdicts.is_empty()).then(|| verdicts.remove(0))
        };
        match next {
            Some(Ok(reply)) => Ok(Some(reply)),
            Some(Err(kind)) => Err(ModelError::new(kind, "scripted failure")),
            None => {
                let clean: Vec<_> = request
                    .messages
                    .iter()
                    .map(|m| serde_json::json!({"ref": m.reference, "violation": false, "rule_ids": [], "severity": "none", "confidence": 0.99, "evidence": "", "reason": "Fine."}))
                    .collect();
                Ok(Some(JudgeReply::Text(serde_json::json!({ "verdicts": clean }).to_string())))
            }
        }
    }

    fn can_judge(&self) -> bool {
        !self.cannot_judge.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn name(&self) -> String {
        "scripted".into()
    }
}
