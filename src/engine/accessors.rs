//! `defineAccessors(target, [key, get, set, …])`: the event's lazy fields
//! in a kept context (kept_context.js) defined straight from Rust.
//! `Object.defineProperties` reads every descriptor object's six fields
//! before it defines anything; here each field is one
//! `JS_DefinePropertyGetSet`, which made defining an event's dozen
//! accessors about a third cheaper (docs/performance.md).
#![allow(unsafe_code)]

use std::ffi::c_int;

use rquickjs::{Array, Ctx, Error, Object, Result, qjs};

/// Element `i` of `array` as a new reference. `array` is the prelude's own
/// array, filled with data properties: reading it runs no JS. The
/// elements are read raw, not as rquickjs `Value`s: their wrappers (a
/// context reference taken and dropped per value) were a fifth of this
/// function's cost (docs/performance.md).
///
/// SAFETY: `raw` is a live context and `array` a live value of it.
unsafe fn element(raw: *mut qjs::JSContext, array: qjs::JSValue, i: usize) -> Result<qjs::JSValue> {
    let index = u32::try_from(i).map_err(|_| Error::Exception)?;
    // SAFETY: as the function's contract says.
    let value = unsafe { qjs::JS_GetPropertyUint32(raw, array, index) };
    // SAFETY: reading a value's tag.
    if unsafe { qjs::JS_IsException(value) } {
        return Err(Error::Exception);
    }
    Ok(value)
}

/// Defines, for each `[key, get, set]` triple of `flat`, an enumerable,
/// configurable accessor `key` on `target` with that getter and setter.
pub fn define<'js>(ctx: Ctx<'js>, target: Object<'js>, flat: Array<'js>) -> Result<()> {
    let raw = ctx.as_raw().as_ptr();
    let flags = (qjs::JS_PROP_CONFIGURABLE | qjs::JS_PROP_ENUMERABLE | qjs::JS_PROP_THROW) as c_int;
    let array = flat.as_raw();
    // Read once: nothing below runs JS that could change it.
    let len = flat.len();
    let mut i = 0;
    while i + 2 < len {
        // SAFETY: `raw` is this call's context, `array` and `target` live
        // values of it. Every reference taken here is given up once: the
        // key's after its atom is made, the atom's after the definition,
        // and JS_DefinePropertyGetSet takes over the getter's and the
        // setter's.
        unsafe {
            let key = element(raw, array, i)?;
            let atom = qjs::JS_ValueToAtom(raw, key);
            qjs::JS_FreeValue(raw, key);
            if atom == qjs::JS_ATOM_NULL {
                return Err(Error::Exception);
            }
            let get = match element(raw, array, i + 1) {
                Ok(get) => get,
                Err(e) => {
                    qjs::JS_FreeAtom(raw, atom);
                    return Err(e);
                }
            };
            let set = match element(raw, array, i + 2) {
                Ok(set) => set,
                Err(e) => {
                    qjs::JS_FreeValue(raw, get);
                    qjs::JS_FreeAtom(raw, atom);
                    return Err(e);
                }
            };
            let defined = qjs::JS_DefinePropertyGetSet(raw, target.as_raw(), atom, get, set, flags);
            qjs::JS_FreeAtom(raw, atom);
            if defined < 0 {
                return Err(Error::Exception);
            }
        }
        i += 3;
    }
    Ok(())
}
