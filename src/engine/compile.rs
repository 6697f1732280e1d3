//! Turning an Action file into something an engine can load, and refusing
//! bad files at start-up with their file and line.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use std::sync::Arc;

use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Exception, Function, IntoJs, Module, Runtime, Value,
    WriteOptions,
};

use crate::config::modules::{ActionCode, CodeSet};
use crate::config::{ActionSpec, EngineSettings};

use super::{host, script};

/// The JS half of the engine boundary: the helper scripts first, then the
/// prelude, which takes what they define into its closure.
pub const PRELUDE: &str = concat!(
    include_str!("globals.js"),
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
    let compiled = BYTECODE.get_or_init(|| {
        let rt = Runtime::new().map_err(|e| e.to_string())?;
        let ctx = Context::full(&rt).map_err(|e| e.to_string())?;
        ctx.with(|ctx| {
            Module::declare(ctx.clone(), "detour:prelude", PRELUDE)
                .and_then(|m| m.write(WriteOptions::default()))
                .catch(&ctx)
                .map_err(|e| e.to_string())
        })
    });
    compiled
        .as_ref()
        .map(Vec::as_slice)
        .map_err(|e| CompileError::Startup(format!("the prelude does not compile: {e}")))
}

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
                    let wrapped = format!(
                        "(function (exports, require, module, __filename, __dirname) {{{}\n}})",
                        file.source
                    );
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
}

/// An Action prepared for loading.
#[derive(Debug, Clone)]
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
    /// The prelude's `run(handler, inputJson, secretsJson)`: taken from
    /// the prelude module's exports, never from a global the Action could
    /// replace.
    pub run: Function<'js>,
    /// The error the Action threw while loading, if any. Start-up refuses
    /// an Action that throws in [`check`]; one that throws only in a later
    /// context reports it on every execution, as Auth0 does.
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
    // `require` reaches Rust through three functions handed to the
    // prelude's closure only (never set on the global object): resolve a
    // specifier from a file (the rules of config/modules.rs, enforced
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
    let load_error: Option<String> = define
        .call((source.access.entry, resolve, load_file, name))
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
