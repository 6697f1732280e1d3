//! Turning an Action file into something an engine can load, and refusing
//! bad files at start-up with their file and line.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Runtime, WriteOptions,
};

use crate::config::{ActionSpec, EngineSettings};

use super::host;

/// The JS half of the engine boundary: the helper scripts first, then the
/// prelude, which takes what they define into its closure.
pub const PRELUDE: &str = concat!(
    include_str!("globals.js"),
    include_str!("web.js"),
    include_str!("node.js"),
    include_str!("api_more.js"),
    include_str!("prelude.js")
);

/// The prelude as QuickJS bytecode, compiled once per process: parsing
/// and compiling ~1,200 lines of JS was 2.6 ms of the 3.2 ms it took to set
/// up a context; loading the bytecode and running it takes about 0.5 ms.
/// The prelude runs as a module (strict, nothing declared at its top
/// level), which is how it is written.
fn prelude_bytecode() -> Result<&'static [u8], CompileError> {
    static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let compiled = BYTECODE.get_or_init(|| write_module("detour:prelude", PRELUDE));
    // A lazily loaded module that does not compile fails start-up too, not
    // the first login that needs it.
    for (name, _) in LAZY_MODULES {
        lazy_module_bytecode(name).map_err(CompileError::Startup)?;
    }
    compiled
        .as_ref()
        .map(Vec::as_slice)
        .map_err(|e| CompileError::Startup(format!("the prelude does not compile: {e}")))
}

/// The parts of the JS surface a context loads only when an Action first
/// uses them (`host.loadModule(name)`): each a module exporting `build`.
const LAZY_MODULES: [(&str, &str); 3] = [
    ("crypto", include_str!("crypto_module.js")),
    ("web", include_str!("web_classes.js")),
    ("node", include_str!("node_builtins.js")),
];

/// A module's bytecode, or why it did not compile.
type Compiled = Result<Vec<u8>, String>;

/// Bytecode of the lazily loaded module `name`, compiled once per process
/// like the prelude.
pub fn lazy_module_bytecode(name: &str) -> Result<&'static [u8], String> {
    static BYTECODE: OnceLock<Vec<(&'static str, Compiled)>> = OnceLock::new();
    let compiled = BYTECODE.get_or_init(|| {
        LAZY_MODULES
            .iter()
            .map(|(name, source)| (*name, write_module(&format!("detour:{name}"), source)))
            .collect()
    });
    match compiled.iter().find(|(n, _)| *n == name) {
        Some((_, Ok(bytes))) => Ok(bytes.as_slice()),
        Some((_, Err(e))) => Err(format!("the {name} module does not compile: {e}")),
        None => Err(format!("no built-in module {name}")),
    }
}

/// Compiles a module to bytecode, without its source text: that is what
/// Function.prototype.toString would show of its functions, and was more
/// than half of every context's copy (line numbers are kept for stack
/// traces).
fn write_module(name: &str, source: &str) -> Result<Vec<u8>, String> {
    let rt = Runtime::new().map_err(|e| e.to_string())?;
    let ctx = Context::full(&rt).map_err(|e| e.to_string())?;
    ctx.with(|ctx| {
        let options = WriteOptions {
            strip_source: true,
            ..WriteOptions::default()
        };
        Module::declare(ctx.clone(), name, source)
            .and_then(|m| m.write(options))
            .catch(&ctx)
            .map_err(|e| e.to_string())
    })
}

/// An Action prepared for loading.
#[derive(Debug, Clone)]
pub struct ActionSource {
    /// Action name.
    pub name: String,
    /// File name used in stack traces and errors.
    pub file: String,
    /// The source wrapped as a CommonJS factory: evaluating it gives the
    /// factory function, which the prelude calls. The wrapper adds no line
    /// before the Action's first line, so line numbers match the file.
    pub wrapped: String,
    /// The files next to the Action that `require` may load, as a JSON
    /// object of path to source.
    pub modules_json: String,
    /// `event.secrets` as JSON text: handed to each execution by the
    /// engine itself, so secrets never pass through the pipeline or the
    /// store.
    pub secrets_json: String,
    /// Outbound HTTP allowlist.
    pub allow_hosts: Vec<String>,
}

