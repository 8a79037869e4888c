//! Crawling a small site served on 127.0.0.1: sitemaps, links, robots.txt, scope, content
//! types, limits and progress events. No request leaves the machine.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{Resource, Site, make_pdf};
use steward_ingest::{CrawlEvent, CrawlOptions, CrawlReport, IngestError, crawl};
use url::Url;

/// Options for tests: short timeouts, defaults otherwise.
fn options() -> CrawlOptions {
    CrawlOptions { request_timeout: Duration::from_secs(5), ..CrawlOptions::default() }
}

/// Crawls `start`, returning the report and every progress event.
async fn run(start: &Url, options: &CrawlOptions) -> (CrawlReport, Vec<CrawlEvent>) {
    let events = Mutex::new(Vec::new());
    let report =
        crawl(start, options, &|event| events.lock().expect("events lock").push(event)).await.expect("crawl starts");
    (report, events.into_inner().expect("events lock"))
}

/// The paths of the report's documents' sources.
fn sources(report: &CrawlReport) -> Vec<String> {
    report.documents.iter().map(|d| Url::parse(&d.source).expect("source is a URL").path().to_owned()).collect()
}

/// The reason `path` was skipped, if it was.
fn skip_reason<'a>(report: &'a CrawlReport, path: &str) -> Option<&'a str> {
    report.skipped.iter().find(|(url, _)| url.path() == path).map(|(_, reason)| reason.as_str())
}

#[tokio::test]
async fn a_sitemap_lists_the_pages_and_links_are_not_followed() {
    // GIVEN a site with a sitemap listing three pages (one off-site) and links to a page it omits
    let site = Site::serve(|base| {
        vec![
            (
                "/sitemap.xml",
                Resource::xml(&format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?>
                    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
                      <url><loc>{base}guide</loc></url>
                      <url><loc>{base}faq#answers</loc></url>
                      <url><loc>http://elsewhere.invalid/page</loc></url>
                    </urlset>"#
                )),
            ),
            ("/", Resource::page("Home", &["/unlisted"])),
            ("/guide", Resource::page("Guide", &["/unlisted"])),
            ("/faq", Resource::page("FAQ", &[])),
            ("/unlisted", Resource::page("Unlisted", &[])),
        ]
    })
    .await;

    // WHEN it is crawled from its root
    let (report, events) = run(&site.base, &options()).await;

    // THEN the start page and the sitemap's pages are documents, nothing else was fetched
    assert_eq!(sources(&report), ["/", "/guide", "/faq"]);
    assert_eq!(report.documents[1].title, "Guide");
    assert_eq!(report.documents[1].source, site.url("/guide").as_str());
    assert!(report.documents[1].body.starts_with("# Guide\n\nText of Guide."), "{}", report.documents[1].body);
    assert_eq!(report.documents[2].source, site.url("/faq").as_str(), "no fragment in the source");
    assert_eq!(site.count("/unlisted"), 0, "links are not followed when a sitemap lists the pages");
    assert_eq!(site.hits(), ["/robots.txt", "/sitemap.xml", "/", "/guide", "/faq"]);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let fetched: Vec<(usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            CrawlEvent::Fetched { done, queued, .. } => Some((*done, *queued)),
            CrawlEvent::Skipped { .. } => None,
        })
        .collect();
    assert_eq!(fetched, [(1, 2), (2, 1), (3, 0)]);
}

#[tokio::test]
async fn robots_sitemap_lines_and_sitemap_indexes_are_followed_one_level() {
    // GIVEN robots.txt naming a sitemap index, which names a sitemap of docs pages
    let site = Site::serve(|base| {
        vec![
            ("/robots.txt", Resource::text(&format!("User-agent: *\nAllow: /\n\nSitemap: {base}index.xml\n"))),
            (
                "/index.xml",
                Resource::xml(&format!(
                    r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
                      <sitemap><loc>{base}docs.xml</loc></sitemap>
                      <sitemap><loc>{base}missing.xml</loc></sitemap>
                    </sitemapindex>"#
                )),
            ),
            (
                "/docs.xml",
                Resource::xml(&format!(
                    r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
                      <url><loc>{base}docs/a</loc></url><url><loc>{base}docs/b?utm_source=sitemap</loc></url>
                    </urlset>"#
                )),
            ),
            ("/", Resource::page("Home", &[])),
            ("/docs/a", Resource::page("A", &[])),
            ("/docs/b", Resource::page("B", &[])),
        ]
    })
    .await;

    let (report, _) = run(&site.base, &options()).await;

    assert_eq!(sources(&report), ["/", "/docs/a", "/docs/b"]);
    assert!(skip_reason(&report, "/missing.xml").is_some_and(|r| r.contains("404")), "{:?}", report.skipped);
    assert_eq!(site.count("/sitemap.xml"), 1, "the default sitemap is tried too");
}

