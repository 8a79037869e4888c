//! Plans and the monthly message quota (F15, F20, F26, F27).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// The highest custom monthly limit accepted.
pub const MAX_CUSTOM_LIMIT: u64 = 100_000_000;

/// A monthly message plan. Every answer, moderation check and proactive post counts 1 (F27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// 2,500 messages a month.
    #[default]
    Starter,
    /// 15,000 messages a month.
    Standard,
    /// 50,000 messages a month.
    Pro,
    /// An operator-chosen limit.
    Custom(u64),
}

impl Plan {
    /// Messages allowed per calendar month.
    #[must_use]
    pub const fn monthly_limit(self) -> u64 {
        match self {
            Self::Starter => 2_500,
            Self::Standard => 15_000,
            Self::Pro => 50_000,
            Self::Custom(limit) => limit,
        }
    }

    /// Checks a custom limit's range.
    ///
    /// # Errors
    /// Returns a message when a custom limit is zero or above [`MAX_CUSTOM_LIMIT`].
    pub fn validate(self) -> Result<(), String> {
        match self {
            Self::Custom(limit) if limit == 0 || limit > MAX_CUSTOM_LIMIT => {
                Err(format!("a custom limit must be between 1 and {MAX_CUSTOM_LIMIT}"))
            }
            _ => Ok(()),
        }
    }
}

/// A calendar month in UTC, the unit the quota resets on (`2026-11`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// The month, 1–12.
    pub month: u8,
}

impl Month {
    /// The month that contains `at`; the quota rolls over by itself when this changes.
    #[must_use]
    pub fn containing(at: Timestamp) -> Self {
        let utc = at.to_utc();
        Self { year: utc.year(), month: u8::from(utc.month()) }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The outcome of trying to reserve one message of quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Reserved; `used` counts this one.
    Granted {
        /// Messages used this month, including this one.
        used: u64,
    },
    /// The monthly limit is reached; nothing was counted.
    Exhausted,
}

/// A guild's usage for one month, as the settings API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// The month.
    #[serde(serialize_with = "month_as_text")]
    pub month: Month,
    /// Messages counted so far.
    pub used: u64,
    /// The plan's monthly limit.
    pub limit: u64,
    /// The plan.
    pub plan: Plan,
}

fn month_as_text<S: serde::Serializer>(month: &Month, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(month)
}

impl Usage {
    /// Messages left this month.
    #[must_use]
    pub const fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_limits_match_the_product() {
        assert_eq!(Plan::Starter.monthly_limit(), 2_500);
        assert_eq!(Plan::Standard.monthly_limit(), 15_000);
        assert_eq!(Plan::Pro.monthly_limit(), 50_000);
        assert_eq!(Plan::Custom(7).monthly_limit(), 7);
        assert!(Plan::Custom(0).validate().is_err());
        assert_eq!(serde_json::to_string(&Plan::Pro).unwrap(), "\"pro\"");
        assert_eq!(serde_json::from_str::<Plan>("{\"custom\":9}").unwrap(), Plan::Custom(9));
    }

    #[test]
    fn months_roll_over_at_utc_midnight() {
        // 2026-11-30T23:59:59Z and one second later.
        let end = Timestamp::from_secs(1_796_083_199);
        assert_eq!(Month::containing(end).to_string(), "2026-11");
        assert_eq!(Month::containing(Timestamp::from_secs(1_796_083_200)).to_string(), "2026-12");
    }
}
