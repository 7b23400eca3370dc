//! Rust errors to JavaScript `Error` objects with a `name` and a stable `code`.

use wasm_bindgen::JsValue;

use crate::error::Error;

/// A JS `Error` whose `name` is `FastSamError` and whose `code` is [`Error::code`]; a GPU failure
/// also has a `reason`, what failed without the advice ([`Error::gpu_failure`]).
pub fn to_js(error: Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("FastSamError");
    let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
    if let Some(what) = error.gpu_failure() {
        let _ = js_sys::Reflect::set(&js, &"reason".into(), &what.into());
    }
    js.into()
}

/// Shorthand for an `InvalidOption` / `InvalidImage` style error from a message.
pub fn invalid(kind: fn(String) -> Error, message: impl Into<String>) -> JsValue {
    to_js(kind(message.into()))
}
