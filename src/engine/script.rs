//! CommonJS files as QuickJS bytecode: compiled once per process, loaded
//! into each context that requires them. rquickjs 0.14 only writes and
//! reads bytecode for ES modules, and a CommonJS file is a sloppy-mode
//! script, so this goes through `rquickjs::qjs` directly: `JS_Eval` with
//! `JS_EVAL_FLAG_COMPILE_ONLY`, `JS_WriteObject`, then `JS_ReadObject` and
//! `JS_EvalFunction` in the context that runs it.
#![allow(unsafe_code)]

use rquickjs::{Ctx, Error, Result, Value, qjs};

/// Compiles `source` (a whole script) to bytecode without running it.
/// On a syntax error the exception is pending in `ctx` (catch it with
/// `CatchResultExt::catch`).
pub fn compile(ctx: &Ctx<'_>, source: &str, filename: &str) -> Result<Vec<u8>> {
    write(ctx, source, filename, qjs::JS_WRITE_OBJ_BYTECODE)
}

/// [`compile`] without the source text and the debug information (line
/// numbers) in the bytecode, for Detour's own scripts (the prelude, the
/// lazily loaded modules): their functions' `toString` shows no source,
/// their frames in a stack trace no line, and each context reads less
/// (about 30 k instructions per `per_execution` login, docs/performance.md).
pub fn compile_internal(ctx: &Ctx<'_>, source: &str, filename: &str) -> Result<Vec<u8>> {
    write(
        ctx,
        source,
        filename,
        qjs::JS_WRITE_OBJ_BYTECODE | qjs::JS_WRITE_OBJ_STRIP_SOURCE | qjs::JS_WRITE_OBJ_STRIP_DEBUG,
    )
}

fn write(ctx: &Ctx<'_>, source: &str, filename: &str, write_flags: u32) -> Result<Vec<u8>> {
    // QuickJS wants the input NUL-terminated (and reads `input_len` bytes,
    // so a NUL inside the source is just a character).
    let mut input = Vec::with_capacity(source.len() + 1);
    input.extend_from_slice(source.as_bytes());
    input.push(0);
    let name = std::ffi::CString::new(filename.replace('\0', ""))?;
    let raw = ctx.as_raw().as_ptr();
    let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
    // SAFETY: `raw` is the live context `ctx` borrows; `input` is
    // NUL-terminated and `source.len()` bytes precede the NUL; `name` is a
    // valid C string. Both outlive the call.
    let compiled = unsafe {
        qjs::JS_Eval(
            raw,
            input.as_ptr().cast(),
            source.len() as _,
            name.as_ptr(),
            flags,
        )
    };
    // SAFETY: `compiled` is a value JS_Eval just returned.
    if unsafe { qjs::JS_IsException(compiled) } {
        return Err(Error::Exception);
    }
    let mut len: qjs::size_t = 0;
    // SAFETY: `compiled` is the function bytecode object JS_Eval returned
    // in this context (COMPILE_ONLY); `len` is a valid out pointer. We own
    // `compiled` and free it exactly once, after writing it.
    let buffer = unsafe {
        let buffer = qjs::JS_WriteObject(raw, &mut len, compiled, write_flags as i32);
        qjs::JS_FreeValue(raw, compiled);
        buffer
    };
    if buffer.is_null() {
        return Err(Error::Exception);
    }
    // SAFETY: JS_WriteObject returned `len` initialized bytes at `buffer`,
    // allocated by this context's allocator; they are copied, then freed
    // once with js_free.
    let bytes = unsafe {
        let bytes = std::slice::from_raw_parts(buffer, len as usize).to_vec();
        qjs::js_free(raw, buffer.cast());
        bytes
    };
    Ok(bytes)
}

/// Runs bytecode made by [`compile`] in `ctx` and returns the script's
/// completion value.
pub fn run<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> Result<Value<'js>> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: `bytecode` is what `compile` wrote in this process, with this
    // QuickJS build (the engine only ever passes bytes from `compile`), so
    // it is valid bytecode by construction; without the ROM-data flag
    // QuickJS copies what it needs and does not keep the slice.
    let object = unsafe {
        qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        )
    };
    // SAFETY: `object` is a value JS_ReadObject just returned.
    if unsafe { qjs::JS_IsException(object) } {
        return Err(Error::Exception);
    }
    // SAFETY: JS_EvalFunction takes ownership of `object` (a function
    // bytecode object read in this context) and frees it.
    let result = unsafe { qjs::JS_EvalFunction(raw, object) };
    // SAFETY: `result` is a value JS_EvalFunction just returned.
    if unsafe { qjs::JS_IsException(result) } {
        return Err(Error::Exception);
    }
    // SAFETY: `result` is an owned value of this context; `Value` takes
    // over that reference and frees it when dropped.
    Ok(unsafe { Value::from_raw(ctx.clone(), result) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rquickjs::{Context, Function, Runtime};

    #[test]
    fn a_sloppy_script_round_trips_through_bytecode() {
        let rt = Runtime::new().ok().unwrap();
        let bytes = {
            let ctx = Context::full(&rt).ok().unwrap();
            ctx.with(|ctx| {
                compile(
                    &ctx,
                    "(function (a) { with ({b: 2}) { return a + b; } })",
                    "t.js",
                )
            })
            .ok()
            .unwrap()
        };
        let other = Runtime::new().ok().unwrap();
        let ctx = Context::full(&other).ok().unwrap();
        let sum: i32 = ctx.with(|ctx| {
            let f: Function = run(&ctx, &bytes).ok().unwrap().into_function().unwrap();
            f.call((40,)).ok().unwrap()
        });
        assert_eq!(sum, 42);
    }
}
