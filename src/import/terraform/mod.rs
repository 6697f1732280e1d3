//! Terraform: `auth0_action`, `auth0_action_module`, `auth0_trigger_actions`
//! and `auth0_trigger_action` resources in `.tf` files (one file, or every
//! `.tf` file of a directory, in name order).
//!
//! Values are read, not evaluated: literal strings, heredocs, `file("…")`
//! with a literal path or one starting with `${path.module}`, and
//! references to other resources (`auth0_action.x.id`). Anything else is a
//! [`Problem`] naming the resource, the attribute and the line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod values;

use hcl_edit::Span as _;
use hcl_edit::structure::{Block, Body};

use self::values::{
    Reference, dependencies, is_literal, is_post_login, one_line, reference, string_attr,
};
use super::names::line_of;
use super::{Action, Binding, ImportError, Module, Origin, Problem, Secret, Tenant};

/// One `.tf` file being read.
struct Source {
    /// As shown in messages.
    label: String,
    /// Its directory: the base of relative `file()` paths.
    dir: PathBuf,
    text: String,
}

impl Source {
    fn origin(&self, span: Option<std::ops::Range<usize>>) -> Origin {
        Origin::new(
            self.label.clone(),
            span.map_or(0, |s| line_of(&self.text, s.start)),
        )
    }
}

/// Reads a `.tf` file, or every `.tf` file of a directory.
pub fn read(source: &Path) -> Result<Tenant, ImportError> {
    let files: Vec<PathBuf> = if source.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(source)
            .map_err(|e| ImportError(format!("cannot read {}: {e}", source.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "tf"))
            .collect();
        files.sort();
        files
    } else {
        vec![source.to_path_buf()]
    };
    if files.is_empty() {
        return Err(ImportError(format!("{}: no .tf files", source.display())));
    }
    let mut reader = Reader::default();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ImportError(format!("cannot read {}: {e}", path.display())))?;
        let label = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        // The parser's own message quotes the failing line, which may
        // hold a secret's value: only where and why.
        let body = hcl_edit::parser::parse_body(&text).map_err(|e| {
            ImportError(format!(
                "{label}:{}:{}: not valid HCL: {}",
                e.location().line(),
                e.location().column(),
                one_line(e.message())
            ))
        })?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let file = Source { label, dir, text };
        reader.body(&file, &body);
    }
    Ok(reader.finish())
}

#[derive(Default)]
struct Reader {
    tenant: Tenant,
    /// `auth0_action` label → index in `tenant.actions`.
    actions: HashMap<String, usize>,
    /// `auth0_action_module` label → index in `tenant.modules`.
    modules: HashMap<String, usize>,
    /// Bindings by resource label, resolved at the end.
    bindings: Vec<(Result<Reference, Problem>, Origin)>,
    /// Module pins by Action index, resolved at the end.
    pins: Vec<(usize, Result<Reference, Problem>)>,
    /// `auth0_trigger_action` resources seen (their order is not fixed).
    singles: usize,
    /// `auth0_trigger_actions` post-login resources seen.
    lists: usize,
}

impl Reader {
    fn body(&mut self, file: &Source, body: &Body) {
        for block in body.blocks() {
            if block.ident.as_str() != "resource" || block.labels.len() != 2 {
                continue;
            }
            let kind = block.labels[0].as_str();
            let label = block.labels[1].as_str();
            match kind {
                "auth0_action" => self.action(file, block, label),
                "auth0_action_module" => self.module(file, block, label),
                "auth0_trigger_actions" => self.trigger_actions(file, block),
                "auth0_trigger_action" => self.trigger_action(file, block),
                _ => {}
            }
        }
    }

