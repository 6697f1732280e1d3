//! Globals built on first use (`Buffer`, `URL`, `Headers`, `process`,
//! `setTimeout`, ...): each is an accessor on the global object until it is
//! first read or assigned, then a plain data property like any other
//! global. Under per-execution isolation every execution sets up a
//! context, and defining these accessors from JS (a getter and a setter
//! closure, a descriptor object, `Object.defineProperty`, and their
//! garbage) cost 13–16 k instructions each, over 0.35 M per context for
//! the 27 of them. Defined here, each is one small C function, used as both
//! getter and setter, holding `resolve` and its name.
#![allow(unsafe_code)]

use std::ffi::c_int;

use rquickjs::{Array, Ctx, Error, Function, Result, qjs};

/// `host.lazyGlobals(names, enumerable, resolve)`: defines each of `names`
/// on the global object as such an accessor. Read, it calls
/// `resolve(name)`; read or assigned, the global becomes a plain writable,
/// configurable data property (enumerable as asked) holding the value.
/// Defining it fails silently, as `Reflect.defineProperty` does, when the
/// Action froze the global object; the read still answers.
pub fn define<'js>(
    ctx: Ctx<'js>,
    names: Array<'js>,
    enumerable: bool,
    resolve: Function<'js>,
) -> Result<()> {
    let raw = ctx.as_raw().as_ptr();
    let flags = (qjs::JS_PROP_CONFIGURABLE
        | if enumerable {
            qjs::JS_PROP_ENUMERABLE
        } else {
            0
        }) as c_int;
    // SAFETY: `raw` is the live context `ctx` borrows; the global object is
    // a new reference, freed below.
    let global = unsafe { qjs::JS_GetGlobalObject(raw) };
    let result = (0..names.len()).try_for_each(|i| {
        let name: rquickjs::String = names.get(i)?;
        let mut data = [resolve.as_raw(), name.as_raw()];
        // SAFETY: `data` holds two live values of this context, which
        // JS_NewCFunctionData duplicates; `accessor` reads exactly two.
        let function = unsafe {
            qjs::JS_NewCFunctionData(raw, Some(accessor), 0, flags, 2, data.as_mut_ptr())
        };
        // SAFETY: `function` was just returned by QuickJS.
        if unsafe { qjs::JS_IsException(function) } {
            return Err(Error::Exception);
        }
        // SAFETY: `name` is a live string of this context.
        let atom = unsafe { qjs::JS_ValueToAtom(raw, name.as_raw()) };
        if atom == qjs::JS_ATOM_NULL {
            // SAFETY: `function` is ours, freed once.
            unsafe { qjs::JS_FreeValue(raw, function) };
            return Err(Error::Exception);
        }
        // SAFETY: JS_DefinePropertyGetSet takes over one reference to the
        // getter and one to the setter: the same function, duplicated
        // once. The atom is ours, freed once.
        let defined = unsafe {
            let defined = qjs::JS_DefinePropertyGetSet(
                raw,
                global,
                atom,
                qjs::JS_DupValue(raw, function),
                function,
                flags | qjs::JS_PROP_THROW as c_int,
            );
            qjs::JS_FreeAtom(raw, atom);
            defined
        };
        if defined < 0 {
            return Err(Error::Exception);
        }
        Ok(())
    });
    // SAFETY: the reference taken above, freed once.
    unsafe { qjs::JS_FreeValue(raw, global) };
    result
}