impl ActionSource {
    /// Wraps an Action's source.
    pub fn new(spec: &ActionSpec) -> Self {
        use secrecy::ExposeSecret;
        let secrets: serde_json::Map<String, serde_json::Value> = spec
            .secrets
            .iter()
            .map(|(k, v)| (k.clone(), v.expose_secret().into()))
            .collect();
        Self {
            name: spec.name.clone(),
            file: spec.file.display().to_string(),
            wrapped: format!(
                "(function (exports, require, module, __filename, __dirname) {{{}\n}})",
                spec.source
            ),
            modules_json: serde_json::Value::Object(
                spec.modules
                    .iter()
                    .map(|(path, source)| (path.clone(), source.clone().into()))
                    .collect(),
            )
            .to_string(),
            secrets_json: serde_json::Value::Object(secrets).to_string(),
            allow_hosts: spec.allow_hosts.clone(),
        }
    }
}

/// An Action cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The file does not parse.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The Action file.
        file: String,
        /// 1-based line, or 0 when QuickJS did not say.
        line: u32,
        /// QuickJS's message.
        message: String,
    },
    /// The engine itself could not be set up.
    #[error("cannot start the engine: {0}")]
    Startup(String),
}

/// An Action loaded into a context.
pub struct Loaded<'js> {
    /// The prelude's `run(handler, inputJson, secretsJson)`: taken from
    /// the prelude module's exports, never from a global the Action could
    /// replace.
    pub run: Function<'js>,
    /// The error the Action threw while loading, if any (Auth0 reports it
    /// on every execution, so it is not a start-up failure).
    pub load_error: Option<String>,
}

/// Evaluates the prelude and the Action in `ctx`.
pub fn load<'js>(
    ctx: &Ctx<'js>,
    source: &ActionSource,
    links: host::Links,
    fetcher: Option<super::fetch::Fetcher>,
) -> Result<Loaded<'js>, CompileError> {
    let startup = |e: String| CompileError::Startup(e);
    host::install(ctx, links, fetcher).map_err(|e| startup(e.to_string()))?;
    let bytecode = prelude_bytecode()?;
    // SAFETY: `bytecode` is what `Module::write` made of the prelude, in
    // this process, with this QuickJS build: valid bytecode by
    // construction. It also lives for the whole process, so the ROM-data
    // flag rquickjs passes could not leave QuickJS holding a dangling
    // buffer (in the QuickJS it bundles the flag is obsolete and the bytes
    // are copied anyway).
    #[allow(unsafe_code)]
    let prelude = unsafe { Module::load(ctx.clone(), bytecode) };
    let (run, define): (Function, Function) = prelude
        .and_then(|m| m.eval())
        .and_then(|(module, done)| {
            done.finish::<()>()?;
            Ok((module.get("run")?, module.get("define")?))
        })
        .catch(ctx)
        .map_err(|e| startup(e.to_string()))?;
    let mut options = EvalOptions::default();
    // CommonJS modules are sloppy-mode scripts in Node.
    options.strict = false;
    options.filename = Some(source.file.clone());
    let factory: Function = ctx
        .eval_with_options(source.wrapped.as_str(), options)
        .catch(ctx)
        .map_err(|e| syntax_error(&source.file, e))?;
    let load_error: Option<String> = define
        .call((factory, source.modules_json.as_str()))
        .catch(ctx)
        .map_err(|e| startup(e.to_string()))?;
    Ok(Loaded { run, load_error })
}

fn syntax_error(file: &str, e: CaughtError<'_>) -> CompileError {
    let (message, stack) = match &e {
        CaughtError::Exception(ex) => (
            ex.message().unwrap_or_default(),
            ex.stack().unwrap_or_default(),
        ),
        other => (other.to_string(), String::new()),
    };
    let line = stack
        .split(&format!("{file}:"))
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    CompileError::Syntax {
        file: file.to_owned(),
        line,
        message: format!("SyntaxError: {message}"),
    }
}

