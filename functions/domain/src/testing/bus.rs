//! A bus that records what was published.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::events::Event;
use crate::ports::{BusError, EventBus};

/// A bus that records what was published.
#[derive(Debug, Default, Clone)]
pub struct RecordingBus(Arc<Mutex<Vec<Event>>>);

impl RecordingBus {
    /// Everything published so far.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        lock(&self.0).clone()
    }
}

#[async_trait]
impl EventBus for RecordingBus {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        lock(&self.0).push(event.clone());
        Ok(())
    }
}
