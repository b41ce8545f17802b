//! Event listeners and timers that remove themselves when dropped, so stopping the
//! tracker (consent revoked) is dropping its handles.
//!
//! `addEventListener`, `removeEventListener`, `dispatchEvent` and `setInterval`
//! are bound here without web-sys's `catch`: they do not throw for a function, a
//! name or a new event, and the `Result` forms carry exception handling into
//! every call. Listeners take `capture` alone: none
//! of the events the tracker hears (clicks, moves, scroll, visibility, page hide,
//! navigation) blocks scrolling, so `passive` would change nothing.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget, Window};

#[wasm_bindgen]
extern "C" {
    /// An `EventTarget`, for the two calls below.
    pub type Target;
    #[wasm_bindgen(method, js_name = addEventListener)]
    pub fn listen(this: &Target, name: &str, f: &JsValue, capture: bool);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    pub fn unlisten(this: &Target, name: &str, f: &JsValue, capture: bool);
    #[wasm_bindgen(method, js_name = dispatchEvent)]
    fn dispatch(this: &Target, event: &JsValue);
    /// `window`, for `setInterval`.
    type Timers;
    #[wasm_bindgen(method, js_name = setInterval)]
    fn set_interval(this: &Timers, f: &JsValue, ms: i32) -> i32;
    #[wasm_bindgen(js_name = CustomEvent)]
    type NewEvent;
    #[wasm_bindgen(constructor, js_class = "CustomEvent")]
    fn new(name: &str, init: &JsValue) -> NewEvent;
}

/// Fires a `CustomEvent` called `name` with `detail` on `target`.
pub fn fire(target: &EventTarget, name: &str, detail: &JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    target.unchecked_ref::<Target>().dispatch(&NewEvent::new(name, &init));
}

/// A listener on `target`, removed on drop.
pub struct Listener {
    target: EventTarget,
    name: &'static str,
    capture: bool,
    callback: Closure<dyn FnMut(Event)>,
}

impl core::fmt::Debug for Listener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Listener").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Listener {
    /// `capture` sees clicks before page scripts can stop them.
    pub fn new(
        target: &EventTarget,
        name: &'static str,
        capture: bool,
        f: impl FnMut(Event) + 'static,
    ) -> Self {
        let callback = Closure::<dyn FnMut(Event)>::new(f);
        target.unchecked_ref::<Target>().listen(name, callback.as_ref(), capture);
        Self { target: target.clone(), name, capture, callback }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.target.unchecked_ref::<Target>().unlisten(self.name, self.callback.as_ref(), self.capture);
    }
}

/// A `setInterval`, cleared on drop.
pub struct Interval {
    window: Window,
    id: i32,
    _callback: Closure<dyn FnMut()>,
}

impl core::fmt::Debug for Interval {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Interval").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Interval {
    pub fn new(window: &Window, ms: i32, f: impl FnMut() + 'static) -> Self {
        let callback = Closure::<dyn FnMut()>::new(f);
        let id = window.unchecked_ref::<Timers>().set_interval(callback.as_ref(), ms);
        Self { window: window.clone(), id, _callback: callback }
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        self.window.clear_interval_with_handle(self.id);
    }
}
