//! The worker's side of `/ask`: lease, context, retrieval, model, edit `@original`, log, count.

use std::sync::Arc;

use tracing::info;

use crate::answer::{AnswerConfig, Answerer, Composed, Failure, Refusal, WorkError};
use crate::clock::Timestamp;
use crate::conversation::ConversationKey;
use crate::events::AskAccepted;
use crate::language::Language;
use crate::message::{MAX_PARTS, OutboundMessage};
use crate::model::AnswerRequest;
use crate::ports::{DiscordRest, Ports};
use crate::texts;

/// How one `ask.accepted` event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskOutcome {
    /// Answered in `parts` messages.
    Answered {
        /// How many messages the answer took.
        parts: usize,
    },
    /// Handled, or being handled, by another delivery; nothing posted.
    Duplicate,
    /// The member was told the quota is used up.
    QuotaExhausted,
    /// The member was told the knowledge base is empty.
    EmptyKnowledgeBase,
    /// The knowledge base does not cover the question: the member was told "I don't know"
    /// (nothing charged, no model call) and the question was recorded as a gap.
    NotCovered,
    /// Something failed; the member was told so.
    Failed {
        /// A short reason for logs.
        reason: String,
    },
}

/// Answers accepted `/ask` events.
#[derive(Clone)]
pub struct AskWorker {
    answerer: Answerer,
    discord: Arc<dyn DiscordRest>,
}

impl AskWorker {
    /// Builds the worker from the shared ports.
    #[must_use]
    pub fn new(ports: &Ports, config: AnswerConfig) -> Self {
        Self { answerer: Answerer::new(ports, config), discord: ports.discord.clone() }
    }

    /// Handles one `ask.accepted` event.
    ///
    /// # Errors
    /// Returns [`WorkError`] only when the member could not be told anything.
    #[tracing::instrument(skip_all, fields(guild = %event.guild_id, interaction = %event.interaction_id))]
    pub async fn answer(&self, event: &AskAccepted) -> Result<AskOutcome, WorkError> {
        let key = format!("ask:{}", event.interaction_id);
        self.answerer.once(key, AskOutcome::Duplicate, self.answer_leased(event)).await
    }

    async fn answer_leased(&self, event: &AskAccepted) -> Result<AskOutcome, WorkError> {
        let now = self.answerer.now();
        let language = Language::of_member(&event.question, event.locale.as_deref());
        let settings = match self.answerer.settings(event.guild_id).await {
            Ok(settings) => settings,
            Err(error) => return self.tell(event, language, Failure::Store(error)).await,
        };
        let held = match self.answerer.reserve(event.guild_id, &settings, now).await {
            Ok(held) => held,
            Err(Refusal::Exhausted { limit, month }) => {
                self.edit(event, texts::quota_exhausted(language, limit, month)).await?;
                return Ok(AskOutcome::QuotaExhausted);
            }
            Err(Refusal::Store(error)) => return self.tell(event, language, Failure::Store(error)).await,
        };
        let attempt = async {
            let composed = self.generate(event, language, now).await?;
            self.deliver(event, &composed.parts).await?;
            Ok(composed)
        };
        match held.settle(attempt.await).await {
            Ok(composed) => {
                self.answerer.log(conversation(event), &event.question, &composed.text, now).await;
                let parts = composed.parts.len().min(MAX_PARTS);
                info!(parts, "answered");
                Ok(AskOutcome::Answered { parts })
            }
            Err(Failure::Delivery { error, .. }) => Err(WorkError::Discord(error)),
            Err(failure) => self.tell(event, language, failure).await,
        }
    }

