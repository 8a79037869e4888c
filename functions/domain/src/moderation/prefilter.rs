//! The free deterministic pre-filters (X7), run before any model call: foreign invite links,
//! mention spam, known scam domains, the operator's keywords and patterns. A hit costs no quota.
//!
//! Text is read with zero-width and bidirectional control characters removed, so
//! `dis\u{200b}cord.gg/x` is the invite it shows. Repeated messages need state and are checked by
//! the moderator.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::settings::{InvitePolicy, Prefilters};

/// Which pre-filter matched (the sandbox's `prefilter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefilter {
    /// An invite to another server.
    Invite,
    /// Too many mentions.
    Mentions,
    /// The same message again.
    Duplicate,
    /// A known scam domain.
    ScamDomain,
    /// An operator keyword.
    Keyword,
    /// An operator pattern.
    Regex,
}

/// A pre-filter hit: which, and what matched (for the case's reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The filter.
    pub filter: Prefilter,
    /// What matched, e.g. the domain or keyword.
    pub matched: String,
}

impl Hit {
    /// The case's reason, in a sentence.
    #[must_use]
    pub fn reason(&self) -> String {
        match self.filter {
            Prefilter::Invite => format!("Invite link to another server ({}).", self.matched),
            Prefilter::Mentions => format!("Mention spam ({} mentions).", self.matched),
            Prefilter::Duplicate => "The same message posted again.".to_owned(),
            Prefilter::ScamDomain => format!("Link to a known scam domain ({}).", self.matched),
            Prefilter::Keyword => format!("Blocked keyword ({}).", self.matched),
            Prefilter::Regex => format!("Blocked pattern ({}).", self.matched),
        }
    }
}

/// What a scan of one message found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scan {
    /// The first hit that needs nothing more.
    pub hit: Option<Hit>,
    /// Invite codes that are violations unless they lead to this server (`allow_own`): the
    /// moderator resolves them.
    pub invites_to_check: Vec<String>,
}

static SCAM_DOMAINS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("scam_domains.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
});

/// The real domains scams imitate.
const OFFICIAL: &[&str] =
    &["discord.com", "discord.gg", "discordapp.com", "discord.gift", "steamcommunity.com", "steampowered.com"];

static INVITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:https?://)?(?:www\.)?(?:discord(?:app)?\.com/invite|discord\.gg)/([a-z0-9-]{2,32})")
        .unwrap_or_else(|_| unreachable!("a valid pattern"))
});
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,24})(?:[/:?#]|\b)")
        .unwrap_or_else(|_| unreachable!("a valid pattern"))
});
static MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<@[!&]?(\d{1,20})>").unwrap_or_else(|_| unreachable!("a valid pattern")));

/// `text` without zero-width and bidirectional control characters.
#[must_use]
pub fn visible(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
        })
        .collect()
}

/// Levenshtein distance, for lookalike domains (short strings only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

/// Whether `host` is a listed scam domain, under one, or a lookalike of an official domain.
fn is_scam(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let listed = (0..labels.len().saturating_sub(1)).any(|i| SCAM_DOMAINS.contains(labels[i..].join(".").as_str()));
    if listed {
        return true;
    }
    let registrable = labels[labels.len().saturating_sub(2)..].join(".");
    if OFFICIAL.contains(&registrable.as_str()) {
        return false;
    }
    // A lookalike keeps the official top-level domain and changes a letter or two of the name
    // (`dlscord.com`); `discord.js` (a library, another TLD) is not one.
    let lookalike = OFFICIAL.iter().any(|official| {
        let (name, tld) = official.split_once('.').unwrap_or((official, ""));
        registrable.split_once('.').is_some_and(|(n, t)| t == tld && (1..=2).contains(&distance(n, name)))
    });
    let nitro_bait =
        host.contains("nitro") && ["discord", "dlscord", "disc0rd", "discorcl"].iter().any(|d| host.contains(d));
    lookalike || nitro_bait
}

