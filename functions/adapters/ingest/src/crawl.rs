//! Same-host website crawling: `robots.txt`, sitemaps or links, limits, and progress events.
//!
//! The crawl never leaves the start URL's origin (scheme, host and port): links elsewhere are
//! ignored and redirects elsewhere are not followed. `robots.txt` is read first, for
//! [`USER_AGENT_TOKEN`] or else `*` (RFC 9309: a 4xx means no rules, a 5xx means stay away).
//! The pages listed by the site's sitemaps (`/sitemap.xml` and the `Sitemap:` lines of
//! `robots.txt`, an index followed one level) are fetched when there are any; otherwise links
//! are followed breadth-first from the start page. Requests are sequential, spaced by the
//! site's `Crawl-delay` up to a cap.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, Response, redirect};
use texting_robots::Robot;
use tokio::time::Instant;
use url::{Origin, Url};

use crate::{IngestError, IngestedDocument, html, pdf};

/// The product token Steward's crawler goes by in `robots.txt` and its `User-Agent`.
pub const USER_AGENT_TOKEN: &str = "StewardBot";

/// How large a sitemap may be (the sitemap protocol's own limit).
const MAX_SITEMAP_BYTES: usize = 50 * 1024 * 1024;
/// How much of a `robots.txt` is read (RFC 9309 asks for at least 500 KiB).
const MAX_ROBOTS_BYTES: usize = 512 * 1024;
/// How many redirects one request may follow.
const MAX_REDIRECTS: usize = 10;
/// How many sitemap files are read at most, index included.
const MAX_SITEMAPS: usize = 50;
/// Query parameters that only track where a visitor came from.
const TRACKING_PARAMETERS: &[&str] = &["fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "_gl"];

/// Limits and identity of a crawl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlOptions {
    /// How many pages are requested at most (`robots.txt` and sitemaps not counted).
    pub max_pages: usize,
    /// How many links away from the start page the crawl goes when following links.
    pub max_depth: usize,
    /// How long one request may take, body included.
    pub request_timeout: Duration,
    /// How large one page may be; larger pages are skipped.
    pub max_page_bytes: usize,
    /// The longest pause between requests that a site's `Crawl-delay` can ask for.
    pub max_crawl_delay: Duration,
    /// The `User-Agent` header sent with every request.
    pub user_agent: String,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        Self {
            max_pages: 500,
            max_depth: 5,
            request_timeout: Duration::from_secs(30),
            max_page_bytes: 5 * 1024 * 1024,
            max_crawl_delay: Duration::from_secs(10),
            user_agent: format!("{USER_AGENT_TOKEN}/{} (+{})", env!("CARGO_PKG_VERSION"), env!("CARGO_PKG_REPOSITORY")),
        }
    }
}

/// Progress of a crawl, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrawlEvent {
    /// A page was fetched and became a document.
    Fetched {
        /// The page (without fragment).
        url: Url,
        /// How many pages have been requested so far.
        done: usize,
        /// How many URLs are waiting to be requested.
        queued: usize,
    },
    /// A URL did not become a document.
    Skipped {
        /// The URL (without fragment).
        url: Url,
        /// Why, for the operator: `HTTP 404 Not Found`, `disallowed by robots.txt`, ….
        reason: String,
    },
}

/// What a crawl produced.
#[derive(Debug, Default)]
pub struct CrawlReport {
    /// The pages that became documents, in the order they were fetched.
    pub documents: Vec<IngestedDocument>,
    /// The URLs that did not, with the reason.
    pub skipped: Vec<(Url, String)>,
}