#[tokio::test]
async fn without_a_sitemap_links_are_followed_breadth_first_to_the_depth_limit() {
    // GIVEN a chain of pages / → /a → /b → /c, and /a also linking back and to /a2
    let site = Site::serve(|_| {
        vec![
            ("/", Resource::page("Home", &["/a"])),
            ("/a", Resource::page("A", &["/b", "/", "a2"])),
            ("/a2", Resource::page("A2", &[])),
            ("/b", Resource::page("B", &["/c"])),
            ("/c", Resource::page("C", &[])),
        ]
    })
    .await;

    // WHEN crawled two links deep
    let (report, _) = run(&site.base, &CrawlOptions { max_depth: 2, ..options() }).await;

    // THEN pages are fetched level by level, each once, and /c (depth 3) never
    assert_eq!(sources(&report), ["/", "/a", "/b", "/a2"]);
    assert_eq!(site.count("/"), 1);
    assert_eq!(site.count("/c"), 0);
}

#[tokio::test]
async fn the_page_limit_stops_the_crawl_and_reports_what_was_left() {
    let site = Site::serve(|_| {
        vec![
            ("/", Resource::page("Home", &["/p1", "/p2", "/p3", "/p4"])),
            ("/p1", Resource::page("P1", &[])),
            ("/p2", Resource::page("P2", &[])),
            ("/p3", Resource::page("P3", &[])),
            ("/p4", Resource::page("P4", &[])),
        ]
    })
    .await;

    let (report, _) = run(&site.base, &CrawlOptions { max_pages: 3, ..options() }).await;

    assert_eq!(sources(&report), ["/", "/p1", "/p2"]);
    assert_eq!(site.count("/p3") + site.count("/p4"), 0);
    for path in ["/p3", "/p4"] {
        assert!(skip_reason(&report, path).is_some_and(|r| r.contains("limit of 3 pages")), "{:?}", report.skipped);
    }
}

#[tokio::test]
async fn fragments_and_query_duplicates_are_fetched_once() {
    let site = Site::serve(|_| {
        vec![
            ("/", Resource::page("Home", &["/a#one", "/a#two", "/a?", "/a?utm_source=x", "/s?b=2&a=1", "/s?a=1&b=2"])),
            ("/a", Resource::page("A", &[])),
            ("/s?a=1&b=2", Resource::page("S", &[])),
        ]
    })
    .await;

    let (report, _) = run(&site.base, &options()).await;

    assert_eq!(sources(&report), ["/", "/a", "/s"]);
    assert_eq!(site.count("/a"), 1);
    assert_eq!(site.count("/s?a=1&b=2"), 1);
}

#[tokio::test]
async fn robots_txt_disallowed_pages_are_never_requested() {
    // GIVEN robots.txt closing /private to every crawler and /no-steward to StewardBot
    let site = Site::serve(|_| {
        vec![
            (
                "/robots.txt",
                Resource::text(
                    "User-agent: *\nDisallow: /private\n\n\
                     User-agent: StewardBot\nDisallow: /private\nDisallow: /no-steward\n",
                ),
            ),
            ("/", Resource::page("Home", &["/private/secret", "/no-steward", "/public"])),
            ("/private/secret", Resource::page("Secret", &[])),
            ("/no-steward", Resource::page("Not for Steward", &[])),
            ("/public", Resource::page("Public", &[])),
        ]
    })
    .await;

    let (report, events) = run(&site.base, &options()).await;

    assert_eq!(sources(&report), ["/", "/public"]);
    assert_eq!(site.count("/private/secret"), 0, "the server never saw the disallowed request");
    assert_eq!(site.count("/no-steward"), 0, "StewardBot's own group applies");
    assert_eq!(skip_reason(&report, "/private/secret"), Some("disallowed by robots.txt"));
    assert!(
        events.iter().any(|e| matches!(e, CrawlEvent::Skipped { url, .. } if url.path() == "/no-steward")),
        "skips are reported as events"
    );
}

#[tokio::test]
async fn a_robots_txt_server_error_means_nothing_is_fetched() {
    let site = Site::serve(|_| vec![("/robots.txt", Resource::status(503)), ("/", Resource::page("Home", &[]))]).await;

    let (report, _) = run(&site.base, &options()).await;

    assert!(report.documents.is_empty());
    assert_eq!(site.hits(), ["/robots.txt"]);
    assert!(skip_reason(&report, "/").is_some_and(|r| r.contains("503")), "{:?}", report.skipped);
}