/// Loads an Action once in a throwaway runtime, under the engine's limits,
/// so a broken file stops start-up instead of failing logins.
pub fn check(source: &ActionSource, settings: &EngineSettings) -> Result<(), CompileError> {
    let startup = |e: rquickjs::Error| CompileError::Startup(e.to_string());
    let rt = Runtime::new().map_err(startup)?;
    rt.set_memory_limit(settings.memory_limit_bytes);
    let deadline = Instant::now() + settings.timeout.min(Duration::from_secs(5));
    rt.set_interrupt_handler(Some(Box::new(move || Instant::now() >= deadline)));
    let ctx = Context::full(&rt).map_err(startup)?;
    let load_error = ctx.with(|ctx| {
        load(&ctx, source, host::Links::check(), None).map(|loaded| loaded.load_error)
    })?;
    if let Some(err) = load_error {
        tracing::warn!(action = %source.name, error = %err, "the Action throws when loaded; every login that runs it will fail");
    }
    Ok(())
}

/// QuickJS-NG says only `not a function` when an Action calls something
/// that is not one (`api.noop()`); V8, which Auth0 runs, names it:
/// `api.noop is not a function`. The stack's first frame points into the
/// call in the Action's file, so the callee is read back from the source
/// there. Anything else is left as it was.
pub fn name_the_callee(source: &ActionSource, thrown: &mut super::Thrown) {
    if thrown.name != "TypeError" || thrown.message != "not a function" {
        return;
    }
    let Some(frame) = thrown.stack.lines().next() else {
        return;
    };
    // "    at h (action.js:4:14)" or "    at action.js:4:14"
    let location = frame
        .trim()
        .trim_end_matches(')')
        .rsplit(['(', ' '])
        .next()
        .unwrap_or_default();
    let mut parts = location.rsplitn(3, ':');
    let (Some(column), Some(line), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let (Ok(line), Ok(column)) = (line.parse::<usize>(), column.parse::<usize>()) else {
        return;
    };
    if file != source.file {
        return;
    }
    let Some(text) = source.wrapped.lines().nth(line.saturating_sub(1)) else {
        return;
    };
    // QuickJS-NG points at the called member's name (`api.x.|noop(`) or
    // just past the `(` (`noop(|1)`): find that `(`.
    let chars: Vec<char> = text.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let forward = chars[at..].iter().position(|&c| !ident(c)).map(|n| at + n);
    let paren = match forward {
        Some(i) if chars[i] == '(' => i,
        _ => match chars[..at].iter().rposition(|&c| c == '(') {
            Some(i) => i,
            None => return,
        },
    };
    let before: String = chars[..paren].iter().collect();
    let before = before.trim_end().trim_end_matches("?.");
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '$' | '.'))
        .last()
        .map(|(i, _)| i);
    let Some(callee) = start.map(|i| &before[i..]) else {
        return;
    };
    if callee.is_empty() || callee.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return;
    }
    thrown.message = format!("{callee} is not a function");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(code: &str) -> ActionSource {
        ActionSource {
            name: "a".into(),
            file: "action.js".into(),
            wrapped: format!(
                "(function (exports, require, module, __filename, __dirname) {{{code}\n}})"
            ),
            modules_json: "{}".into(),
            secrets_json: "{}".into(),
            allow_hosts: Vec::new(),
        }
    }

    fn thrown(stack: &str) -> crate::engine::Thrown {
        crate::engine::Thrown {
            name: "TypeError".into(),
            message: "not a function".into(),
            stack: stack.into(),
        }
    }

    #[test]
    fn a_call_of_something_that_is_not_a_function_names_it() {
        let src = source(
            "\nexports.onExecutePostLogin = async (event, api) => {\n    api.noop(1, 2);\n};",
        );
        // Pointing past the `(`, and at the member's name.
        for column in [14, 9] {
            let mut t = thrown(&format!(
                "    at <anonymous> (action.js:3:{column})\n    at run (detour:prelude)"
            ));
            name_the_callee(&src, &mut t);
            assert_eq!(t.message, "api.noop is not a function", "{column}");
        }
        // Another file, or no usable frame: unchanged.
        let mut t = thrown("    at f (lib/x.js:3:14)");
        name_the_callee(&src, &mut t);
        assert_eq!(t.message, "not a function");
        let mut t = thrown("");
        name_the_callee(&src, &mut t);
        assert_eq!(t.message, "not a function");
    }

    #[test]
    fn every_lazily_loaded_module_compiles_and_unknown_names_are_refused() {
        for (name, _) in LAZY_MODULES {
            assert!(
                lazy_module_bytecode(name).is_ok_and(|b| !b.is_empty()),
                "{name}"
            );
        }
        assert!(lazy_module_bytecode("fs").is_err());
    }
}
