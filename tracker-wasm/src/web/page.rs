//! Reading the page: page info for a page view, the clicked element, cookies and
//! random bytes. Never reads values, text content or keys.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::Date;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlDocument, MouseEvent, Window};

use crate::selector::PathNode;
use crate::tracker::{ClickInput, PageInfo};

/// Steps walked up from a clicked element, as deep as a selector goes.
const MAX_PATH: usize = 16;

pub fn now() -> u64 {
    // Date.now() is a whole number of ms, far below 2^53.
    Date::now() as u64
}

// Reads that cannot throw, bound without web-sys's `Result` (and, for sizes, its
// any-value return), whose conversions and exception handling would come along
// with every read.
#[wasm_bindgen]
extern "C" {
    /// `window`, or `screen`, for their sizes as plain numbers.
    type Sizes;
    #[wasm_bindgen(method, getter, js_name = innerWidth)]
    fn inner_width(this: &Sizes) -> f64;
    #[wasm_bindgen(method, getter, js_name = innerHeight)]
    fn inner_height(this: &Sizes) -> f64;
    #[wasm_bindgen(method, getter, js_name = scrollY)]
    fn scroll_y(this: &Sizes) -> f64;
    #[wasm_bindgen(method, getter)]
    fn screen(this: &Sizes) -> Sizes;
    #[wasm_bindgen(method, getter)]
    fn width(this: &Sizes) -> f64;
    #[wasm_bindgen(method, getter)]
    fn height(this: &Sizes) -> f64;
    /// `document`, for its URL.
    type Url;
    #[wasm_bindgen(method, getter, js_name = URL)]
    fn url(this: &Url) -> String;
    /// An element, for `closest()` with our own (valid) selectors, passed as
    /// JS strings made once.
    type Closest;
    #[wasm_bindgen(method)]
    fn closest(this: &Closest, selectors: &JsValue) -> Option<Element>;
}

#[wasm_bindgen]
extern "C" {
    /// `Array.prototype.indexOf.call(list, el)`: the list is array-like.
    #[wasm_bindgen(js_namespace = ["Array", "prototype", "indexOf"], js_name = call)]
    fn index_in(list: &web_sys::NodeList, el: &Element) -> i32;
}

/// `document.URL`, the same as `location.href`: one import instead of two.
pub fn url(document: &Document) -> String {
    document.unchecked_ref::<Url>().url()
}

fn closest(el: &Element, selectors: &JsValue) -> Option<Element> {
    el.unchecked_ref::<Closest>().closest(selectors)
}

/// The selectors every click is matched with, as JS strings: made once, not
/// decoded from wasm memory at each click.
pub struct ClickSelectors {
    link: JsValue,
    answers_itself: JsValue,
}

impl ClickSelectors {
    pub fn new() -> Self {
        Self { link: "a[href]".into(), answers_itself: crate::dead::ANSWERS_ITSELF.into() }
    }
}

/// The viewport's width and height (`innerWidth`, `innerHeight`), in CSS pixels.
pub fn viewport(window: &Window) -> (u32, u32) {
    let w = window.unchecked_ref::<Sizes>();
    (w.inner_width() as u32, w.inner_height() as u32)
}

/// How far the page is scrolled (`scrollY`), in CSS pixels.
pub fn scroll_y(window: &Window) -> i32 {
    window.unchecked_ref::<Sizes>().scroll_y() as i32
}

pub fn page_info(window: &Window, document: &Document) -> PageInfo {
    // The fragment goes with the rest of the URL rule, in `redact_url`.
    let url = url(document);
    let screen = window.unchecked_ref::<Sizes>().screen();
    let (sw, sh) = (screen.width() as u32, screen.height() as u32);
    let doc = document
        .document_element()
        .map_or((0, 0), |e| (e.scroll_width().max(0) as u32, e.scroll_height().max(0) as u32));
    PageInfo {
        url,
        referrer: document.referrer(),
        title: document.title(),
        viewport: viewport(window),
        screen: (sw, sh),
        doc,
        tz_offset_min: Date::new_0().get_timezone_offset() as i32,
        visible: is_visible(document),
    }
}

pub fn is_visible(document: &Document) -> bool {
    !document.hidden()
}

