//! Posting a body to the collector and reading its answer: the status and
//! `Retry-After`, handed to the core, which decides (`protocol::delivery`).
//!
//! `cors` mode (fetch's default) so the answer can be read: the collector
//! allows any origin and exposes `Retry-After`. A string body is sent as
//! `text/plain`, which keeps the POST a simple request, without a preflight.
//! `keepalive` lets it outlive the page; `credentials: "omit"`, since nothing
//! the collector needs is in a cookie.
//!
//! Bound without web-sys's `catch`, `RequestInit` and `Response`: `fetch` reports
//! every failure through its promise, and the reads below do not throw.

use alloc::string::String;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Window;

#[wasm_bindgen]
extern "C" {
    /// `window`, for `fetch`.
    type Net;
    #[wasm_bindgen(method)]
    fn fetch(this: &Net, url: &JsValue, init: &JsValue) -> Pending;
    /// The promise `fetch` returns.
    type Pending;
    #[wasm_bindgen(method)]
    fn then(this: &Pending, answered: &JsValue, failed: &JsValue);
    /// `Function.prototype.bind`, to give the answer its request id.
    type Callback;
    #[wasm_bindgen(method)]
    fn bind(this: &Callback, this_arg: &JsValue, id: u32) -> JsValue;
    /// A `Response`, or the error of a request that got none.
    type Answer;
    /// `undefined` (so NaN, read as 0) for an error.
    #[wasm_bindgen(method, getter)]
    fn status(this: &Answer) -> f64;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &Answer) -> Headers;
    type Headers;
    #[wasm_bindgen(method)]
    fn get(this: &Headers, name: &str) -> Option<String>;
}

/// What every POST shares: the collector's URL and the request's options (made
/// once; `fetch` reads them when called, so the body is set per request), and
/// the callback that hears every answer.
pub struct Poster {
    url: JsValue,
    init: js_sys::Object,
    on_answer: Closure<dyn FnMut(JsValue, JsValue)>,
}

impl Poster {
    /// `answered(id, status, retry_after)` hears each request's answer; status 0
    /// when it got none.
    pub fn new(url: &str, mut answered: impl FnMut(u32, u16, Option<String>) + 'static) -> Self {
        let init = js_sys::Object::new();
        for (key, value) in [
            ("method", JsValue::from_str("POST")),
            ("keepalive", JsValue::TRUE),
            ("credentials", "omit".into()),
        ] {
            let _ = js_sys::Reflect::set(&init, &key.into(), &value);
        }
        let on_answer = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |id: JsValue, answer: JsValue| {
            let answer: &Answer = answer.unchecked_ref();
            // Float to integer casts saturate, and NaN gives 0.
            let status = answer.status() as u16;
            let retry_after = if status == 0 { None } else { answer.headers().get("Retry-After") };
            answered(id.as_f64().unwrap_or(0.0) as u32, status, retry_after);
        });
        Self { url: url.into(), init, on_answer }
    }

    /// POSTs `body` as request `id`; its answer reaches the callback.
    pub fn post(&self, window: &Window, id: u32, body: &str) {
        let _ = js_sys::Reflect::set(&self.init, &"body".into(), &body.into());
        let pending = window.unchecked_ref::<Net>().fetch(&self.url, &self.init);
        let then = self.on_answer.as_ref().unchecked_ref::<Callback>().bind(&JsValue::NULL, id);
        pending.then(&then, &then);
    }
}
