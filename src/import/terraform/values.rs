//! Terraform values, read without evaluating: literal strings, heredocs,
//! `file("…")` with a literal or `${path.module}` path, and references to
//! resources. Anything else is an error naming the resource, the attribute
//! and the line.

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Body;
use hcl_edit::template::{Element, Template};

use super::Source;
use crate::import::{Dependency, Problem};

/// A resource reference, `auth0_action.label.id` → `("auth0_action", "label")`.
pub(super) type Reference = (String, String);

pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The string value of attribute `key`, `None` when it is absent.
pub(super) fn string_attr(
    file: &Source,
    body: &Body,
    resource: &str,
    key: &str,
) -> Option<Result<String, Problem>> {
    let attr = body.get_attribute(key)?;
    let origin = file.origin(attr.span());
    Some(evaluate(file, &attr.value).map_err(|why| Problem {
        origin,
        message: format!(
            "{resource} `{key} = {}`: {why}",
            shorten(&attr.value.to_string())
        ),
    }))
}

fn shorten(expr: &str) -> String {
    let one = one_line(expr);
    match one.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &one[..at]),
        None => one,
    }
}

const CANNOT: &str = "an expression detour import cannot evaluate (it reads literal strings, heredocs and file(\"…\") with a literal or ${path.module} path)";

/// A string from a literal, a heredoc or `file(…)`.
fn evaluate(file: &Source, expr: &Expression) -> Result<String, String> {
    match expr {
        Expression::String(s) => Ok(s.value().clone()),
        Expression::StringTemplate(t) => template(t),
        Expression::HeredocTemplate(h) => template(&h.template),
        Expression::Parenthesis(p) => evaluate(file, p.inner()),
        Expression::FuncCall(call)
            if call.name.namespace.is_empty() && call.name.name.as_str() == "file" =>
        {
            let mut args = call.args.iter();
            let (Some(arg), None) = (args.next(), args.next()) else {
                return Err("file() takes one argument".to_owned());
            };
            let path = evaluate(file, arg)?;
            let full = file.dir.join(&path);
            std::fs::read_to_string(&full).map_err(|e| format!("cannot read {path}: {e}"))
        }
        _ => Err(CANNOT.to_owned()),
    }
}

/// A template whose only interpolations are `path.module` / `path.root`.
fn template(template: &Template) -> Result<String, String> {
    let mut out = String::new();
    for element in template.iter() {
        match element {
            Element::Literal(s) => out.push_str(s.value()),
            // Relative paths are read from the .tf file's directory, so
            // the module's own path is `.` from there.
            Element::Interpolation(i) if is_path_module(&i.expr) => out.push('.'),
            _ => return Err(CANNOT.to_owned()),
        }
    }
    Ok(out)
}

fn is_path_module(expr: &Expression) -> bool {
    let Expression::Traversal(t) = expr else {
        return false;
    };
    let Expression::Variable(v) = &t.expr else {
        return false;
    };
    v.as_str() == "path"
        && t.operators.len() == 1
        && matches!(t.operators[0].value(), TraversalOperator::GetAttr(a) if matches!(a.as_str(), "module" | "root"))
}

/// `auth0_x.label.id` (or `.name`, `.version_id`): the resource it names.
pub(super) fn reference(
    file: &Source,
    expr: &Expression,
    resource: &str,
    key: &str,
    span: Option<std::ops::Range<usize>>,
) -> Result<Reference, Problem> {
    let problem = |why: &str| Problem {
        origin: file.origin(span.clone()),
        message: format!("{resource} `{key} = {}`: {why}", shorten(&expr.to_string())),
    };
    let Expression::Traversal(t) = expr else {
        return Err(problem(
            "not a reference to a resource in these files (such as auth0_action.x.id)",
        ));
    };
    let Expression::Variable(kind) = &t.expr else {
        return Err(problem("not a reference to a resource in these files"));
    };
    match t.operators.first().map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(label)) => {
            Ok((kind.as_str().to_owned(), label.as_str().to_owned()))
        }
        _ => Err(problem("not a reference to a resource in these files")),
    }
}

/// Whether `expr` is a literal string (`"…"`, or a heredoc without
/// interpolation): a value the export holds, not one it refers to.
pub(super) fn is_literal(expr: &Expression) -> bool {
    match expr {
        Expression::String(_) => true,
        Expression::HeredocTemplate(h) => h
            .template
            .iter()
            .all(|e| matches!(e, hcl_edit::template::Element::Literal(_))),
        _ => false,
    }
}

/// Whether a trigger resource binds post-login.
pub(super) fn is_post_login(file: &Source, body: &Body) -> bool {
    matches!(string_attr(file, body, "", "trigger"), Some(Ok(t)) if t == "post-login")
}

/// The `dependencies` blocks of a resource (a block without `name` and
/// `version` is a problem).
pub(super) fn dependencies(
    file: &Source,
    body: &Body,
    resource: &str,
    problems: &mut Vec<Problem>,
) -> Vec<Dependency> {
    let mut out = Vec::new();
    for block in body.get_blocks("dependencies") {
        let name = string_attr(file, &block.body, resource, "name");
        let version = string_attr(file, &block.body, resource, "version");
        match (name, version) {
            (Some(Ok(name)), Some(Ok(version))) => out.push(Dependency { name, version }),
            (Some(Err(p)), _) | (_, Some(Err(p))) => problems.push(p),
            _ => problems.push(Problem {
                origin: file.origin(block.span()),
                message: format!("{resource}: a `dependencies` block needs `name` and `version`"),
            }),
        }
    }
    out
}
