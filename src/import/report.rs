//! What `detour import` prints: one line per Action, the variables to set,
//! and the next steps.

use std::fmt::Write as _;
use std::path::Path;

use super::messages::printable;
use super::{Report, Status, UPSTREAM_VARS};

impl Report {
    /// The report as printed, for an import of `source` into `out`.
    pub fn render(&self, source: &Path, out: &Path) -> String {
        let mut text = String::new();
        let format = self.format.map(|f| f.to_string()).unwrap_or_default();
        let _ = writeln!(
            text,
            "Read {} ({format}), wrote {}:",
            source.display(),
            out.display()
        );
        for action in &self.actions {
            let place = action
                .position
                .map_or_else(|| "  -".to_owned(), |p| format!("{p:>3}."));
            let file = action
                .file
                .as_ref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            let status = match &action.status {
                Status::Imported => format!("imported{file}"),
                Status::NeedsPackages => {
                    format!("imported{file}; install its npm packages, then run detour check")
                }
                Status::Stopped(why) => format!("not imported: {why}"),
                Status::LeftOut(why) => format!("left out: {why}"),
            };
            // Names, paths and messages come from the export: one line
            // each, whatever they hold.
            let _ = writeln!(
                text,
                "{place} action \"{}\": {}",
                printable(&action.name),
                printable(&status)
            );
        }
        for note in &self.notes {
            let _ = writeln!(text, "note: {}", printable(note));
        }
        let mut vars: Vec<String> = self
            .secrets
            .iter()
            .map(|s| {
                let value = if s.has_value {
                    " (the export holds a literal value: copy it from there; it was not written)"
                } else {
                    ""
                };
                format!(
                    "  {}  event.secrets.{} of \"{}\"{value}",
                    s.var,
                    printable(&s.name),
                    printable(&s.action)
                )
            })
            .collect();
        if self.created_config {
            let [api_key, result_secret] = UPSTREAM_VARS;
            vars.push(format!(
                "  {api_key}  the bearer key the upstream calls Detour with"
            ));
            vars.push(format!(
                "  {result_secret}  the key of its result tokens (at least 32 bytes)"
            ));
        }
        if !vars.is_empty() {
            let _ = writeln!(text, "Set these environment variables before serving:");
            for var in vars {
                let _ = writeln!(text, "{var}");
            }
        }
        let config = out.join("detour.toml");
        let _ = writeln!(text, "Next:");
        if self.created_config {
            let _ = writeln!(
                text,
                "  edit the [server] and [[upstreams]] placeholders and each Action's allow_hosts in {}",
                config.display()
            );
        }
        if self.has_dependencies {
            let _ = writeln!(
                text,
                "  cd {} && detour deps --config detour.toml > package.json && npm install --omit=dev --ignore-scripts",
                out.display()
            );
        }
        let _ = writeln!(text, "  detour check --config {}", config.display());
        if !self.ok() {
            let _ = writeln!(
                text,
                "Some bound Actions were not imported: detour.toml lists them, so the gateway will not start until they are fixed."
            );
        }
        text
    }
}
