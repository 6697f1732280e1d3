//! `detour import`: turns an Auth0 export (Terraform, the Deploy CLI's
//! YAML or directory format, Management API JSON) into a Detour directory:
//! one `.js` file per Action and Module, and a `detour.toml` listing the
//! post-login Actions in their bound order.
//!
//! Each format is parsed into one small [`Tenant`]; `plan.rs` orders and
//! names it, `write.rs` lays out the directory (keeping the operator's part
//! of an existing `detour.toml`), `check.rs` then runs the checks `detour
//! check` runs, per Action. Secret values are never kept in the model, so
//! they cannot be written.

mod check;
mod config_file;
mod deploy_cli;
mod management_api;
mod messages;
mod names;
mod plan;
mod report;
mod terraform;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};

pub use config_file::MARKER;
pub use messages::printable;
pub use write::UPSTREAM_VARS;

/// The export formats `detour import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `.tf` files of the auth0 Terraform provider (a file or a directory).
    Terraform,
    /// The Auth0 Deploy CLI: `tenant.yaml`, or its directory format.
    DeployCli,
    /// Management API responses (`/api/v2/actions/actions`, the post-login
    /// bindings, optionally `/api/v2/actions/modules`) in one JSON file or a
    /// directory of them.
    ManagementApi,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Terraform => "Terraform",
            Format::DeployCli => "Auth0 Deploy CLI",
            Format::ManagementApi => "Management API JSON",
        })
    }
}

/// Where something is declared in the export, for messages: `main.tf:12`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, as the operator named it (relative to the source).
    pub file: String,
    /// 1-based line, or 0 when the format gives none.
    pub line: usize,
}

impl Origin {
    fn new(file: impl Into<String>, line: usize) -> Self {
        Self {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            f.write_str(&self.file)
        }
    }
}

/// What stops one Action or Module, where it was found.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Where in the export (or the written code) it is.
    pub origin: Origin,
    /// Why, in one line.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// An npm package at the version the export pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Package name.
    pub name: String,
    /// Version as exported (Detour needs an exact one).
    pub version: String,
}

/// A secret the Action reads as `event.secrets.NAME`. Its value is never
/// kept: only whether the export carried one (Terraform may).
#[derive(Debug, Clone)]
pub struct Secret {
    /// `event.secrets` name.
    pub name: String,
    /// The export holds a literal value (to be copied into the variable by
    /// the operator, never by Detour).
    pub has_value: bool,
}

/// One Action of the tenant.
#[derive(Debug, Clone)]
pub struct Action {
    /// Its Auth0 name (kept: it names executions and logs).
    pub name: String,
    /// Where it is declared.
    pub origin: Origin,
    /// Its code, when it could be read.
    pub code: Option<String>,
    /// npm packages.
    pub dependencies: Vec<Dependency>,
    /// Secret names.
    pub secrets: Vec<Secret>,
    /// The triggers it supports (`post-login`, …).
    pub triggers: Vec<String>,
    /// The post-login trigger version it is written for (`v3`), when the
    /// export says.
    pub post_login_version: Option<String>,
    /// Actions Modules it pins: name and version number when known.
    pub modules: Vec<(String, Option<String>)>,
    /// What stops it (unreadable code, an expression that cannot be
    /// evaluated); the first one is reported.
    pub problems: Vec<Problem>,
}