#[tokio::test]
async fn crawl_delay_spaces_requests_up_to_the_cap() {
    // GIVEN a site asking for 30 s between requests, and a cap of 150 ms
    let site = Site::serve(|_| {
        vec![
            ("/robots.txt", Resource::text("User-agent: *\nCrawl-delay: 30\n")),
            ("/", Resource::page("Home", &["/a"])),
            ("/a", Resource::page("A", &[])),
        ]
    })
    .await;
    let options = CrawlOptions { max_crawl_delay: Duration::from_millis(150), ..options() };

    // WHEN crawled (robots.txt, sitemap.xml, /, /a: three pauses)
    let started = Instant::now();
    let (report, _) = run(&site.base, &options).await;
    let elapsed = started.elapsed();

    // THEN the requests were spaced by the cap, not by 30 s
    assert_eq!(sources(&report), ["/", "/a"]);
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn other_hosts_are_never_requested() {
    // GIVEN a second site (another port: another origin) linked and redirected to from the first
    let other = Site::serve(|_| vec![("/page", Resource::page("Elsewhere", &[]))]).await;
    let elsewhere = other.url("/page");
    let site = Site::serve(|_| {
        vec![
            ("/", Resource::page("Home", &[elsewhere.as_str(), "/moved", "/inside", "mailto:help@example.com"])),
            ("/moved", Resource::redirect(elsewhere.as_str())),
            ("/inside", Resource::redirect("/target")),
            ("/target", Resource::page("Target", &[])),
        ]
    })
    .await;

    let (report, _) = run(&site.base, &options()).await;

    assert!(other.hits().is_empty(), "the other site saw {:?}", other.hits());
    assert_eq!(sources(&report), ["/", "/target"], "a redirect within the site is followed");
    let reason = skip_reason(&report, "/moved").expect("the off-site redirect is reported");
    assert!(reason.contains(elsewhere.as_str()) && reason.contains("not followed"), "{reason}");
}

#[tokio::test]
async fn pdfs_are_ingested_and_other_content_types_skipped() {
    let site = Site::serve(|_| {
        vec![
            ("/", Resource::page("Home", &["/manual.pdf", "/logo.png", "/data.json"])),
            ("/manual.pdf", Resource::ok("application/pdf", make_pdf(Some("User manual"), &[&["Press start."]]))),
            ("/logo.png", Resource::ok("image/png", vec![0x89, b'P', b'N', b'G'])),
            ("/data.json", Resource::ok("application/json", "{}")),
        ]
    })
    .await;

    let (report, _) = run(&site.base, &options()).await;

    assert_eq!(sources(&report), ["/", "/manual.pdf"]);
    let manual = &report.documents[1];
    assert_eq!(manual.title, "User manual");
    assert_eq!(manual.body, "Press start.");
    assert_eq!(manual.source, site.url("/manual.pdf").as_str());
    assert!(skip_reason(&report, "/logo.png").is_some_and(|r| r.contains("image/png")), "{:?}", report.skipped);
    assert!(skip_reason(&report, "/data.json").is_some_and(|r| r.contains("application/json")));
}

#[tokio::test]
async fn missing_pages_oversized_pages_and_noindex_pages_are_skipped_with_a_reason() {
    let big = format!("<html><body><p>{}</p></body></html>", "x".repeat(4096));
    let site = Site::serve(|_| {
        vec![
            ("/", Resource::page("Home", &["/missing", "/big", "/noindex"])),
            ("/big", Resource::html(big)),
            (
                "/noindex",
                Resource::html(
                    r#"<html><head><meta name="robots" content="noindex"></head>
                    <body><a href="/found-via-noindex">next</a></body></html>"#,
                ),
            ),
            ("/found-via-noindex", Resource::page("Found", &[])),
        ]
    })
    .await;

    let (report, events) = run(&site.base, &CrawlOptions { max_page_bytes: 2048, ..options() }).await;

    assert_eq!(sources(&report), ["/", "/found-via-noindex"], "a noindex page's links are still followed");
    assert_eq!(skip_reason(&report, "/missing"), Some("HTTP 404 Not Found"));
    assert!(skip_reason(&report, "/big").is_some_and(|r| r.contains("2048 bytes")), "{:?}", report.skipped);
    assert!(skip_reason(&report, "/noindex").is_some_and(|r| r.contains("noindex")));
    let skipped_events = events.iter().filter(|e| matches!(e, CrawlEvent::Skipped { .. })).count();
    assert_eq!(skipped_events, report.skipped.len(), "every skip is also an event");
}

#[test]
fn the_crawl_future_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let start = Url::parse("http://127.0.0.1:9/").expect("URL");
    let options = options();

    let future = crawl(&start, &options, &|_| {});

    assert_send(&future);
}

#[tokio::test]
async fn a_start_url_that_is_not_http_is_refused() {
    let start = Url::parse("file:///etc/passwd").expect("URL");

    let err = crawl(&start, &options(), &|_| {}).await.expect_err("not http");

    assert!(matches!(err, IngestError::InvalidStart { .. }), "{err:?}");
    assert!(err.to_string().contains("file:///etc/passwd"), "{err}");
}

#[tokio::test]
async fn an_unreachable_site_is_a_retryable_error_naming_the_url() {
    // GIVEN a loopback port nobody listens on any more
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let start = Url::parse(&format!("http://{address}/docs")).expect("URL");

    let err = crawl(&start, &options(), &|_| {}).await.expect_err("nobody listens");

    assert!(matches!(err, IngestError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains(&format!("http://{address}/robots.txt")), "{err}");
}