/// The getter and setter of one lazy global. Called with no argument (a
/// read) it asks `resolve(name)` for the value; with one (an assignment)
/// it takes that. Either way the global becomes a data property holding
/// the value, with the attributes the accessor had. `magic` carries the
/// property flags `define` gave it; `data` is `[resolve, name]`.
unsafe extern "C" fn accessor(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    argc: c_int,
    argv: *mut qjs::JSValue,
    magic: c_int,
    data: *mut qjs::JSValue,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls this with the live context, `argc` arguments at
    // `argv` and the two data values `define` stored, all valid for the
    // call. `value` and `global` are owned references, each freed or
    // handed over exactly once; the atom likewise. Nothing read from
    // `data` is used after the property (which holds this function) is
    // replaced.
    unsafe {
        let name = *data.add(1);
        let value = if argc > 0 {
            qjs::JS_DupValue(ctx, *argv)
        } else {
            qjs::JS_Call(ctx, *data, qjs::JS_UNDEFINED, 1, data.add(1))
        };
        if qjs::JS_IsException(value) {
            return value;
        }
        let atom = qjs::JS_ValueToAtom(ctx, name);
        if atom == qjs::JS_ATOM_NULL {
            qjs::JS_FreeValue(ctx, value);
            return qjs::JS_EXCEPTION;
        }
        let global = qjs::JS_GetGlobalObject(ctx);
        // In place of the accessor, the data property keeps the other
        // attributes the Action may have given it (`enumerable: false`),
        // as a plain global's would be kept; made anew (the accessor was
        // deleted and this one called through a kept reference), it has
        // the global's own.
        let own = qjs::JS_GetOwnProperty(ctx, std::ptr::null_mut(), global, atom);
        let flags = match own {
            1.. => {
                (qjs::JS_PROP_HAS_VALUE | qjs::JS_PROP_HAS_WRITABLE | qjs::JS_PROP_WRITABLE)
                    as c_int
            }
            _ => {
                magic
                    | (qjs::JS_PROP_HAS_VALUE
                        | qjs::JS_PROP_HAS_WRITABLE
                        | qjs::JS_PROP_WRITABLE
                        | qjs::JS_PROP_HAS_ENUMERABLE
                        | qjs::JS_PROP_HAS_CONFIGURABLE) as c_int
            }
        };
        let defined = if own < 0 {
            -1
        } else {
            // Borrows `value` (JS_DefineProperty frees nothing it is given).
            qjs::JS_DefineProperty(
                ctx,
                global,
                atom,
                value,
                qjs::JS_UNDEFINED,
                qjs::JS_UNDEFINED,
                flags,
            )
        };
        qjs::JS_FreeValue(ctx, global);
        qjs::JS_FreeAtom(ctx, atom);
        if defined < 0 {
            qjs::JS_FreeValue(ctx, value);
            return qjs::JS_EXCEPTION;
        }
        if argc > 0 {
            qjs::JS_FreeValue(ctx, value);
            qjs::JS_UNDEFINED
        } else {
            value
        }
    }
}

#[cfg(test)]
mod tests {
    use rquickjs::{CatchResultExt, Context, Function, Runtime};

    /// Runs `script` in a context whose globals `lazyA` (enumerable) and
    /// `lazyB` (not) are lazy, and answers what it returns, with how many
    /// times the resolver ran.
    fn run(script: &str) -> (String, i32) {
        let rt = Runtime::new().unwrap();
        let ctx = Context::full(&rt).unwrap();
        ctx.with(|ctx| {
            let define = Function::new(ctx.clone(), super::define).unwrap();
            ctx.globals().set("define", define).unwrap();
            ctx.eval::<(), _>(
                "globalThis.built = { calls: 0 };
                 define(['lazyA'], true, (name) => { built.calls++; return 'built ' + name; });
                 define(['lazyB'], false, (name) => { built.calls++; return 'built ' + name; });
                 delete globalThis.define;",
            )
            .unwrap();
            let out: String = ctx
                .eval(script)
                .catch(&ctx)
                .unwrap_or_else(|e| panic!("{e}"));
            let calls: i32 = ctx.eval("built.calls").unwrap();
            (out, calls)
        })
    }

    #[test]
    fn a_lazy_global_is_built_once_on_first_read_then_is_a_plain_property() {
        let (out, calls) = run(
            "const before = typeof Object.getOwnPropertyDescriptor(globalThis, 'lazyA').get;
             const keys = Object.keys(globalThis).filter((k) => k.startsWith('lazy')).join();
             const first = lazyA; const second = lazyA;
             const d = Object.getOwnPropertyDescriptor(globalThis, 'lazyA');
             [before, keys, 'lazyB' in globalThis, first, second, d.value, d.writable, d.enumerable, d.configurable].join('|')",
        );
        assert_eq!(
            out,
            "function|lazyA|true|built lazyA|built lazyA|built lazyA|true|true|true"
        );
        assert_eq!(calls, 1);
    }

    #[test]
    fn assigning_or_deleting_first_never_builds_it() {
        let (out, calls) = run("lazyA = 'mine'; delete globalThis.lazyB;
             const d = Object.getOwnPropertyDescriptor(globalThis, 'lazyA');
             [lazyA, d.enumerable, typeof lazyB, 'lazyB' in globalThis].join('|')");
        assert_eq!(out, "mine|true|undefined|false");
        assert_eq!(calls, 0);
    }

    #[test]
    fn a_frozen_global_object_still_answers_and_the_flags_hold() {
        let (out, calls) = run("Object.freeze(globalThis);
             const d = Object.getOwnPropertyDescriptor(globalThis, 'lazyB');
             [lazyB, lazyB, d.enumerable, typeof d.get].join('|')");
        assert_eq!(out, "built lazyB|built lazyB|false|function");
        // Nothing could be settled, so each read asks again.
        assert_eq!(calls, 2);
    }
}
