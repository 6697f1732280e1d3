//! Turning an Action file into something an engine can load, and refusing
//! bad files at start-up with their file and line.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use std::sync::Arc;

use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Exception, Function, IntoJs, Runtime, Value,
};

use crate::config::modules::{ActionCode, CodeSet};
use crate::config::{ActionSpec, EngineSettings};

use super::{host, script};

/// The JS half of the engine boundary: the helper scripts first, then the
/// prelude, which takes what they define into its closure. Only what every
/// execution needs is here (about 11 KB of bytecode): the Node and Web
/// globals, `process`, `console`, `fetch` and most of the `api` are
/// [`LAZY_MODULES`], loaded into a context when an Action first touches
/// them, because under per-execution isolation every execution sets up a
/// context. It runs as one strict function (nothing declared on the
/// global object) whose value is the prelude's `internals` (`run` and
/// `define`); the wrapper adds no line, so stack traces keep the files'
/// line numbers.
pub const PRELUDE: &str = concat!(
    "(function () { 'use strict'; ",
    include_str!("globals.js"),
    include_str!("web.js"),
    include_str!("node.js"),
    include_str!("prelude.js"),
    "\nreturn internals;\n})()"
);

/// The prelude as QuickJS bytecode, compiled once per process: parsing
/// and compiling ~1,200 lines of JS was 2.6 ms of the 3.2 ms it took to set
/// up a context; loading the bytecode and running it takes about 0.3 ms.
/// A script, not a module: evaluating a module (its record, its
/// environment, the promise of its evaluation, its namespace) cost each
/// context about 0.1 M instructions more.
fn prelude_bytecode() -> Result<&'static [u8], CompileError> {
    static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let compiled = BYTECODE.get_or_init(|| write_internal("detour:prelude", PRELUDE));
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

/// What goes before a CommonJS file's first line.
const WRAPPER_PREFIX: &str = "(function (exports, require, module, __filename, __dirname) {";

/// Every file of a configuration's [`CodeSet`], compiled once per process:
/// JavaScript files to bytecode (run in a context only when first
/// required), JSON files kept as text.
#[derive(Debug)]
pub struct CompiledCode {
    set: Arc<CodeSet>,
    units: Vec<Unit>,
}

#[derive(Debug)]
enum Unit {
    /// Bytecode of the file wrapped as a CommonJS factory.
    Script(Vec<u8>),
    /// A JSON file, parsed by `require`.
    Json,
    /// A package file that does not compile: requiring it throws this.
    /// (A package may carry files for other environments that a literal
    /// in its code leads to; only using one is an error.)
    Broken(String),
}

impl CompiledCode {
    /// Compiles every JavaScript file of `set`; a syntax error names the
    /// file and line.
    pub fn new(set: &Arc<CodeSet>) -> Result<Arc<Self>, CompileError> {
        let startup = |e: rquickjs::Error| CompileError::Startup(e.to_string());
        let rt = Runtime::new().map_err(startup)?;
        let ctx = Context::full(&rt).map_err(startup)?;
        let units = ctx.with(|ctx| {
            set.files
                .iter()
                .map(|file| {
                    if file.json {
                        return Ok(Unit::Json);
                    }
                    // The wrapper adds no line before the file's first
                    // line, so line numbers match the file.
                    let wrapped = format!("{WRAPPER_PREFIX}{}\n}})", file.source);
                    match script::compile(&ctx, &wrapped, &file.name).catch(&ctx) {
                        Ok(bytecode) => Ok(Unit::Script(bytecode)),
                        Err(e) if file.package => {
                            Ok(Unit::Broken(syntax_error(&file.name, e).to_string()))
                        }
                        Err(e) => Err(syntax_error(&file.name, e)),
                    }
                })
                .collect::<Result<Vec<_>, CompileError>>()
        })?;
        Ok(Arc::new(Self {
            set: set.clone(),
            units,
        }))
    }

    /// Whether this was compiled from `set`.
    pub fn is_of(&self, set: &Arc<CodeSet>) -> bool {
        Arc::ptr_eq(&self.set, set)
    }

    /// The file stack traces call `name`.
    pub fn file_named(&self, name: &str) -> Option<&crate::config::modules::CodeFile> {
        self.set.files.iter().find(|f| f.name == name)
    }
}

/// The parts of the JS surface a context loads only when an Action first
/// uses them (`host.loadModule(name)`): each declares `function build`,
/// which loading it answers (see [`lazy_module_bytecode`]).
const LAZY_MODULES: [(&str, &str); 12] = [
    ("timers", include_str!("timers.js")),
    ("kept", include_str!("kept_context.js")),
    ("fetch", include_str!("web_fetch.js")),
    ("console", include_str!("console.js")),
    ("refused", include_str!("refused_modules.js")),
    ("http", include_str!("http_client.js")),
    (
        "api",
        concat!(
            include_str!("api_more.js"),
            include_str!("api_cache.js"),
            include_str!("api_redirect.js"),
            include_str!("api_authentication.js"),
            include_str!("api_session.js"),
            include_str!("api_saml.js"),
            include_str!("api_prompt.js"),
        ),
    ),
    ("globals", include_str!("base_globals.js")),
    ("process", include_str!("node_process.js")),
    ("crypto", include_str!("crypto_module.js")),
    ("web", include_str!("web_classes.js")),
    ("node", include_str!("node_builtins.js")),
];

