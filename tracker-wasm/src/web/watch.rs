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
//! only in that second. The callbacks and options are made once; a watch that
//! starts adds listeners, one that ends removes them.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AddEventListenerOptions, Document, MutationObserver, MutationObserverInit, Window};

/// What counts as an answer to a click, besides changes of the DOM.
const EVENTS: [&str; 4] = ["scroll", "hashchange", "popstate", "beforeunload"];

pub struct Watch {
    window: Window,
    document: Document,
    /// None in a browser without it: scrolls and navigation still count.
    observer: Option<MutationObserver>,
    init: MutationObserverInit,
    options: AddEventListenerOptions,
    on_change: Closure<dyn FnMut()>,
    on_time: Closure<dyn FnMut()>,
    /// The pending timer while watching; None when idle.
    timer: Option<i32>,
}

impl core::fmt::Debug for Watch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Watch").field("timer", &self.timer).finish_non_exhaustive()
    }
}

impl Watch {
    /// `on_change`: the page answered; `on_time`: the timer set by [`Watch::arm`]
    /// ran out.
    pub fn new(
        window: &Window,
        document: &Document,
        on_change: impl FnMut() + 'static,
        on_time: impl FnMut() + 'static,
    ) -> Self {
        let on_change = Closure::<dyn FnMut()>::new(on_change);
        let observer = MutationObserver::new(on_change.as_ref().unchecked_ref()).ok();
        // Properties set directly: web-sys's setters would add one import each.
        let init = js_sys::Object::new();
        for key in ["subtree", "childList", "attributes", "characterData"] {
            let _ = js_sys::Reflect::set(&init, &key.into(), &JsValue::TRUE);
        }
        let options = AddEventListenerOptions::new();
        options.set_capture(true);
        options.set_passive(true);
        Self {
            window: window.clone(),
            document: document.clone(),
            observer,
            init: init.unchecked_into(),
            options,
            on_change,
            on_time: Closure::<dyn FnMut()>::new(on_time),
            timer: None,
        }
    }

    pub fn is_on(&self) -> bool {
        self.timer.is_some()
    }

    /// Watches (if not already) and calls `on_time` in `ms`, in place of any
    /// earlier timer.
    pub fn arm(&mut self, ms: i32) {
        match self.timer.take() {
            Some(id) => self.window.clear_timeout_with_handle(id),
            None => {
                if let Some(o) = &self.observer {
                    let _ = o.observe_with_options(&self.document, &self.init);
                }
                let f = self.on_change.as_ref().unchecked_ref();
                for name in EVENTS {
                    let _ = self.window.add_event_listener_with_callback_and_add_event_listener_options(
                        name,
                        f,
                        &self.options,
                    );
                }
            }
        }
        // Some even if the browser refused the timer: the watch is on either way.
        self.timer = Some(
            self.window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    self.on_time.as_ref().unchecked_ref(),
                    ms,
                )
                .unwrap_or(0),
        );
    }

    /// Stops watching: observer, listeners and timer.
    pub fn stop(&mut self) {
        let Some(id) = self.timer.take() else { return };
        self.window.clear_timeout_with_handle(id);
        if let Some(o) = &self.observer {
            o.disconnect();
        }
        let f = self.on_change.as_ref().unchecked_ref();
        for name in EVENTS {
            let _ = self.window.remove_event_listener_with_callback_and_bool(name, f, true);
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop();
    }
}