    fn action(&mut self, file: &Source, block: &Block, label: &str) {
        let resource = format!("auth0_action.{label}");
        let origin = file.origin(block.span());
        let mut problems = Vec::new();
        let name = name_or_label(file, &block.body, &resource, label, &mut problems);
        let mut action = Action::new(name, origin.clone());
        action.problems = problems;
        meta_arguments(file, &block.body, &resource, &mut action.problems);
        match string_attr(file, &block.body, &resource, "code") {
            Some(Ok(code)) => action.code = Some(code),
            Some(Err(p)) => action.problems.push(p),
            None => action.problems.push(Problem {
                origin: origin.clone(),
                message: format!("{resource} has no `code`"),
            }),
        }
        for trigger in block.body.get_blocks("supported_triggers") {
            match string_attr(file, &trigger.body, &resource, "id") {
                Some(Ok(id)) => {
                    if id == "post-login"
                        && let Some(Ok(version)) =
                            string_attr(file, &trigger.body, &resource, "version")
                    {
                        action.post_login_version = Some(version);
                    }
                    action.triggers.push(id);
                }
                Some(Err(p)) => action.problems.push(p),
                None => {}
            }
        }
        action.dependencies = dependencies(file, &block.body, &resource, &mut action.problems);
        // `secrets_wo` (write-only, never in the state) is read the same:
        // its names are what the code reads.
        let blocks = block
            .body
            .get_blocks("secrets")
            .chain(block.body.get_blocks("secrets_wo"));
        for secret in blocks {
            match string_attr(file, &secret.body, &resource, "name") {
                Some(Ok(name)) => action.secrets.push(Secret {
                    name,
                    // Only whether it is a literal: the value is never kept.
                    has_value: secret
                        .body
                        .get_attribute("value")
                        .is_some_and(|v| is_literal(&v.value)),
                }),
                Some(Err(p)) => action.problems.push(p),
                None => {}
            }
        }
        let index = self.tenant.actions.len();
        for pin in block.body.get_blocks("modules") {
            let reference = match pin.body.get_attribute("module_id") {
                Some(attr) => reference(
                    file,
                    &attr.value,
                    &resource,
                    "modules.module_id",
                    attr.span(),
                ),
                None => continue,
            };
            self.pins.push((index, reference));
        }
        self.actions.insert(label.to_owned(), index);
        self.tenant.actions.push(action);
    }

    fn module(&mut self, file: &Source, block: &Block, label: &str) {
        let resource = format!("auth0_action_module.{label}");
        let origin = file.origin(block.span());
        let mut problems = Vec::new();
        let name = name_or_label(file, &block.body, &resource, label, &mut problems);
        let mut module = Module::new(name, origin.clone());
        module.problems = problems;
        meta_arguments(file, &block.body, &resource, &mut module.problems);
        match string_attr(file, &block.body, &resource, "code") {
            Some(Ok(code)) => module.code = Some(code),
            Some(Err(p)) => module.problems.push(p),
            None => module.problems.push(Problem {
                origin,
                message: format!("{resource} has no `code`"),
            }),
        }
        module.dependencies = dependencies(file, &block.body, &resource, &mut module.problems);
        let blocks = block
            .body
            .get_blocks("secrets")
            .chain(block.body.get_blocks("secrets_wo"));
        for secret in blocks {
            if let Some(Ok(name)) = string_attr(file, &secret.body, &resource, "name") {
                module.secrets.push(name);
            }
        }
        self.modules
            .insert(label.to_owned(), self.tenant.modules.len());
        self.tenant.modules.push(module);
    }

    fn trigger_actions(&mut self, file: &Source, block: &Block) {
        if !is_post_login(file, &block.body) {
            return;
        }
        self.lists += 1;
        for entry in block.body.get_blocks("actions") {
            let origin = file.origin(entry.span());
            let reference = match entry.body.get_attribute("id") {
                Some(attr) => reference(
                    file,
                    &attr.value,
                    "auth0_trigger_actions",
                    "actions.id",
                    attr.span(),
                ),
                None => continue,
            };
            self.bindings.push((reference, origin));
        }
    }

    fn trigger_action(&mut self, file: &Source, block: &Block) {
        if !is_post_login(file, &block.body) {
            return;
        }
        self.singles += 1;
        let origin = file.origin(block.span());
        if let Some(attr) = block.body.get_attribute("action_id") {
            let reference = reference(
                file,
                &attr.value,
                "auth0_trigger_action",
                "action_id",
                attr.span(),
            );
            self.bindings.push((reference, origin));
        }
    }