/// Crawls the website at `start` into documents, calling `progress` as it goes.
///
/// A page that cannot be fetched or read is reported in [`CrawlReport::skipped`]; only a crawl
/// that cannot start fails.
///
/// # Errors
///
/// [`IngestError::InvalidStart`] when `start` is not an `http`/`https` URL with a host,
/// [`IngestError::Client`] when no HTTP client can be built, and
/// [`IngestError::Unreachable`] when the site does not answer at all (its `robots.txt`
/// request fails below HTTP: connection refused, DNS, TLS, timeout).
#[tracing::instrument(skip_all, fields(start = %start))]
pub async fn crawl(
    start: &Url,
    options: &CrawlOptions,
    progress: &(dyn Fn(CrawlEvent) + Sync),
) -> Result<CrawlReport, IngestError> {
    if !matches!(start.scheme(), "http" | "https") || start.host().is_none() {
        return Err(IngestError::InvalidStart { url: start.clone() });
    }
    let start = normalise(start);
    let origin = start.origin();
    let client = client(options, origin.clone()).map_err(|source| IngestError::Client { source })?;
    let mut crawler = Crawler {
        client,
        options,
        progress,
        origin,
        robots: Robots::AllowAll,
        delay: Duration::ZERO,
        last_request: None,
        report: CrawlReport::default(),
    };

    crawler.read_robots(&start).await?;
    if let Robots::DenyAll(reason) = &crawler.robots {
        let reason = reason.clone();
        crawler.skip(start, reason);
        return Ok(crawler.report);
    }
    let sitemap = crawler.read_sitemaps(&start).await;
    let follow_links = sitemap.is_empty();
    let mut seen = HashSet::new();
    let queue =
        std::iter::once(start).chain(sitemap).filter(|url| seen.insert(url.clone())).map(|url| (url, 0)).collect();
    crawler.run(queue, &mut seen, follow_links).await;
    Ok(crawler.report)
}

/// The HTTP client: Steward's user agent, the request timeout, and redirects followed only
/// within the crawled origin.
fn client(options: &CrawlOptions, origin: Origin) -> Result<Client, reqwest::Error> {
    let policy = redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS || attempt.url().origin() != origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    Client::builder()
        .user_agent(options.user_agent.as_str())
        .timeout(options.request_timeout)
        .connect_timeout(options.request_timeout)
        .redirect(policy)
        .build()
}

/// What `robots.txt` allows.
enum Robots {
    /// No `robots.txt` (or a 4xx): everything is allowed.
    AllowAll,
    /// The rules for Steward (or `*`).
    Rules(Box<Robot>),
    /// Nothing may be fetched, and why.
    DenyAll(String),
}

impl Robots {
    /// Why `url` may not be fetched, if it may not.
    fn refuses(&self, url: &Url) -> Option<String> {
        match self {
            Self::AllowAll => None,
            Self::Rules(robot) => (!robot.allowed(url.as_str())).then(|| "disallowed by robots.txt".to_owned()),
            Self::DenyAll(reason) => Some(reason.clone()),
        }
    }
}

/// A page that was fetched and read.
enum Page {
    /// An HTML page, with its links.
    Html(html::CrawledPage),
    /// A PDF.
    Pdf(IngestedDocument),
}

/// One crawl's state.
struct Crawler<'a> {
    /// The client, bound to the origin by its redirect policy.
    client: Client,
    /// The limits.
    options: &'a CrawlOptions,
    /// The caller's progress callback.
    progress: &'a (dyn Fn(CrawlEvent) + Sync),
    /// The only origin that is crawled.
    origin: Origin,
    /// The site's rules.
    robots: Robots,
    /// The pause between requests (`Crawl-delay`, capped).
    delay: Duration,
    /// When the last request was sent.
    last_request: Option<Instant>,
    /// What has been produced so far.
    report: CrawlReport,
}

