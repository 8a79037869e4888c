//! AI moderation by plain-language rules (F12–F18): the operator's rules judged by a model,
//! the actions picked by code, only ever against the author of the message judged.

pub mod admin;
pub mod case;
pub mod hierarchy;
pub mod moderator;
pub mod policy;
pub mod prefilter;
pub mod prompt;
pub mod settings;
mod texts;
pub mod verdict;

pub use self::moderator::{MAX_JUDGED_CHARS, Moderated, ModerationError, ModerationPorts, Moderator};

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