/// A module's bytecode, or why it did not compile.
type Compiled = Result<Vec<u8>, String>;

/// Bytecode of the lazily loaded module `name`, compiled once per process
/// like the prelude, and like it a strict function, called at once, whose
/// value is the file's `build`.
pub fn lazy_module_bytecode(name: &str) -> Result<&'static [u8], String> {
    static BYTECODE: OnceLock<Vec<(&'static str, Compiled)>> = OnceLock::new();
    let compiled = BYTECODE.get_or_init(|| {
        LAZY_MODULES
            .iter()
            .map(|(name, source)| {
                let wrapped =
                    format!("(function () {{ 'use strict'; {source}\nreturn build;\n}})()");
                (*name, write_internal(&format!("detour:{name}"), &wrapped))
            })
            .collect()
    });
    match compiled.iter().find(|(n, _)| *n == name) {
        Some((_, Ok(bytes))) => Ok(bytes.as_slice()),
        Some((_, Err(e))) => Err(format!("the {name} module does not compile: {e}")),
        None => Err(format!("no built-in module {name}")),
    }
}

/// Compiles one of Detour's own scripts to bytecode, without its source
/// text: that is what Function.prototype.toString would show of its
/// functions, and was more than half of every context's copy (line
/// numbers are kept for stack traces).
fn write_internal(name: &str, source: &str) -> Result<Vec<u8>, String> {
    let rt = Runtime::new().map_err(|e| e.to_string())?;
    let ctx = Context::full(&rt).map_err(|e| e.to_string())?;
    ctx.with(|ctx| {
        script::compile_internal(&ctx, source, name)
            .catch(&ctx)
            .map_err(|e| e.to_string())
    })
}

/// An Action prepared for loading. Not `Debug`: it holds the Action's
/// secrets in clear, and a `{:?}` in a log line must not print them.
#[derive(Clone)]
pub struct ActionSource {
    /// Action name.
    pub name: String,
    /// Its configuration's code, compiled.
    pub code: Arc<CompiledCode>,
    /// What this Action may load.
    pub access: Arc<ActionCode>,
    /// `event.secrets` as JSON text: handed to each execution by the
    /// engine itself, so secrets never pass through the pipeline or the
    /// store.
    pub secrets_json: String,
    /// Outbound HTTP allowlist.
    pub allow_hosts: Vec<String>,
}

