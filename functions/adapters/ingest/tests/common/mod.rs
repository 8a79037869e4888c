//! Test helpers: a PDF writer and a small website served on 127.0.0.1.

#![allow(dead_code, reason = "each test binary uses a different part of the helpers")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, Uri};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, StringFormat, dictionary};
use url::Url;

/// Writes a PDF with one page per entry of `pages` (each a list of lines) and an optional
/// information-dictionary title.
pub fn make_pdf(title: Option<&str>, pages: &[&[&str]]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for lines in pages {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 720.into()]),
        ];
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                operations.push(Operation::new("Td", vec![0.into(), (-36).into()]));
            }
            operations.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        }
        operations.push(Operation::new("ET", vec![]));
        let content = Content { operations }.encode().expect("content encodes");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        kids.push(Object::from(page_id));
    }
    let count = i64::try_from(kids.len()).expect("few pages");
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    if let Some(title) = title {
        let info_id = doc.add_object(dictionary! {
            "Title" => Object::String(title.as_bytes().to_vec(), StringFormat::Literal),
        });
        doc.trailer.set("Info", info_id);
    }
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("PDF saves");
    bytes
}

/// One resource of the test site.
#[derive(Clone)]
pub struct Resource {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Resource {
    /// A 200 with this content type and body.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self { status: 200, headers: vec![("content-type", content_type.to_owned())], body: body.into() }
    }

    /// A 200 HTML page.
    pub fn html(body: impl Into<String>) -> Self {
        Self::ok("text/html; charset=utf-8", body.into())
    }

    /// A 200 HTML page titled `title` whose body links to each of `links`.
    pub fn page(title: &str, links: &[&str]) -> Self {
        let links: String = links.iter().map(|l| format!("<li><a href=\"{l}\">{l}</a></li>")).collect();
        Self::html(format!(
            "<!DOCTYPE html><html><head><title>{title}</title></head><body>\
             <main><h1>{title}</h1><p>Text of {title}.</p></main><nav><ul>{links}</ul></nav></body></html>"
        ))
    }

    /// A 200 plain-text file (robots.txt).
    pub fn text(body: &str) -> Self {
        Self::ok("text/plain", body)
    }

    /// A 200 XML file (sitemaps).
    pub fn xml(body: &str) -> Self {
        Self::ok("application/xml", body)
    }

    /// A bare status with no body.
    pub fn status(status: u16) -> Self {
        Self { status, headers: vec![("content-type", "text/plain".to_owned())], body: Vec::new() }
    }

    /// A 302 to `location`.
    pub fn redirect(location: &str) -> Self {
        Self { status: 302, headers: vec![("location", location.to_owned())], body: Vec::new() }
    }
}

/// The served resources and the request log.
#[derive(Clone)]
struct Shared {
    resources: Arc<HashMap<String, Resource>>,
    hits: Arc<Mutex<Vec<String>>>,
}

/// A website on 127.0.0.1 that records every request it receives.
pub struct Site {
    /// `http://127.0.0.1:PORT/`.
    pub base: Url,
    hits: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Site {
    /// Serves the resources `build` makes from the site's base URL; any other path is a 404.
    pub async fn serve(build: impl FnOnce(&Url) -> Vec<(&'static str, Resource)>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let base = Url::parse(&format!("http://{address}/")).expect("base URL");
        let resources = build(&base).into_iter().map(|(path, r)| (path.to_owned(), r)).collect();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared { resources: Arc::new(resources), hits: Arc::clone(&hits) };
        let router = Router::new().fallback(respond).with_state(shared);
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("test site serves");
        });
        Self { base, hits, server }
    }

    /// The URL of `path` on this site.
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("path joins")
    }

    /// Every path (with query) requested so far, in order.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().expect("hits lock").clone()
    }

    /// How many times `path` was requested.
    pub fn count(&self, path: &str) -> usize {
        self.hits().iter().filter(|h| *h == path).count()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Answers one request from the resource table, recording it.
async fn respond(State(shared): State<Shared>, uri: Uri) -> Response<Body> {
    let path = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    shared.hits.lock().expect("hits lock").push(path.clone());
    let resource = shared.resources.get(&path).cloned().unwrap_or_else(|| Resource {
        status: 404,
        headers: vec![("content-type", "text/html".to_owned())],
        body: b"<html><body><h1>Not found</h1></body></html>".to_vec(),
    });
    let mut response = Response::builder().status(resource.status);
    for (name, value) in resource.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(resource.body)).expect("valid response")
}
