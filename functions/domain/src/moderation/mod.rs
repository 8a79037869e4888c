//! AI moderation by plain-language rules (F12–F18): the operator's rules judged by a model,
//! the actions picked by code, only ever against the author of the message judged.

pub mod case;
pub mod hierarchy;
pub mod policy;
pub mod prefilter;
pub mod prompt;
pub mod settings;
pub mod verdict;
