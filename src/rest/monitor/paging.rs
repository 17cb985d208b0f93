//! The legacy page-number paging (monitor-server-api's pager_utils): `page` from the query
//! (default 1, non-numbers ignored), negative pages counted from the end, 404 for page 0 or a page
//! past either end, relative `prev_url`/`next_url` that carry the other query parameters over.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use poem::Request;

use super::wire::PageLinks;

/// Where the API is mounted; the paging links name it.
pub const PREFIX: &str = "/api/v1";

/// Characters left as they are in a path segment (what Werkzeug's url_quote keeps).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');
/// Characters left as they are in a query key or value (form encoding; space becomes '+').
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b' ');

pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

fn encode_query(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string().replace(' ', "+")
}

/// The query string of a request: each key's first value, in order of first appearance.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((k.into_owned(), v.into_owned()));
        }
    }
    out
}

pub fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A page that exists: its number, its first row and the envelope links.
pub struct ResolvedPage {
    pub offset: u64,
    pub links: PageLinks,
}

/// Resolves the requested page against `total` rows of `size` per page, or `None` for the legacy
/// 404 (page 0, a negative page before the first, a page after the last other than page 1).
pub fn resolve(
    pairs: &[(String, String)],
    base_url: &str,
    total: u64,
    size: u64,
) -> Option<ResolvedPage> {
    let requested = query_value(pairs, "page")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let pages = total.div_ceil(size);
    let page = if requested < 0 {
        pages as i64 + requested + 1
    } else {
        requested
    };
    if page < 1 {
        return None;
    }
    let page = page as u64;
    let offset = (page - 1).saturating_mul(size);
    if page > 1 && offset >= total {
        return None;
    }
    let link = |n: u64| {
        let mut params = pairs.to_vec();
        match params.iter_mut().find(|(k, _)| k == "page") {
            Some(p) => p.1 = n.to_string(),
            None => params.push(("page".into(), n.to_string())),
        }
        let q: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
            .collect();
        format!("{base_url}?{}", q.join("&"))
    };
    Some(ResolvedPage {
        offset,
        links: PageLinks {
            prev_url: (page > 1).then(|| link(page - 1)),
            next_url: (page < pages).then(|| link(page + 1)),
            total_page: pages,
        },
    })
}