impl Crawler<'_> {
    /// Fetches the pages in `queue`, adding the links of HTML pages when `follow_links`.
    async fn run(&mut self, mut queue: VecDeque<(Url, usize)>, seen: &mut HashSet<Url>, follow_links: bool) {
        let mut done = 0;
        let mut fetched: HashSet<Url> = HashSet::new();
        while let Some((url, depth)) = queue.pop_front() {
            if fetched.contains(&url) {
                continue;
            }
            if let Some(reason) = self.robots.refuses(&url) {
                self.skip(url, reason);
                continue;
            }
            if done >= self.options.max_pages {
                let reason = format!("not fetched: the limit of {} pages was reached", self.options.max_pages);
                self.skip(url, reason);
                continue;
            }
            done += 1;
            let (url, page) = match self.page(&url, &mut fetched).await {
                Ok(fetched) => fetched,
                Err(reason) => {
                    self.skip(url, reason);
                    continue;
                }
            };
            let document = match page {
                Page::Pdf(document) => document,
                Page::Html(page) => {
                    if follow_links && !page.nofollow && depth < self.options.max_depth {
                        for link in page.links.iter().filter_map(|link| self.in_scope(link)) {
                            if seen.insert(link.clone()) {
                                queue.push_back((link, depth + 1));
                            }
                        }
                    }
                    if page.noindex {
                        self.skip(url, "the page asks not to be indexed (meta robots noindex)".to_owned());
                        continue;
                    }
                    page.document
                }
            };
            tracing::debug!(url = %url, "fetched");
            self.report.documents.push(document);
            (self.progress)(CrawlEvent::Fetched { url, done, queued: queue.len() });
        }
    }

    /// Fetches one page and reads it, with its URL after redirects, or says why it cannot be
    /// a document.
    async fn page(&mut self, url: &Url, fetched: &mut HashSet<Url>) -> Result<(Url, Page), String> {
        let mut response = self.get(url).await.map_err(|e| describe(&e))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok()).unwrap_or_default();
            let target = url.join(location).map_or_else(|_| location.to_owned(), String::from);
            return Err(format!(
                "redirects to {target}, outside {}; it was not followed",
                self.origin.ascii_serialization()
            ));
        }
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }

        let final_url = normalise(response.url());
        if &final_url != url {
            if let Some(reason) = self.robots.refuses(&final_url) {
                return Err(format!("redirects to {final_url}: {reason}"));
            }
            if fetched.contains(&final_url) {
                return Err(format!("redirects to {final_url}, which was already fetched"));
            }
        }
        fetched.insert(url.clone());
        fetched.insert(final_url.clone());

        let (essence, charset) = content_type(&response);
        let is_pdf = essence == "application/pdf";
        if !is_pdf && !matches!(essence.as_str(), "text/html" | "application/xhtml+xml") {
            return Err(if essence.is_empty() {
                "no content type: only HTML and PDF are imported".to_owned()
            } else {
                format!("content type {essence}: only HTML and PDF are imported")
            });
        }
        let limit = self.options.max_page_bytes;
        let too_large = || format!("larger than the limit of {limit} bytes");
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        let (body, truncated) = read_body(&mut response, limit).await.map_err(|e| describe(&e))?;
        if truncated {
            return Err(too_large());
        }

        let fallback = fallback_title(&final_url);
        if is_pdf {
            let document = pdf::to_document(&body, final_url.as_str(), &fallback).map_err(|e| chain(&e))?;
            return Ok((final_url, Page::Pdf(document)));
        }
        let text = html::decode(&body, charset.as_deref());
        let page = html::crawled_page(&text, &final_url, &fallback);
        Ok((final_url, Page::Html(page)))
    }

    /// Reads `robots.txt` into [`Crawler::robots`] and [`Crawler::delay`].
    async fn read_robots(&mut self, start: &Url) -> Result<(), IngestError> {
        let url = start.join("/robots.txt").unwrap_or_else(|_| start.clone());
        let mut response = match self.get(&url).await {
            Ok(response) => response,
            Err(source) => return Err(IngestError::Unreachable { url, source }),
        };
        let status = response.status();
        self.robots = if status.is_success() {
            let (body, _) = read_body(&mut response, MAX_ROBOTS_BYTES)
                .await
                .map_err(|source| IngestError::Unreachable { url: url.clone(), source })?;
            match Robot::new(USER_AGENT_TOKEN, &body) {
                Ok(robot) => Robots::Rules(Box::new(robot)),
                Err(e) => Robots::DenyAll(format!("robots.txt cannot be parsed ({e:#}), so nothing is fetched")),
            }
        } else if status.is_server_error() {
            Robots::DenyAll(format!("robots.txt answered HTTP {status}, which means the site is closed to crawlers"))
        } else {
            Robots::AllowAll
        };
        if let Robots::Rules(robot) = &self.robots {
            let cap = self.options.max_crawl_delay;
            let asked = robot.delay.map(|seconds| Duration::try_from_secs_f32(seconds.max(0.0)).unwrap_or(cap));
            self.delay = asked.unwrap_or_default().min(cap);
        }
        tracing::debug!(url = %url, %status, delay = ?self.delay, "robots.txt read");
        Ok(())
    }

    /// The pages the site's sitemaps list, in scope and without duplicates; empty when it has
    /// none.
    async fn read_sitemaps(&mut self, start: &Url) -> Vec<Url> {
        let mut declared: Vec<Url> = match &self.robots {
            Robots::Rules(robot) => robot
                .sitemaps
                .iter()
                .filter_map(|s| Url::parse(s.trim()).ok())
                .filter_map(|url| self.in_scope(&url))
                .collect(),
            Robots::AllowAll | Robots::DenyAll(_) => Vec::new(),
        };
        let default = start.join("/sitemap.xml").map(|url| normalise(&url));
        let mut files: VecDeque<(Url, bool, bool)> = declared.drain(..).map(|url| (url, true, true)).collect();
        if let Ok(default) = default
            && !files.iter().any(|(url, _, _)| url == &default)
            && self.robots.refuses(&default).is_none()
        {
            files.push_back((default, false, true));
        }

        let mut read: HashSet<Url> = HashSet::new();
        let mut pages = Vec::new();
        let mut listed = HashSet::new();
        // (url, whether a failure is worth reporting, whether it may be an index)
        while let Some((url, report, may_be_index)) = files.pop_front() {
            if read.len() >= MAX_SITEMAPS || pages.len() >= self.options.max_pages || !read.insert(url.clone()) {
                continue;
            }
            let entries = match self.sitemap(&url).await {
                Ok(entries) => entries,
                Err(reason) => {
                    if report {
                        self.skip(url, reason);
                    }
                    continue;
                }
            };
            match entries {
                Sitemap::Pages(locations) => {
                    for page in locations.iter().filter_map(|l| Url::parse(l.trim()).ok()) {
                        if let Some(page) = self.in_scope(&page)
                            && listed.insert(page.clone())
                        {
                            pages.push(page);
                        }
                    }
                }
                Sitemap::Index(locations) if may_be_index => {
                    for child in locations.iter().filter_map(|l| Url::parse(l.trim()).ok()) {
                        if let Some(child) = self.in_scope(&child) {
                            files.push_back((child, true, false));
                        }
                    }
                }
                Sitemap::Index(_) => {
                    self.skip(url, "a sitemap index inside a sitemap index is not followed".to_owned());
                }
            }
        }
        pages
    }

    /// Fetches and parses one sitemap file.
    async fn sitemap(&mut self, url: &Url) -> Result<Sitemap, String> {
        let mut response = self.get(url).await.map_err(|e| describe(&e))?;
        if !response.status().is_success() {
            return Err(format!("sitemap answered HTTP {}", response.status()));
        }
        let (body, truncated) = read_body(&mut response, MAX_SITEMAP_BYTES).await.map_err(|e| describe(&e))?;
        if truncated {
            return Err(format!("sitemap larger than {MAX_SITEMAP_BYTES} bytes"));
        }
        parse_sitemap(&String::from_utf8_lossy(&body))
    }

    /// Sends a GET, after the site's crawl delay since the previous request.
    async fn get(&mut self, url: &Url) -> Result<Response, reqwest::Error> {
        if let Some(last) = self.last_request {
            tokio::time::sleep_until(last + self.delay).await;
        }
        self.last_request = Some(Instant::now());
        self.client.get(url.clone()).send().await
    }

    /// `link` normalised, when it is on the crawled origin.
    fn in_scope(&self, link: &Url) -> Option<Url> {
        (matches!(link.scheme(), "http" | "https") && link.origin() == self.origin).then(|| normalise(link))
    }

    /// Reports a URL that did not become a document.
    fn skip(&mut self, url: Url, reason: String) {
        tracing::debug!(url = %url, reason, "skipped");
        (self.progress)(CrawlEvent::Skipped { url: url.clone(), reason: reason.clone() });
        self.report.skipped.push((url, reason));
    }
}