    async fn generate(&self, event: &AskAccepted, language: Language, now: Timestamp) -> Result<Composed, Failure> {
        let history = self.answerer.history(conversation(event), now).await.map_err(Failure::Store)?;
        let retrieval =
            self.answerer.retrieve(event.guild_id, &event.question, &history).await.map_err(Failure::Search)?;
        if retrieval.results.corpus_chunks == 0 {
            return Err(Failure::EmptyKnowledgeBase);
        }
        self.answerer.check_coverage(&retrieval)?;
        let results = retrieval.results;
        let request = AnswerRequest {
            question: event.question.clone(),
            asker: event.user_name.clone(),
            history,
            passages: results.passages,
            locale: event.locale.clone(),
            language,
            channel_context: Vec::new(),
        };
        self.answerer.compose(&request).await
    }

    /// Edits `@original` with the first part and posts the rest as follow-ups.
    async fn deliver(&self, event: &AskAccepted, parts: &[String]) -> Result<(), Failure> {
        for (delivered, part) in parts.iter().take(MAX_PARTS).enumerate() {
            let message = OutboundMessage::text(part.clone());
            let sent = if delivered == 0 {
                self.discord.edit_original(event.application_id, &event.token, &message).await
            } else {
                self.discord.create_followup(event.application_id, &event.token, &message).await
            };
            sent.map_err(|error| Failure::Delivery { delivered, error })?;
        }
        Ok(())
    }

    /// Tells the member what went wrong, in place of "thinking…".
    async fn tell(&self, event: &AskAccepted, language: Language, failure: Failure) -> Result<AskOutcome, WorkError> {
        let reason = failure.log(&self.answerer.model().name());
        let outcome = match failure {
            Failure::EmptyKnowledgeBase => AskOutcome::EmptyKnowledgeBase,
            Failure::Uncovered => {
                // Recorded first: the gap is worth keeping even if Discord refuses the reply.
                self.answerer.record_gap(event.guild_id, &event.question, self.answerer.now()).await;
                AskOutcome::NotCovered
            }
            _ => AskOutcome::Failed { reason },
        };
        self.edit(event, failure.member_text(language).to_owned()).await?;
        Ok(outcome)
    }

    async fn edit(&self, event: &AskAccepted, text: String) -> Result<(), WorkError> {
        self.discord
            .edit_original(event.application_id, &event.token, &OutboundMessage::text(text))
            .await
            .map_err(WorkError::Discord)
    }
}