impl ActionSource {
    /// Prepares an Action whose code set `code` was compiled from.
    pub fn new(spec: &ActionSpec, code: Arc<CompiledCode>) -> Self {
        use secrecy::ExposeSecret;
        let secrets: serde_json::Map<String, serde_json::Value> = spec
            .secrets
            .iter()
            .map(|(k, v)| (k.clone(), v.expose_secret().into()))
            .collect();
        Self {
            name: spec.name.clone(),
            code,
            access: Arc::new(spec.entry.clone()),
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
    /// The Action throws while it loads (its top level, or a module it
    /// requires there).
    #[error("action \"{action}\" throws while loading: {message}")]
    Load {
        /// Action name.
        action: String,
        /// What it threw.
        message: String,
    },
    /// The engine itself could not be set up.
    #[error("cannot start the engine: {0}")]
    Startup(String),
}

/// An Action loaded into a context.
pub struct Loaded<'js> {
    /// The prelude's `run(handler, inputJson, secretsJson, ...fields)`,
    /// `settle()` and `wait(promise)` (prelude.js): taken from the
    /// prelude's value, never from a global the Action could replace.
    pub run: Function<'js>,
    /// See `run`.
    pub settle: Function<'js>,
    /// See `run`.
    pub wait: Function<'js>,
    /// The error the Action threw while loading, if any. Start-up refuses
    /// an Action that throws in [`check`]; one that throws only in a later
    /// context reports it on every execution, as Auth0 does.
    pub load_error: Option<String>,
}

/// Evaluates the prelude and the Action in `ctx`. `single_use`: the
/// context serves one execution (per-execution isolation), so the parts
/// of the api most Actions never read are built only if it reads them.
pub fn load<'js>(
    ctx: &Ctx<'js>,
    source: &ActionSource,
    links: host::Links,
    fetcher: Option<super::fetch::Fetcher>,
    single_use: bool,
) -> Result<Loaded<'js>, CompileError> {
    let startup = |e: String| CompileError::Startup(e);
    host::install(ctx, links, fetcher).map_err(|e| startup(e.to_string()))?;
    let bytecode = prelude_bytecode()?;
    let (run, settle, wait, define): (Function, Function, Function, Function) =
        script::run(ctx, bytecode)
            .and_then(|internals| {
                let internals = internals
                    .into_object()
                    .ok_or_else(|| Exception::throw_type(ctx, "the prelude did not load"))?;
                Ok((
                    internals.get("run")?,
                    internals.get("settle")?,
                    internals.get("wait")?,
                    internals.get("define")?,
                ))
            })
            .catch(ctx)
            .map_err(|e| startup(e.to_string()))?;
    // `require` reaches Rust through three functions handed to the
    // prelude's closure only (never set on the global object): resolve a
    // specifier from a file (the rules of config/modules/code_set.rs, enforced
    // here), load a file's factory (bytecode) or JSON text, and name a file.
    let code = source.code.clone();
    let access = source.access.clone();
    let resolve = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, from: usize, spec: String| -> rquickjs::Result<usize> {
            code.set
                .resolve(&access, from, &spec)
                .map_err(|message| Exception::throw_message(&ctx, &message))
        },
    )
    .map_err(|e| startup(e.to_string()))?;
    let code = source.code.clone();
    let load_file = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, id: usize| -> rquickjs::Result<Value<'js>> {
            match (code.units.get(id), code.set.file(id)) {
                (Some(Unit::Script(bytecode)), _) => script::run(&ctx, bytecode),
                (Some(Unit::Json), Some(file)) => file.source.as_str().into_js(&ctx),
                (Some(Unit::Broken(message)), _) => Err(Exception::throw_syntax(&ctx, message)),
                _ => Err(Exception::throw_message(&ctx, "no such module")),
            }
        },
    )
    .map_err(|e| startup(e.to_string()))?;
    let code = source.code.clone();
    let name = Function::new(ctx.clone(), move |id: usize| -> String {
        code.set
            .file(id)
            .map(|f| f.name.clone())
            .unwrap_or_default()
    })
    .map_err(|e| startup(e.to_string()))?;
    // The message a built-in that would open the sandbox throws on use,
    // or null: such a module is served as a stand-in whose members throw.
    let refused = Function::new(ctx.clone(), |spec: String| -> Option<String> {
        crate::config::resolve::refused_on_use(&spec)
    })
    .map_err(|e| startup(e.to_string()))?;
    // Only a kept context defines the event's fields lazily.
    let define_accessors = if single_use {
        None
    } else {
        Some(
            Function::new(ctx.clone(), super::accessors::define)
                .map_err(|e| startup(e.to_string()))?,
        )
    };
    let load_error: Option<String> = define
        .call((
            source.access.entry,
            resolve,
            load_file,
            name,
            refused,
            single_use,
            define_accessors,
        ))
        .catch(ctx)
        .map_err(|e| startup(e.to_string()))?;
    Ok(Loaded {
        run,
        settle,
        wait,
        load_error,
    })
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
        load(&ctx, source, host::Links::check(), None, false).map(|loaded| loaded.load_error)
    })?;
    // Auth0 would report it on every execution; refusing it here stops
    // start-up (and `detour check`) naming the Action instead.
    match load_error {
        Some(message) => Err(CompileError::Load {
            action: source.name.clone(),
            message,
        }),
        None => Ok(()),
    }
}

/// QuickJS-NG says only `not a function` when an Action calls something
/// that is not one (`api.noop()`); V8, which Auth0 runs, names it:
/// `api.noop is not a function`. The stack's first frame points into the
/// call in the Action's file, so the callee is read back from the source
/// there. Anything else is left as it was.
pub fn name_the_callee(source: &ActionSource, thrown: &mut super::Thrown) {
    name_callee_with(
        |file| source.code.file_named(file).map(|f| f.source.as_str()),
        thrown,
    );
}

/// [`name_the_callee`] over any way of finding a file's source by the
/// name stack traces give it.
fn name_callee_with<'a>(source_of: impl Fn(&str) -> Option<&'a str>, thrown: &mut super::Thrown) {
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
    let Some(code) = source_of(file) else {
        return;
    };
    let Some(text) = code.lines().nth(line.saturating_sub(1)) else {
        return;
    };
    // The first line carries the CommonJS wrapper before the file's text.
    let column = if line == 1 {
        column.saturating_sub(WRAPPER_PREFIX.chars().count())
    } else {
        column
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

    /// Finds `code` as the file `action.js`.
    fn source<'a>(code: &'a str) -> impl Fn(&str) -> Option<&'a str> + 'a {
        move |file: &str| (file == "action.js").then_some(code)
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
            name_callee_with(&src, &mut t);
            assert_eq!(t.message, "api.noop is not a function", "{column}");
        }
        // Another file, or no usable frame: unchanged.
        let mut t = thrown("    at f (lib/x.js:3:14)");
        name_callee_with(&src, &mut t);
        assert_eq!(t.message, "not a function");
        let mut t = thrown("");
        name_callee_with(&src, &mut t);
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
