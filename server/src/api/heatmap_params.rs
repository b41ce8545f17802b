//! The query string of `GET /api/heatmap`, checked into a store query. Every
//! parameter is read as text and parsed here, so a bad one is a 400 that names
//! it (never a 5xx, never the framework's message).

use serde::Deserialize;

use crate::shopify::errors::ApiError;
use crate::store::heatmap::{
    Bucket, HeatmapQuery, PageGroup, PageSel, Parts, DEFAULT_CELL, MAX_CELL, MIN_CELL,
};
use crate::store::traffic::url_path;

/// Longest `page` or `url` accepted, in bytes.
const MAX_PAGE_BYTES: usize = 2048;

/// `page` (a path or `/products/*`, `/collections/*`) or the first version's
/// `url` (its path is used), `bucket`, `from`/`to` (milliseconds since the
/// Unix epoch), `mode`, `cell` (pixels), `site` (operators only).
#[derive(Debug, Default, Deserialize)]
pub struct HeatmapParams {
    pub page: Option<String>,
    pub url: Option<String>,
    pub bucket: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub mode: Option<String>,
    pub cell: Option<String>,
    pub site: Option<String>,
}

/// The checked request: the store's query, and the `url` of a caller of the
/// first version, whose answer keeps that version's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatmapRequest {
    pub query: HeatmapQuery,
    pub legacy_url: Option<String>,
}

fn bad(param: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("`{param}`: {why}"))
}

fn number<T: std::str::FromStr>(param: &str, v: Option<&str>) -> Result<Option<T>, ApiError> {
    v.map(|s| s.trim().parse::<T>().map_err(|_| bad(param, format!("not a whole number: {s:?}")))).transpose()
}

/// `site`, for [`super::site::site_of`].
pub fn site_param(p: &HeatmapParams) -> Result<Option<u32>, ApiError> {
    number("site", p.site.as_deref())
}

/// A page path or a group: starts with `/`, no query or fragment, no `*`
/// except as a group's.
fn page_of(raw: &str) -> Result<PageSel, ApiError> {
    if let Some(group) = PageGroup::parse(raw) {
        return Ok(PageSel::Group(group));
    }
    if !raw.starts_with('/') {
        return Err(bad("page", "a path starting with `/`, or `/products/*` or `/collections/*`"));
    }
    if raw.contains(['?', '#']) {
        return Err(bad("page", "a path without query or fragment"));
    }
    if raw.contains('*') {
        return Err(bad("page", "the only groups are `/products/*` and `/collections/*`"));
    }
    Ok(PageSel::Path(raw.to_string()))
}

fn parts_of(mode: Option<&str>) -> Result<Parts, ApiError> {
    let none = Parts { clicks: false, moves: false, scroll: false };
    match mode.unwrap_or("all") {
        "all" => Ok(Parts::ALL),
        "clicks" => Ok(Parts { clicks: true, ..none }),
        "moves" => Ok(Parts { moves: true, ..none }),
        "scroll" => Ok(Parts { scroll: true, ..none }),
        other => Err(bad("mode", format!("`clicks`, `moves`, `scroll` or `all`, not {other:?}"))),
    }
}