fn conversation(event: &AskAccepted) -> ConversationKey {
    ConversationKey { guild: event.guild_id, channel: event.channel_id, user: event.user_id }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::Clock;
    use crate::ids::{ApplicationId, ChannelId, DocumentId, GuildId, InteractionId, InteractionToken, UserId};
    use crate::knowledge::{KbScope, NewDocument};
    use crate::model::ModelErrorKind;
    use crate::ports::{
        ClaimStore, ConversationStore, DiscordErrorKind, GapStore, KnowledgeStore, SettingsStore, UsageStore,
    };
    use crate::quota::{Month, Plan};
    use crate::settings::GuildSettings;
    use crate::testing::{DiscordCall, Fakes, FaultyStore, MemoryStore};

    fn guild() -> GuildId {
        GuildId::new(10).unwrap()
    }

    fn worker(fakes: &Fakes) -> AskWorker {
        AskWorker::new(&fakes.ports(), AnswerConfig::default())
    }

    async fn add_doc(store: &MemoryStore, body: &str) {
        let (doc, chunks) = NewDocument { title: "FAQ".into(), source: None, body: body.into() }
            .into_parts(DocumentId::generate(), Timestamp::from_secs(1))
            .unwrap();
        store.put_document(KbScope::Guild(guild()), &doc, &chunks).await.unwrap();
    }

    fn accepted(id: u64, question: &str) -> AskAccepted {
        AskAccepted {
            interaction_id: InteractionId::new(id).unwrap(),
            application_id: ApplicationId::new(1).unwrap(),
            token: InteractionToken::new("tok"),
            guild_id: guild(),
            channel_id: ChannelId::new(2).unwrap(),
            user_id: UserId::new(3).unwrap(),
            user_name: "ana".into(),
            question: question.into(),
            locale: None,
            accepted_at: Timestamp::from_secs(1_795_000_000),
        }
    }

    fn edits(fakes: &Fakes) -> Vec<String> {
        fakes
            .discord
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                DiscordCall::EditOriginal(m) => Some(m.content),
                _ => None,
            })
            .collect()
    }

    async fn used(fakes: &Fakes) -> u64 {
        fakes.store.used(guild(), Month::containing(fakes.clock.now())).await.unwrap()
    }

    #[tokio::test]
    async fn worker_answers_with_sources_logs_turns_and_counts_quota() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "# Billing\nPlans are paid monthly by card.").await;
        fakes.model.push(Ok("You pay monthly by card [1]."));
        let outcome = worker(&fakes).answer(&accepted(1, "how do I pay for plans?")).await.unwrap();
        assert_eq!(outcome, AskOutcome::Answered { parts: 1 });
        assert_eq!(edits(&fakes), ["You pay monthly by card [1].\n\n-# Sources: [1] FAQ › Billing"]);
        assert_eq!(used(&fakes).await, 1);
        let key =
            ConversationKey { guild: guild(), channel: ChannelId::new(2).unwrap(), user: UserId::new(3).unwrap() };
        let turns = fakes.store.recent_turns(key, 10, fakes.clock.now()).await.unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[1].text, "You pay monthly by card [1].");
    }

    #[tokio::test]
    async fn follow_ups_see_the_previous_turns_and_retrieve_with_them() {
        let fakes = Fakes::default();
        let worker = worker(&fakes);
        add_doc(&fakes.store, "# Pro\nThe Pro plan costs 10 euros a month.\n\n# Other\nUnrelated text.").await;
        worker.answer(&accepted(1, "tell me about the pro plan")).await.unwrap();
        fakes.clock.advance(Duration::from_secs(30));
        worker.answer(&accepted(2, "how much is it?")).await.unwrap();
        let requests = fakes.model.requests();
        let second = &requests[1];
        assert_eq!(second.history.len(), 2);
        assert_eq!(second.history[0].text, "tell me about the pro plan");
        assert!(second.passages[0].text.contains("10 euros"), "retrieval used the earlier question");
    }

    #[tokio::test]
    async fn duplicate_deliveries_answer_once() {
        let fakes = Fakes::default();
        let worker = worker(&fakes);
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        assert_eq!(worker.answer(&accepted(5, "plans?")).await.unwrap(), AskOutcome::Answered { parts: 1 });
        assert_eq!(worker.answer(&accepted(5, "plans?")).await.unwrap(), AskOutcome::Duplicate);
        fakes.clock.advance(Duration::from_secs(60 * 60));
        assert_eq!(worker.answer(&accepted(5, "plans?")).await.unwrap(), AskOutcome::Duplicate, "long after too");
        assert_eq!(edits(&fakes).len(), 1);
        assert_eq!(used(&fakes).await, 1);
    }

    #[tokio::test]
    async fn a_redelivery_finishes_an_answer_whose_worker_died() {
        // GIVEN a worker that took the lease on interaction 7 and died before answering
        let fakes = Fakes::default();
        let worker = worker(&fakes);
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        let now = fakes.clock.now();
        fakes.store.claim("ask:7", now, now.plus(AnswerConfig::default().lease)).await.unwrap();
        // WHEN the event is redelivered while the lease runs, THEN nothing is posted
        assert_eq!(worker.answer(&accepted(7, "plans?")).await.unwrap(), AskOutcome::Duplicate);
        assert!(fakes.discord.calls().is_empty());
        // WHEN it is redelivered after the lease ran out, THEN it is answered, once
        fakes.clock.advance(AnswerConfig::default().lease + Duration::from_secs(1));
        assert_eq!(worker.answer(&accepted(7, "plans?")).await.unwrap(), AskOutcome::Answered { parts: 1 });
        assert_eq!(worker.answer(&accepted(7, "plans?")).await.unwrap(), AskOutcome::Duplicate);
        assert_eq!(edits(&fakes).len(), 1);
        assert_eq!(used(&fakes).await, 1);
    }

    #[tokio::test]
    async fn model_failures_tell_the_member_and_refund_the_quota() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        fakes.model.push(Err(ModelErrorKind::Unavailable));
        let outcome = worker(&fakes).answer(&accepted(1, "plans?")).await.unwrap();
        assert!(matches!(outcome, AskOutcome::Failed { .. }));
        assert!(edits(&fakes)[0].contains("try again"));
        assert_eq!(used(&fakes).await, 0);
    }

    #[tokio::test]
    async fn a_store_failure_after_the_reservation_is_refunded() {
        // GIVEN a store whose conversation history cannot be read
        let fakes = Fakes::default();
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        let faulty = Arc::new(FaultyStore::new(fakes.store.clone()));
        faulty.fail("recent_turns");
        let worker = AskWorker::new(&fakes.ports_over(faulty), AnswerConfig::default());
        // WHEN a question is answered
        let outcome = worker.answer(&accepted(1, "plans?")).await.unwrap();
        // THEN the member is told, and the reserved message is given back
        assert!(matches!(outcome, AskOutcome::Failed { .. }), "{outcome:?}");
        assert!(edits(&fakes)[0].contains("went wrong"));
        assert_eq!(used(&fakes).await, 0);
    }

    #[tokio::test]
    async fn a_failed_delivery_is_refunded() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        fakes.discord.fail("edit_original", DiscordErrorKind::NotFound);
        let result = worker(&fakes).answer(&accepted(1, "plans?")).await;
        assert!(matches!(result, Err(WorkError::Discord(_))), "{result:?}");
        assert_eq!(used(&fakes).await, 0, "nothing reached the member: nothing is charged");
        assert_eq!(fakes.model.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_partly_delivered_answer_is_charged() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        fakes.model.push(Ok(&"word ".repeat(1_000)));
        fakes.discord.fail("create_followup", DiscordErrorKind::Unavailable);
        assert!(worker(&fakes).answer(&accepted(1, "plans?")).await.is_err());
        assert_eq!(edits(&fakes).len(), 1, "the first part reached the member");
        assert_eq!(used(&fakes).await, 1);
    }

    #[tokio::test]
    async fn an_uncovered_question_gets_i_dont_know_in_the_members_language_and_is_recorded() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "# Billing\nPlans are paid monthly by card.").await;
        let worker = worker(&fakes);
        let english = worker.answer(&accepted(1, "What is the capital of Australia?")).await.unwrap();
        assert_eq!(english, AskOutcome::NotCovered);
        let polish = worker.answer(&accepted(2, "Jaka jest stolica Australii?")).await.unwrap();
        assert_eq!(polish, AskOutcome::NotCovered);
        let edits = edits(&fakes);
        assert!(edits[0].starts_with("I don't know"), "{}", edits[0]);
        assert!(edits[1].starts_with("Nie wiem"), "{}", edits[1]);
        assert!(!edits[0].contains("Sources"), "no quotes, no sources");
        assert!(fakes.model.requests().is_empty(), "the model is not asked to invent");
        assert_eq!(used(&fakes).await, 0, "nothing is charged");
        let gaps = fakes.store.top_gaps(guild(), 10, fakes.clock.now()).await.unwrap();
        assert_eq!(gaps.len(), 2);
    }

    #[tokio::test]
    async fn a_question_in_another_language_is_searched_with_the_models_terms() {
        let fakes = Fakes::default();
        add_doc(
            &fakes.store,
            "# Refunds\nRefunds are issued within fourteen days of the purchase, to the card you paid with.",
        )
        .await;
        let question = "¿Cuánto tardan en devolverme el dinero de la compra?";
        // Without a model that can rewrite, the Spanish words find nothing: "I don't know".
        assert_eq!(worker(&fakes).answer(&accepted(1, question)).await.unwrap(), AskOutcome::NotCovered);
        // With one, the question is searched as English terms and answered.
        fakes.model.rewrite_to("refund time purchase money back");
        let outcome = worker(&fakes).answer(&accepted(2, question)).await.unwrap();
        assert_eq!(outcome, AskOutcome::Answered { parts: 1 });
        assert_eq!(fakes.model.rewrites()[1], (question.to_owned(), crate::language::Language::En));
        let request = fakes.model.requests().pop().unwrap();
        assert!(request.passages[0].text.contains("fourteen days"), "{:?}", request.passages);
        assert_eq!(request.language, crate::language::Language::Es, "answered in the member's language");
    }

    /// The fake search, reporting that it ranked by meaning too (as hybrid search does).
    struct Semantic(crate::testing::NaiveSearch);

    #[async_trait::async_trait]
    impl crate::ports::KnowledgeSearch for Semantic {
        async fn search(
            &self,
            guild: GuildId,
            query: &str,
            question: &str,
            limit: usize,
        ) -> Result<crate::ports::SearchResults, crate::ports::SearchError> {
            let mut results = self.0.search(guild, query, question, limit).await?;
            results.semantic = true;
            Ok(results)
        }
    }

    #[tokio::test]
    async fn a_search_that_ranks_by_meaning_needs_no_rewrite_call() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "# Refunds\nRefunds are issued within fourteen days, reembolso incluido.").await;
        fakes.model.rewrite_to("refund time");
        let mut ports = fakes.ports();
        ports.search = Arc::new(Semantic(crate::testing::NaiveSearch(Arc::new(fakes.store.clone()))));
        let worker = AskWorker::new(&ports, AnswerConfig::default());
        let outcome = worker.answer(&accepted(1, "¿Cuánto tarda el reembolso de la compra?")).await.unwrap();
        assert_eq!(outcome, AskOutcome::Answered { parts: 1 });
        assert!(fakes.model.rewrites().is_empty(), "no model call is spent on search terms");
    }

    #[tokio::test]
    async fn an_empty_knowledge_base_is_explained() {
        let fakes = Fakes::default();
        assert_eq!(worker(&fakes).answer(&accepted(1, "plans?")).await.unwrap(), AskOutcome::EmptyKnowledgeBase);
        assert!(edits(&fakes)[0].contains("knowledge base"));
        assert!(fakes.model.requests().is_empty(), "no model call is paid for an empty knowledge base");
        assert_eq!(used(&fakes).await, 0);
    }

    #[tokio::test]
    async fn exhausted_quota_is_explained_at_the_worker_too() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        let tiny = GuildSettings { plan: Plan::Custom(1), ..GuildSettings::default() };
        fakes.store.put_settings(guild(), &tiny).await.unwrap();
        fakes.store.reserve(guild(), Month::containing(fakes.clock.now()), 1).await.unwrap();
        assert_eq!(worker(&fakes).answer(&accepted(1, "plans?")).await.unwrap(), AskOutcome::QuotaExhausted);
        assert!(edits(&fakes)[0].contains("used all 1"));
        assert_eq!(used(&fakes).await, 1, "no refund of what was not reserved");
    }

    #[tokio::test]
    async fn long_answers_become_follow_ups_under_the_limit() {
        let fakes = Fakes::default();
        add_doc(&fakes.store, "Plans are paid monthly.").await;
        fakes.model.push(Ok(&"word ".repeat(1_000)));
        assert_eq!(worker(&fakes).answer(&accepted(1, "plans?")).await.unwrap(), AskOutcome::Answered { parts: 3 });
        let calls = fakes.discord.calls();
        assert!(matches!(calls[0], DiscordCall::EditOriginal(_)));
        assert!(calls[1..].iter().all(|c| matches!(c, DiscordCall::Followup(m) if m.content.chars().count() <= 2000)));
    }
}