impl Action {
    fn new(name: impl Into<String>, origin: Origin) -> Self {
        Self {
            name: name.into(),
            origin,
            code: None,
            dependencies: Vec::new(),
            secrets: Vec::new(),
            triggers: Vec::new(),
            post_login_version: None,
            modules: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// One Actions Module of the tenant.
#[derive(Debug, Clone)]
pub struct Module {
    /// Its Auth0 name (what `require('actions:<name>')` uses).
    pub name: String,
    /// Where it is declared.
    pub origin: Origin,
    /// Its code, when it could be read.
    pub code: Option<String>,
    /// npm packages.
    pub dependencies: Vec<Dependency>,
    /// Secret names (Detour Modules have no secrets of their own).
    pub secrets: Vec<String>,
    /// Its latest published version number, when the export says.
    pub version: Option<String>,
    /// What stops it.
    pub problems: Vec<Problem>,
}

impl Module {
    fn new(name: impl Into<String>, origin: Origin) -> Self {
        Self {
            name: name.into(),
            origin,
            code: None,
            dependencies: Vec::new(),
            secrets: Vec::new(),
            version: None,
            problems: Vec::new(),
        }
    }
}

/// One entry of the post-login trigger's bindings.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The bound Action's name.
    pub action: String,
    /// Where the binding is declared.
    pub origin: Origin,
}

/// What an export says about the tenant's Actions.
#[derive(Debug, Default)]
pub struct Tenant {
    /// Every Action, in the export's order.
    pub actions: Vec<Action>,
    /// Every Actions Module.
    pub modules: Vec<Module>,
    /// The post-login bindings, in execution order.
    pub post_login: Vec<Binding>,
    /// Remarks about the export as a whole (e.g. an order it cannot fix).
    pub notes: Vec<String>,
}

/// A failure that stops the import as a whole (nothing is written).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, ImportError> {
    Err(ImportError(message.into()))
}

/// Reads the export at `source` in `format` (or the detected one).
pub fn read(source: &Path, format: Option<Format>) -> Result<(Format, Tenant), ImportError> {
    if !source.exists() {
        return fail(format!("{}: no such file or directory", source.display()));
    }
    let format = match format {
        Some(format) => format,
        None => detect(source)?,
    };
    let tenant = match format {
        Format::Terraform => terraform::read(source)?,
        Format::DeployCli => deploy_cli::read(source)?,
        Format::ManagementApi => management_api::read(source)?,
    };
    Ok((format, tenant))
}

/// Tells the format from the file name or the directory's contents.
pub fn detect(source: &Path) -> Result<Format, ImportError> {
    let extension = |p: &Path| {
        p.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    };
    if source.is_dir() {
        let entries: Vec<PathBuf> = std::fs::read_dir(source)
            .map_err(|e| ImportError(format!("cannot read {}: {e}", source.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        if entries.iter().any(|p| extension(p) == "tf") {
            return Ok(Format::Terraform);
        }
        if source.join("actions").is_dir()
            || source.join("triggers").is_dir()
            || source.join("tenant.yaml").is_file()
            || source.join("tenant.yml").is_file()
        {
            return Ok(Format::DeployCli);
        }
        if source.join(management_api::ACTIONS_FILE).is_file() {
            return Ok(Format::ManagementApi);
        }
    } else {
        match extension(source).as_str() {
            "tf" => return Ok(Format::Terraform),
            "yaml" | "yml" => return Ok(Format::DeployCli),
            "json" => return Ok(Format::ManagementApi),
            _ => {}
        }
    }
    fail(format!(
        "{}: unknown export format: expected Terraform (.tf files), an Auth0 Deploy CLI export (tenant.yaml, or a directory with actions/ and triggers/) or Management API JSON (a .json file, or a directory with {}); name it with --format",
        source.display(),
        management_api::ACTIONS_FILE
    ))
}

/// How one Action came out of the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// In `detour.toml`, and its code passes the checks.
    Imported,
    /// In `detour.toml`; its npm packages are not installed yet, so the
    /// checks that need them wait for `detour check`.
    NeedsPackages,
    /// In `detour.toml` (so the gateway does not start without it), but
    /// something stops it: the line says what.
    Stopped(String),
    /// Not in `detour.toml`: another trigger, or not bound.
    LeftOut(String),
}

/// One line of the report: an Action and how it came out.
#[derive(Debug, Clone)]
pub struct ActionReport {
    /// The Action's name.
    pub name: String,
    /// Its place in the post-login order (1-based), when it is in it.
    pub position: Option<usize>,
    /// The file its code was written to, relative to the output directory.
    pub file: Option<String>,
    /// How it came out.
    pub status: Status,
}

/// A secret the operator must provide.
#[derive(Debug, Clone)]
pub struct SecretVar {
    /// The environment variable `detour.toml` names.
    pub var: String,
    /// The Action it is for.
    pub action: String,
    /// Its `event.secrets` name.
    pub name: String,
    /// Whether the export held a literal value (not written anywhere).
    pub has_value: bool,
}

/// Everything `detour import` prints.
#[derive(Debug, Default)]
pub struct Report {
    /// The format read.
    pub format: Option<Format>,
    /// Per Action, bound ones in order first.
    pub actions: Vec<ActionReport>,
    /// Remarks (Modules, order, …).
    pub notes: Vec<String>,
    /// Variables to set.
    pub secrets: Vec<SecretVar>,
    /// Whether any Action or Module declares npm packages.
    pub has_dependencies: bool,
    /// Whether `detour.toml` was created now (its upstream section holds
    /// placeholders) rather than updated.
    pub created_config: bool,
}

impl Report {
    /// Whether every bound post-login Action was imported (possibly still
    /// waiting for its npm packages).
    pub fn ok(&self) -> bool {
        self.actions
            .iter()
            .all(|a| !matches!(a.status, Status::Stopped(_)))
    }
}

/// Imports `source` into `out`: reads it, writes the directory, checks
/// each Action. Fails without writing anything when the export cannot be
/// read or an existing `detour.toml` would lose edits.
pub fn run(source: &Path, format: Option<Format>, out: &Path) -> Result<Report, ImportError> {
    let (format, tenant) = read(source, format)?;
    // An empty file, or the wrong one, would otherwise "import" nothing
    // and succeed.
    if tenant.actions.is_empty() {
        return fail(format!(
            "{}: no Actions in it as a {format} export: nothing to import (is it the right file, or the right --format?)",
            source.display()
        ));
    }
    // Writing into the export itself would mix Detour's files with the
    // tooling's (the Deploy CLI's actions/ directory, say).
    let export_dir = if source.is_dir() {
        Some(source)
    } else {
        source.parent()
    };
    if let (Some(export_dir), Ok(out_real)) = (export_dir, std::fs::canonicalize(out))
        && std::fs::canonicalize(export_dir).is_ok_and(|d| d == out_real)
    {
        return fail(format!(
            "--out {} is the export's own directory: write the Detour directory elsewhere",
            out.display()
        ));
    }
    let plan = plan::plan(&tenant);
    let written = write::write(&plan, out)?;
    let mut report = check::check(&plan, out);
    report.format = Some(format);
    report.created_config = written.created;
    report.notes.extend(written.removed.iter().map(|file| {
        format!("removed {file}: written by the previous import for an Action or Module this export no longer imports")
    }));
    Ok(report)
}
