//! Event listeners and timers that remove themselves when dropped, so stopping the
//! tracker (consent revoked) is dropping its handles.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AddEventListenerOptions, Event, EventTarget, Window};

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
    /// `capture` sees clicks before page scripts can stop them; `passive` tells the
    /// browser we never call `preventDefault`, so scrolling is never held up.
    pub fn new(
        target: &EventTarget,
        name: &'static str,
        capture: bool,
        passive: bool,
        f: impl FnMut(Event) + 'static,
    ) -> Option<Self> {
        let callback = Closure::<dyn FnMut(Event)>::new(f);
        let options = AddEventListenerOptions::new();
        options.set_capture(capture);
        options.set_passive(passive);
        target
            .add_event_listener_with_callback_and_add_event_listener_options(
                name,
                callback.as_ref().unchecked_ref(),
                &options,
            )
            .ok()?;
        Some(Self { target: target.clone(), name, capture, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            self.name,
            self.callback.as_ref().unchecked_ref(),
            self.capture,
        );
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
    pub fn new(window: &Window, ms: i32, f: impl FnMut() + 'static) -> Option<Self> {
        let callback = Closure::<dyn FnMut()>::new(f);
        let id = window
            .set_interval_with_callback_and_timeout_and_arguments_0(callback.as_ref().unchecked_ref(), ms)
            .ok()?;
        Some(Self { window: window.clone(), id, _callback: callback })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        self.window.clear_interval_with_handle(self.id);
    }
}
