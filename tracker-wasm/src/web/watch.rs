//! Watching the page while a click waits for its verdict ([`crate::dead`]): a
//! `MutationObserver` on the whole document, and listeners for scrolls (of the
//! page or of any element: window, capture phase) and navigation (`hashchange`,
//! `popstate`, and `beforeunload`, the first sign of a link leaving the page).
//! Leaving itself (`pagehide`, the page hidden) is the recording listeners'
//! concern: they send waiting clicks undecided.
//!
//! It runs only between a click and its verdict, a second or so at a time: an
//! idle page pays nothing for the observer, and a `beforeunload` listener, which
//! keeps some browsers from putting the page in the back/forward cache, is there
//! only in that second. The callback is made once; a watch that starts adds the
//! listeners, one that ends removes them.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Window};

use super::listen::Target;
use crate::dead::Seen;

/// What counts as an answer to a click, besides changes of the DOM.
const EVENTS: [&str; 4] = ["scroll", "hashchange", "popstate", "beforeunload"];

#[wasm_bindgen]
extern "C" {
    // The forms without `catch`, on `window` and the observer seen through these
    // types: with these arguments they do not throw, and web-sys's `Result` forms
    // carry exception handling into every call (listeners: `super::listen`).
    type Win;
    #[wasm_bindgen(method, js_name = setTimeout)]
    fn set_timeout(this: &Win, f: &JsValue, ms: i32) -> i32;
    /// `MutationObserver`, there in every browser that runs this wasm.
    type Observer;
    #[wasm_bindgen(constructor, js_class = "MutationObserver")]
    fn new(callback: &JsValue) -> Observer;
    #[wasm_bindgen(method)]
    fn observe(this: &Observer, target: &Document, options: &JsValue);
    #[wasm_bindgen(method)]
    fn disconnect(this: &Observer);
}

pub struct Watch {
    window: Window,
    document: Document,
    observer: Observer,
    /// `{subtree, childList, attributes, characterData}`, made once.
    init: JsValue,
    /// Called by the observer, the listeners and the timer alike: only the timer
    /// passes no argument.
    callback: Closure<dyn FnMut(JsValue)>,
    /// The pending timer while watching; None when idle.
    timer: Option<i32>,
}

impl core::fmt::Debug for Watch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Watch").field("timer", &self.timer).finish_non_exhaustive()
    }
}

impl Watch {
    /// `on_seen` hears [`Seen::Change`] when the page answered and [`Seen::Time`]
    /// when the timer set by [`Watch::arm`] ran out.
    pub fn new(window: &Window, document: &Document, mut on_seen: impl FnMut(Seen) + 'static) -> Self {
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |arg: JsValue| {
            on_seen(if arg.is_undefined() { Seen::Time } else { Seen::Change });
        });
        let observer = Observer::new(callback.as_ref());
        // Properties set directly: web-sys's setters would add one import each.
        let init = js_sys::Object::new();
        for key in ["subtree", "childList", "attributes", "characterData"] {
            let _ = js_sys::Reflect::set(&init, &key.into(), &JsValue::TRUE);
        }
        Self {
            window: window.clone(),
            document: document.clone(),
            observer,
            init: init.into(),
            callback,
            timer: None,
        }
    }

    pub fn is_on(&self) -> bool {
        self.timer.is_some()
    }

    /// Watches (if not already) and calls back with [`Seen::Time`] in `ms`, in
    /// place of any earlier timer.
    pub fn arm(&mut self, ms: i32) {
        let f = self.callback.as_ref();
        match self.timer {
            Some(id) => self.window.clear_timeout_with_handle(id),
            None => {
                self.observer.observe(&self.document, &self.init);
                for name in EVENTS {
                    self.window.unchecked_ref::<Target>().listen(name, f, true);
                }
            }
        }
        self.timer = Some(self.window.unchecked_ref::<Win>().set_timeout(f, ms));
    }

    /// Stops watching: observer, listeners and timer.
    pub fn stop(&mut self) {
        let Some(id) = self.timer.take() else { return };
        self.window.clear_timeout_with_handle(id);
        self.observer.disconnect();
        for name in EVENTS {
            self.window.unchecked_ref::<Target>().unlisten(name, self.callback.as_ref(), true);
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop();
    }
}
