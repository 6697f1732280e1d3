//! `defineAccessors(target, [key, get, set, …])`: the event's lazy fields
//! in a kept context (kept_context.js) defined straight from Rust.
//! `Object.defineProperties` reads every descriptor object's six fields
//! before it defines anything; here each field is one
//! `JS_DefinePropertyGetSet`, which made defining an event's dozen
//! accessors about a third cheaper (docs/performance.md).
#![allow(unsafe_code)]

use std::ffi::c_int;

use rquickjs::{Array, Ctx, Error, Object, Result, Value, qjs};

/// Defines, for each `[key, get, set]` triple of `flat`, an enumerable,
/// configurable accessor `key` on `target` with that getter and setter.
pub fn define<'js>(ctx: Ctx<'js>, target: Object<'js>, flat: Array<'js>) -> Result<()> {
    let raw = ctx.as_raw().as_ptr();
    let flags = (qjs::JS_PROP_CONFIGURABLE | qjs::JS_PROP_ENUMERABLE | qjs::JS_PROP_THROW) as c_int;
    let mut i = 0;
    while i + 2 < flat.len() {
        let key: Value = flat.get(i)?;
        let get: Value = flat.get(i + 1)?;
        let set: Value = flat.get(i + 2)?;
        i += 3;
        // SAFETY: `key` is a live value of this context; the atom is ours
        // and freed once below.
        let atom = unsafe { qjs::JS_ValueToAtom(raw, key.as_raw()) };
        if atom == qjs::JS_ATOM_NULL {
            return Err(Error::Exception);
        }
        // SAFETY: JS_DefinePropertyGetSet takes over one reference to the
        // getter and one to the setter, duplicated here from live values
        // of this context; `target` is a live object of it.
        let defined = unsafe {
            let defined = qjs::JS_DefinePropertyGetSet(
                raw,
                target.as_raw(),
                atom,
                qjs::JS_DupValue(raw, get.as_raw()),
                qjs::JS_DupValue(raw, set.as_raw()),
                flags,
            );
            qjs::JS_FreeAtom(raw, atom);
            defined
        };
        if defined < 0 {
            return Err(Error::Exception);
        }
    }
    Ok(())
}