/// What a sitemap file lists.
#[derive(Debug, PartialEq, Eq)]
enum Sitemap {
    /// A `<urlset>`: pages.
    Pages(Vec<String>),
    /// A `<sitemapindex>`: more sitemaps.
    Index(Vec<String>),
}

/// Parses a sitemap or sitemap index (the `<loc>` of each `<url>` or `<sitemap>`).
fn parse_sitemap(xml: &str) -> Result<Sitemap, String> {
    let document = roxmltree::Document::parse(xml).map_err(|e| format!("sitemap is not valid XML ({e})"))?;
    let root = document.root_element();
    let locations = |entry: &str| -> Vec<String> {
        root.children()
            .filter(|n| n.tag_name().name() == entry)
            .flat_map(|n| n.children().filter(|c| c.tag_name().name() == "loc"))
            .filter_map(|loc| loc.text())
            .map(str::to_owned)
            .collect()
    };
    match root.tag_name().name() {
        "urlset" => Ok(Sitemap::Pages(locations("url"))),
        "sitemapindex" => Ok(Sitemap::Index(locations("sitemap"))),
        other => Err(format!("not a sitemap (root element <{other}>)")),
    }
}

/// Reads a body up to `limit` bytes; the flag says whether there was more.
async fn read_body(response: &mut Response, limit: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// The response's media type (lowercase, no parameters) and its `charset`, if any.
fn content_type(response: &Response) -> (String, Option<String>) {
    let Some(value) = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return (String::new(), None);
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned());
    (essence, charset)
}

