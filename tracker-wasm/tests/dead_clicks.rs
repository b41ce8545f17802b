//! Runs in headless Chromium (wasm-bindgen-test-runner with chromedriver): the
//! edge's dead-click watch on a real DOM. Clicks are dispatched as the browser
//! would (capture listener, page handlers, mutations delivered after), the second
//! is waited out on the real clock, and the request bodies are read back from a
//! stand-in `fetch`. A file of its own: `boot` starts one tracker per page.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen]
extern "C" {
    /// `new Function(body)`: the test's own script in the page.
    #[wasm_bindgen(js_name = Function)]
    type Script;
    #[wasm_bindgen(constructor, js_class = "Function")]
    fn new(body: &str) -> Script;
    #[wasm_bindgen(method, js_name = call)]
    fn run(this: &Script, this_arg: &JsValue) -> JsValue;
}

/// Runs a JS function body in the page.
fn js(body: &str) -> JsValue {
    Script::new(body).run(&JsValue::NULL)
}

async fn sleep(ms: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(wait).await.unwrap();
}

/// A click on `#id`, `dx` and `dy` pixels from its box's top-left corner.
fn click(id: &str, dx: i32, dy: i32) {
    js(&format!(
        "const el = document.getElementById('{id}'); const r = el.getBoundingClientRect();
         el.dispatchEvent(new MouseEvent('click', {{bubbles: true, cancelable: true,
           clientX: r.left + {dx}, clientY: r.top + {dy}}}));"
    ));
}

/// `beforeunload` listeners on `window` right now.
fn watching() -> f64 {
    js("return window.__beforeunload").as_f64().unwrap()
}

/// The clicks sent so far, in the order sent.
fn sent_clicks() -> Vec<Value> {
    let bodies = js("return JSON.stringify(window.__bodies)").as_string().unwrap();
    let bodies: Vec<String> = serde_json::from_str(&bodies).unwrap();
    bodies
        .iter()
        .flat_map(|b| serde_json::from_str::<Value>(b).unwrap()["e"].as_array().unwrap().clone())
        .filter(|e| e["k"] == "c")
        .collect()
}

fn consent() {
    js("document.dispatchEvent(new CustomEvent('visitorConsentCollected', {detail: {analyticsAllowed: true}}))");
}

#[wasm_bindgen_test]
async fn clicks_nothing_answers_are_dead_and_the_page_is_watched_only_while_one_waits() {
    js(r#"
        window.__bodies = [];
        window.fetch = (url, init) => { __bodies.push(init.body); return Promise.resolve(new Response("")); };
        window.__beforeunload = 0;
        const add = window.addEventListener, remove = window.removeEventListener;
        window.addEventListener = function (type, f, o) {
          if (type === "beforeunload") __beforeunload += 1;
          return add.call(this, type, f, o);
        };
        window.removeEventListener = function (type, f, o) {
          if (type === "beforeunload") __beforeunload -= 1;
          return remove.call(this, type, f, o);
        };
        document.body.insertAdjacentHTML("beforeend", `
          <div id="dead" style="position:absolute;left:10px;top:10px;width:200px;height:100px"></div>
          <button id="live" style="position:absolute;left:10px;top:150px;width:100px;height:40px">Add</button>
          <input id="field" style="position:absolute;left:10px;top:220px;width:100px;height:20px">
          <span id="count">0</span>`);
        document.getElementById("live").addEventListener("click", () => {
          const c = document.getElementById("count");
          c.textContent = String(Number(c.textContent) + 1);
        });
    "#);
    tracker_wasm::boot("9", "/collect", "100");
    consent();
    assert_eq!(
        js("return document.documentElement.dataset.lummmenState").as_string().as_deref(),
        Some("tracking")
    );
    assert_eq!(watching(), 0.0, "nothing watched before a click");

    // Nothing answers: dead once its second is over, and the watch ends.
    click("dead", 50, 25);
    assert_eq!(watching(), 1.0, "watching while the click waits");
    sleep(1_300).await;
    assert_eq!(watching(), 0.0, "the watch ends with the verdict");

    // The page's handler changes the DOM: live.
    click("live", 5, 5);
    sleep(100).await;
    assert_eq!(watching(), 0.0, "the watch ends at the answer");

    // A text field answers itself (focus): decided at once, not watched.
    click("field", 5, 5);
    assert_eq!(watching(), 0.0);

    // Still waiting when the page is left: sent undecided, not dead.
    click("dead", 0, 100);
    js("window.dispatchEvent(new PageTransitionEvent('pagehide'))");
    assert_eq!(watching(), 0.0, "leaving ends the watch");

    let clicks = sent_clicks();
    let by = |i: usize, k: &str| clicks[i][k].clone();
    assert_eq!(clicks.len(), 4, "{clicks:?}");
    let vw = js("return innerWidth").as_f64().unwrap();
    assert_eq!(
        (by(0, "sel"), by(0, "dd"), by(0, "rx"), by(0, "ry")),
        ("#dead".into(), true.into(), 250.into(), 250.into())
    );
    assert_eq!(by(0, "vw").as_f64(), Some(vw));
    assert_eq!((by(1, "sel"), by(1, "dd")), ("#live".into(), Value::Null));
    assert_eq!((by(2, "sel"), by(2, "dd")), ("#field".into(), Value::Null));
    assert_eq!(
        (by(3, "sel"), by(3, "dd"), by(3, "rx"), by(3, "ry")),
        ("#dead".into(), Value::Null, 0.into(), 1000.into())
    );
}