/// The click as the core needs it: coordinates, button, modifier keys, the
/// viewport width, and the element's box, tag, id, classes and position up to
/// `<body>`; the `href` of a link; whether it answers a click itself
/// ([`crate::dead::ANSWERS_ITSELF`]).
pub fn click_input(e: &MouseEvent, window: &Window, sel: &ClickSelectors) -> Option<ClickInput> {
    let target: Element = e.target()?.dyn_into().ok()?;
    let classes = target
        .get_attribute("class")
        .map(|c| c.split_ascii_whitespace().take(16).map(str::to_owned).collect())
        .unwrap_or_default();
    let href = closest(&target, &sel.link).and_then(|a| a.get_attribute("href"));
    let answers_itself = closest(&target, &sel.answers_itself).is_some();
    let r = target.get_bounding_client_rect();
    let mut path = Vec::new();
    let mut cur = Some(target);
    while let Some(el) = cur {
        let tag = el.local_name();
        if tag == "html" || path.len() >= MAX_PATH {
            break;
        }
        let id = Some(el.id()).filter(|s| !s.is_empty());
        let stop = tag == "body" || id.as_deref().is_some_and(crate::selector::usable_id);
        let (nth_of_type, has_same_type_sibling) = if stop { (1, false) } else { position(&el, &tag) };
        cur = el.parent_element();
        path.push(PathNode { tag, id, nth_of_type, has_same_type_sibling });
        if stop {
            break;
        }
    }
    Some(ClickInput {
        x: e.page_x(),
        y: e.page_y(),
        cx: e.client_x(),
        cy: e.client_y(),
        button: u8::try_from(e.button()).unwrap_or(0),
        classes,
        path,
        href,
        modifier: e.ctrl_key() || e.meta_key() || e.shift_key(),
        answers_itself,
        rect: [r.x(), r.y(), r.width(), r.height()],
        viewport_width: viewport(window).0,
    })
}

/// 1-based index among same-tag siblings, and whether there are any. One query
/// and one `indexOf` in JS instead of a string read per sibling: long product
/// grids make the sibling walk the costliest part of a click. `indexOf` runs on
/// the `NodeList` itself: copying it into an array first took twice as long.
fn position(el: &Element, tag: &str) -> (u32, bool) {
    let Some(parent) = el.parent_element() else { return (1, false) };
    let mut query = String::with_capacity(tag.len() + 9);
    query.push_str(":scope > ");
    query.push_str(tag);
    let Ok(same) = parent.query_selector_all(&query) else { return (1, false) };
    if same.length() <= 1 {
        return (1, false);
    }
    let index = index_in(&same, el);
    (u32::try_from(index + 1).unwrap_or(1).max(1), true)
}

/// `document.cookie`. web-sys puts it on `HtmlDocument`; browsers define it on
/// every `Document`, so no type check (an import) is needed.
fn cookies(document: &Document) -> &HtmlDocument {
    document.unchecked_ref::<HtmlDocument>()
}

pub fn get_cookie(document: &Document, name: &str) -> Option<String> {
    let all = cookies(document).cookie().ok()?;
    let value = protocol::text::split(&all, b';')
        .filter_map(|kv| protocol::text::split_once(kv.trim_ascii(), b'='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned());
    value
}

/// A first-party cookie for the whole shop (path `/`), Lax so it comes along on
/// the shopper's own navigation, Secure on https.
pub fn set_cookie(document: &Document, name: &str, value: &str, max_age_s: u32) {
    let secure = url(document).starts_with("https:");
    let mut cookie = String::with_capacity(80);
    for part in [name, "=", value, "; path=/; max-age="] {
        cookie.push_str(part);
    }
    crate::json::push_uint(&mut cookie, u64::from(max_age_s));
    cookie.push_str(if secure { "; SameSite=Lax; Secure" } else { "; SameSite=Lax" });
    let _ = cookies(document).set_cookie(&cookie);
}

pub fn delete_cookie(document: &Document, name: &str) {
    if get_cookie(document, name).is_some() {
        set_cookie(document, name, "", 0);
    }
}

pub fn random_id(window: &Window) -> String {
    let mut bytes = [0u8; 8];
    let filled = window.crypto().ok().is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    crate::ids::id_from(bytes)
}