/// The URL as the crawl knows it: no fragment, no tracking parameters, the remaining query
/// parameters sorted by name, no empty query.
fn normalise(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !name.starts_with("utm_") && !TRACKING_PARAMETERS.contains(&name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url
}

/// A title for a page that has none: its last path segment without extension, else its host.
fn fallback_title(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
        .map(|segment| segment.rsplit_once('.').map_or(segment, |(stem, _)| stem))
        .filter(|stem| !stem.is_empty())
        .map(crate::document::title_from_name)
        .unwrap_or_else(|| url.host_str().unwrap_or_default().to_owned())
}

/// A transport error as a skip reason.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() { "timed out".to_owned() } else { chain(error) }
}

/// An error and its causes, joined with `: `.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(source) = cause {
        text.push_str(": ");
        text.push_str(&source.to_string());
        cause = source.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn normalising_drops_fragments_tracking_and_empty_queries() {
        assert_eq!(normalise(&url("https://a.example/docs#install")), url("https://a.example/docs"));
        assert_eq!(normalise(&url("https://a.example/docs?")), url("https://a.example/docs"));
        assert_eq!(normalise(&url("https://a.example/docs?utm_source=x&fbclid=y")), url("https://a.example/docs"));
        assert_eq!(normalise(&url("https://a.example/s?b=2&a=1#top")), normalise(&url("https://a.example/s?a=1&b=2")));
        assert_eq!(normalise(&url("https://a.example/s?page=2")).as_str(), "https://a.example/s?page=2");
    }

    #[test]
    fn sitemaps_and_indexes_parse() {
        let urlset = r#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc>https://a.example/</loc><lastmod>2025-01-01</lastmod></url>
              <url><loc> https://a.example/faq </loc></url>
            </urlset>"#;
        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>https://a.example/sitemap-docs.xml</loc></sitemap></sitemapindex>"#;

        assert_eq!(
            parse_sitemap(urlset),
            Ok(Sitemap::Pages(vec!["https://a.example/".to_owned(), " https://a.example/faq ".to_owned()]))
        );
        assert_eq!(parse_sitemap(index), Ok(Sitemap::Index(vec!["https://a.example/sitemap-docs.xml".to_owned()])));
        assert!(parse_sitemap("<html><body>Not found</body></html>").is_err());
        assert!(parse_sitemap("not xml at all").is_err());
    }

    #[test]
    fn fallback_titles_come_from_the_path() {
        assert_eq!(fallback_title(&url("https://a.example/docs/install.html")), "install");
        assert_eq!(fallback_title(&url("https://a.example/docs/guide/")), "guide");
        assert_eq!(fallback_title(&url("https://a.example/")), "a.example");
    }
}