    fn finish(mut self) -> Tenant {
        for (reference, origin) in std::mem::take(&mut self.bindings) {
            let resolved = reference.and_then(|(kind, label)| {
                self.actions
                    .get(&label)
                    .filter(|_| kind == "auth0_action")
                    .map(|&i| self.tenant.actions[i].name.clone())
                    .ok_or_else(|| Problem {
                        origin: origin.clone(),
                        message: format!(
                            "the binding names {kind}.{label}, which these files do not define"
                        ),
                    })
            });
            match resolved {
                Ok(action) => self.tenant.post_login.push(Binding { action, origin }),
                Err(problem) => self
                    .tenant
                    .notes
                    .push(format!("post-login binding not imported: {problem}")),
            }
        }
        for (index, reference) in std::mem::take(&mut self.pins) {
            let resolved = reference.and_then(|(kind, label)| {
                self.modules
                    .get(&label)
                    .filter(|_| kind == "auth0_action_module")
                    .map(|&i| self.tenant.modules[i].name.clone())
                    .ok_or_else(|| Problem {
                        origin: self.tenant.actions[index].origin.clone(),
                        message: format!("pins {kind}.{label}, which these files do not define"),
                    })
            });
            let action = &mut self.tenant.actions[index];
            match resolved {
                // Terraform pins a version by id, never by number.
                Ok(module) => action.modules.push((module, None)),
                Err(problem) => action.problems.push(problem),
            }
        }
        if self.singles > 0 {
            self.tenant.notes.push(if self.lists > 0 {
                "both auth0_trigger_actions and auth0_trigger_action bind post-login Actions: the order is auth0_trigger_actions' list, then each auth0_trigger_action in file order; check it against the tenant".to_owned()
            } else {
                "auth0_trigger_action does not fix an order (Auth0 appends each binding when it is applied): the order used is the order of the resources in the files; check it against the tenant".to_owned()
            });
        }
        self.tenant
    }
}

/// `count` and `for_each` make one resource many Actions: not read.
/// The resource's `name`, or its label when it has none (Auth0 requires a
/// name, so the label is the best the report can say) or when the name is
/// an expression, which is then a problem of the resource.
fn name_or_label(
    file: &Source,
    body: &Body,
    resource: &str,
    label: &str,
    problems: &mut Vec<Problem>,
) -> String {
    match string_attr(file, body, resource, "name") {
        Some(Ok(name)) => name,
        Some(Err(p)) => {
            problems.push(p);
            label.to_owned()
        }
        None => label.to_owned(),
    }
}

fn meta_arguments(file: &Source, body: &Body, resource: &str, problems: &mut Vec<Problem>) {
    for key in ["count", "for_each"] {
        if let Some(attr) = body.get_attribute(key) {
            problems.push(Problem {
                origin: file.origin(attr.span()),
                message: format!(
                    "{resource} uses `{key}`: detour import reads one Action per resource"
                ),
            });
        }
    }
    if body.get_blocks("dynamic").next().is_some() {
        problems.push(Problem {
            origin: file.origin(body.get_blocks("dynamic").next().and_then(|b| b.span())),
            message: format!(
                "{resource} has a `dynamic` block, an expression detour import cannot evaluate"
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Tenant {
        let dir = tempfile::tempdir().ok().unwrap();
        std::fs::write(dir.path().join("main.tf"), text)
            .ok()
            .unwrap();
        read(dir.path()).ok().unwrap()
    }

    #[test]
    fn heredocs_keep_javascript_template_literals_and_strip_the_indent() {
        let tenant = read_text(
            "resource \"auth0_action\" \"a\" {\n  name = \"a\"\n  code = <<-EOT\n    exports.x = `$${1}`;\n      nested();\n  EOT\n}\n",
        );
        assert_eq!(
            tenant.actions[0].code.as_deref(),
            Some("exports.x = `${1}`;\n  nested();\n")
        );
    }

    #[test]
    fn a_variable_is_named_with_its_resource_and_line() {
        let tenant =
            read_text("resource \"auth0_action\" \"a\" {\n  name = \"a\"\n  code = var.code\n}\n");
        let problem = tenant.actions[0].problems[0].to_string();
        assert!(
            problem.starts_with("main.tf:3: auth0_action.a `code = var.code`: an expression"),
            "{problem}"
        );
    }
}