/// A parameter's value, trimmed; `None` when absent or blank.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks the parameters into a request for `site_id`.
pub fn request_of(site_id: u32, p: &HeatmapParams) -> Result<HeatmapRequest, ApiError> {
    let (page, legacy_url) = match (given(&p.page), given(&p.url)) {
        (Some(_), Some(_)) => return Err(bad("page", "give `page` or `url`, not both")),
        (None, None) => {
            return Err(bad("page", "required: the page path, or `/products/*`, `/collections/*`"))
        }
        (Some(page), None) if page.len() > MAX_PAGE_BYTES => return Err(bad("page", "too long")),
        (None, Some(url)) if url.len() > MAX_PAGE_BYTES => return Err(bad("url", "too long")),
        (Some(page), None) => (page_of(page)?, None),
        (None, Some(url)) => (PageSel::Path(url_path(url).to_string()), Some(url.to_string())),
    };
    let bucket = match given(&p.bucket) {
        None => Bucket::Desktop,
        Some(b) => Bucket::parse(b)
            .ok_or_else(|| bad("bucket", format!("`mobile`, `tablet` or `desktop`, not {b:?}")))?,
    };
    let cell = number("cell", given(&p.cell))?.unwrap_or(DEFAULT_CELL);
    if !(MIN_CELL..=MAX_CELL).contains(&cell) {
        return Err(bad("cell", format!("{MIN_CELL} to {MAX_CELL} pixels, not {cell}")));
    }
    let mut query = HeatmapQuery::page(site_id, "/");
    query.page = page;
    query.bucket = bucket;
    query.cell = cell;
    query.parts = parts_of(given(&p.mode))?;
    query.legacy_grid = legacy_url.is_some();
    let max = i64::MAX as u64;
    query.from_ms = number::<u64>("from", given(&p.from))?.unwrap_or(0).min(max);
    query.to_ms = number::<u64>("to", given(&p.to))?.unwrap_or(max).min(max);
    if query.from_ms >= query.to_ms {
        return Err(bad("from", "must be before `to`"));
    }
    Ok(HeatmapRequest { query, legacy_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HeatmapParams {
        let query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        serde_urlencoded_like(&query)
    }

    /// The query string as axum's `Query` reads it.
    fn serde_urlencoded_like(query: &str) -> HeatmapParams {
        let map: std::collections::HashMap<String, String> =
            form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        serde_json::from_value(serde_json::to_value(map).expect("map")).expect("params")
    }

    fn refused(pairs: &[(&str, &str)]) -> String {
        match request_of(1, &params(pairs)) {
            Err(ApiError::BadRequest(why)) => why,
            other => panic!("{pairs:?}: {other:?}"),
        }
    }

    #[test]
    fn a_bad_parameter_is_named() {
        for (pairs, param) in [
            (&[][..], "`page`"),
            (&[("page", " ")], "`page`"),
            (&[("page", "products/tee")], "`page`"),
            (&[("page", "/products/tee?x=1")], "`page`"),
            (&[("page", "/pages/*")], "`page`"),
            (&[("page", "/a"), ("url", "/b")], "`page`"),
            (&[("page", "/a"), ("bucket", "phone")], "`bucket`"),
            (&[("page", "/a"), ("mode", "taps")], "`mode`"),
            (&[("page", "/a"), ("cell", "1")], "`cell`"),
            (&[("page", "/a"), ("cell", "x")], "`cell`"),
            (&[("page", "/a"), ("cell", "201")], "`cell`"),
            (&[("page", "/a"), ("from", "-1")], "`from`"),
            (&[("page", "/a"), ("to", "soon")], "`to`"),
            (&[("page", "/a"), ("from", "5"), ("to", "5")], "`from`"),
        ] {
            let why = refused(pairs);
            assert!(why.starts_with(param), "{pairs:?}: {why}");
        }
        let site = HeatmapParams { site: Some("seven".into()), ..HeatmapParams::default() };
        assert!(matches!(site_param(&site), Err(ApiError::BadRequest(w)) if w.starts_with("`site`")));
    }

    #[test]
    fn good_parameters_make_the_query() {
        let r = request_of(
            3,
            &params(&[
                ("page", "/products/*"),
                ("bucket", "mobile"),
                ("mode", "scroll"),
                ("from", "5"),
                ("to", "90"),
                ("cell", "20"),
            ]),
        )
        .expect("valid");
        let q = &r.query;
        assert_eq!(
            (q.site_id, &q.page, q.bucket, q.from_ms, q.to_ms, q.cell),
            (3, &PageSel::Group(PageGroup::Products), Bucket::Mobile, 5, 90, 20)
        );
        assert_eq!(q.parts, Parts { clicks: false, moves: false, scroll: true });
        assert!(!q.legacy_grid && r.legacy_url.is_none());

        let r = request_of(3, &params(&[("url", "https%3A%2F%2Fs.example%2Fproducts%2Ftee%3Fv%3D1")]))
            .expect("valid");
        assert_eq!(r.query.page, PageSel::Path("/products/tee".into()));
        assert_eq!(
            (r.query.bucket, r.query.parts, r.query.cell),
            (Bucket::Desktop, Parts::ALL, DEFAULT_CELL)
        );
        assert!(r.query.legacy_grid);
        assert_eq!(r.legacy_url.as_deref(), Some("https://s.example/products/tee?v=1"));
        assert_eq!((r.query.from_ms, r.query.to_ms), (0, i64::MAX as u64));
    }
}