/// Runs the free checks on one message's text, first hit wins.
#[must_use]
pub fn scan(content: &str, filters: &Prefilters) -> Scan {
    let text = visible(content);
    let mut result = Scan::default();
    if filters.invites != InvitePolicy::Allow {
        let codes: Vec<String> =
            INVITE.captures_iter(&text).filter_map(|c| c.get(1)).map(|m| m.as_str().to_owned()).collect();
        if let (InvitePolicy::Block, Some(code)) = (filters.invites, codes.first()) {
            result.hit = Some(Hit { filter: Prefilter::Invite, matched: format!("discord.gg/{code}") });
            return result;
        }
        result.invites_to_check = codes;
    }
    if filters.max_mentions > 0 {
        let mentioned: HashSet<&str> =
            MENTION.captures_iter(&text).filter_map(|c| c.get(1)).map(|m| m.as_str()).collect();
        if mentioned.len() > filters.max_mentions as usize {
            result.hit = Some(Hit { filter: Prefilter::Mentions, matched: mentioned.len().to_string() });
            return result;
        }
    }
    if filters.scam_domains
        && let Some(host) = HOST.captures_iter(&text).filter_map(|c| c.get(1)).map(|m| m.as_str()).find(|h| is_scam(h))
    {
        result.hit = Some(Hit { filter: Prefilter::ScamDomain, matched: host.to_lowercase() });
        return result;
    }
    let lowered = text.to_lowercase();
    if let Some(keyword) =
        filters.keywords.iter().find(|k| !k.trim().is_empty() && lowered.contains(&k.trim().to_lowercase()))
    {
        result.hit = Some(Hit { filter: Prefilter::Keyword, matched: keyword.trim().to_owned() });
        return result;
    }
    for pattern in &filters.regex {
        // Settings validation compiled each pattern already; one that fails now is skipped.
        if let Ok(regex) = regex::RegexBuilder::new(pattern).size_limit(1 << 20).build()
            && regex.is_match(&text)
        {
            result.hit = Some(Hit { filter: Prefilter::Regex, matched: pattern.clone() });
            return result;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters() -> Prefilters {
        Prefilters::default()
    }

    fn hit(content: &str, filters: &Prefilters) -> Option<Prefilter> {
        scan(content, filters).hit.map(|h| h.filter)
    }

    #[test]
    fn invites_are_resolved_blocked_or_ignored_by_policy() {
        let text = "join us at https://discord.gg/abcDEF and discord.com/invite/xyz-1";
        assert_eq!(scan(text, &filters()).invites_to_check, ["abcDEF", "xyz-1"]);
        assert_eq!(scan(text, &filters()).hit, None, "allow_own: the moderator checks whose they are");
        let block = Prefilters { invites: InvitePolicy::Block, ..filters() };
        assert_eq!(hit(text, &block), Some(Prefilter::Invite));
        let allow = Prefilters { invites: InvitePolicy::Allow, ..filters() };
        assert!(scan(text, &allow).invites_to_check.is_empty());
        assert_eq!(scan("dis\u{200b}cord.gg/hidden", &filters()).invites_to_check, ["hidden"], "zero-width removed");
    }

    #[test]
    fn mention_spam_counts_distinct_members_and_roles() {
        let many: String = (1..=9).map(|i| format!("<@{i}00000000000000000> ")).collect();
        assert_eq!(hit(&many, &filters()), Some(Prefilter::Mentions));
        let repeated = "<@100000000000000000> ".repeat(20);
        assert_eq!(hit(&repeated, &filters()), None, "one member mentioned twenty times is one mention");
        let off = Prefilters { max_mentions: 0, ..filters() };
        assert_eq!(hit(&many, &off), None);
    }

    #[test]
    fn scam_domains_listed_and_lookalike_are_caught_and_real_ones_are_not() {
        assert_eq!(hit("free nitro: https://discord-nitro.gift/claim", &filters()), Some(Prefilter::ScamDomain));
        assert_eq!(hit("login at https://dlscord.com/login", &filters()), Some(Prefilter::ScamDomain));
        assert_eq!(hit("trade: steamcommunlty.com/tradeoffer", &filters()), Some(Prefilter::ScamDomain));
        assert_eq!(hit("https://cdn.discord-nitro.gift/x", &filters()), Some(Prefilter::ScamDomain), "subdomains");
        for fine in [
            "see https://discord.com/developers",
            "support.discord.com",
            "https://example.com",
            "v1.2.3 is out",
            "I use discord.js and discord.py",
        ] {
            assert_eq!(hit(fine, &filters()), None, "{fine}");
        }
        let off = Prefilters { scam_domains: false, ..filters() };
        assert_eq!(hit("https://discord-nitro.gift", &off), None);
    }

    #[test]
    fn keywords_and_patterns_are_the_operators() {
        let custom = Prefilters {
            keywords: vec!["Crypto Pump".into()],
            regex: vec![r"(?i)\bwin \d+ btc\b".into()],
            ..filters()
        };
        assert_eq!(hit("join the CRYPTO PUMP tonight", &custom), Some(Prefilter::Keyword));
        assert_eq!(hit("WIN 5 BTC now", &custom), Some(Prefilter::Regex));
        assert_eq!(hit("bitcoin is a currency", &custom), None);
        assert_eq!(scan("crypto pump", &custom).hit.unwrap().reason(), "Blocked keyword (Crypto Pump).");
    }

    #[test]
    fn long_and_invisible_text_is_handled() {
        let long = format!("{} https://discord-nitro.gift", "word ".repeat(1_000));
        assert_eq!(hit(&long, &filters()), Some(Prefilter::ScamDomain));
        assert_eq!(hit("\u{202e}tfig.ortin-drocsid//:sptth", &filters()), None, "reversed text shows no domain");
        assert_eq!(visible("a\u{200d}b\u{2066}c\u{feff}"), "abc");
    }
}
