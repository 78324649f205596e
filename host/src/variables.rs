//! Application variables with Spin's semantics: `[variables]` declare names with
//! defaults (or `required`), components expose their own variables as templates
//! over them (`"{{ name }}"`), and `SPIN_VARIABLE_<NAME>` environment variables
//! override. The host may also bind one variable per request (the tenant id).

use crate::manifest::{AppManifest, VariableDef};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var(String),
}

fn parse_template(t: &str) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Lit(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("unterminated `{{{{` in template `{t}`");
        };
        let name = after[..end].trim();
        crate::manifest::check_name(name)?;
        parts.push(Part::Var(name.to_string()));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    Ok(parts)
}

/// The app variables a template refers to.
pub fn template_refs(t: &str) -> Result<Vec<String>> {
    Ok(parse_template(t)?
        .into_iter()
        .filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Lit(_) => None,
        })
        .collect())
}

/// Resolved app-level values (defaults + environment), shared by every request.
#[derive(Debug)]
pub struct AppVariables {
    /// Resolved values. Never logged: secrets are only ever returned to the
    /// components that declare them.
    values: HashMap<String, String>,
    components: HashMap<String, BTreeMap<String, Vec<Part>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    InvalidName(String),
    Undefined(String),
}

impl AppVariables {
    /// Resolves every declared variable now, so a missing required one fails at start-up.
    /// `bound` names variables the host supplies per request (they need no value here).
    pub fn load(
        manifest: &AppManifest,
        env: impl Fn(&str) -> Option<String>,
        bound: &[&str],
    ) -> Result<Arc<AppVariables>> {
        let mut values = HashMap::new();
        for (name, VariableDef { default, required, .. }) in &manifest.variables {
            let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            let value = env(&env_name).or_else(|| default.clone());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None if bound.contains(&name.as_str()) => {}
                None if *required => bail!(
                    "{}: variable `{name}` is required: set {env_name} in the environment",
                    manifest.path.display()
                ),
                None => {}
            }
        }
        let mut components = HashMap::new();
        for (id, c) in &manifest.components {
            let mut templates = BTreeMap::new();
            for (name, t) in &c.variables {
                templates.insert(name.clone(), parse_template(t)?);
            }
            components.insert(id.clone(), templates);
        }
        Ok(Arc::new(AppVariables { values, components }))
    }

    /// Renders a template over app-level values (for manifest fields such as
    /// `allowed_outbound_hosts`, resolved once at load).
    pub fn render_app(&self, template: &str) -> Result<String> {
        let mut out = String::new();
        for part in parse_template(template)? {
            match part {
                Part::Lit(l) => out.push_str(&l),
                Part::Var(v) => out.push_str(self.values.get(&v).map(String::as_str).unwrap_or("")),
            }
        }
        Ok(out)
    }

    /// The value of a component's variable, with `overrides` (per-request bindings) first.
    pub fn get(
        &self,
        component: &str,
        name: &str,
        overrides: &[(String, String)],
    ) -> Result<String, VarError> {
        if crate::manifest::check_name(name).is_err() {
            return Err(VarError::InvalidName(name.to_string()));
        }
        let template = self
            .components
            .get(component)
            .and_then(|t| t.get(name))
            .ok_or_else(|| VarError::Undefined(name.to_string()))?;
        let mut out = String::new();
        for part in template {
            match part {
                Part::Lit(l) => out.push_str(l),
                Part::Var(v) => {
                    let value = overrides
                        .iter()
                        .find(|(k, _)| k == v)
                        .map(|(_, val)| val.as_str())
                        .or_else(|| self.values.get(v).map(String::as_str))
                        .ok_or_else(|| VarError::Undefined(name.to_string()))?;
                    out.push_str(value);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn manifest() -> AppManifest {
        AppManifest::parse(
            Path::new("spin.toml"),
            r#"
spin_manifest_version = 2
[application]
name = "v"
[variables]
greeting = { default = "hello" }
api_key = { required = true, secret = true }
tenant_id = { default = "" }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "c.wasm"
variables = { message = "{{ greeting }}, {{ tenant_id }}!", key = "{{api_key}}" }
"#,
        )
        .unwrap()
    }

    #[test]
    fn defaults_env_and_overrides() {
        let m = manifest();
        let vars = AppVariables::load(
            &m,
            |k| (k == "SPIN_VARIABLE_API_KEY").then(|| "s3cret".to_string()),
            &[],
        )
        .unwrap();
        assert_eq!(vars.get("c", "message", &[]).unwrap(), "hello, !");
        assert_eq!(
            vars.get("c", "message", &[("tenant_id".into(), "acme".into())]).unwrap(),
            "hello, acme!"
        );
        assert_eq!(vars.get("c", "key", &[]).unwrap(), "s3cret");
        assert_eq!(vars.get("c", "greeting", &[]), Err(VarError::Undefined("greeting".into())));
        assert_eq!(vars.get("c", "Bad-Name", &[]), Err(VarError::InvalidName("Bad-Name".into())));

        let env_override = AppVariables::load(
            &m,
            |k| match k {
                "SPIN_VARIABLE_API_KEY" => Some("k".into()),
                "SPIN_VARIABLE_GREETING" => Some("hej".into()),
                _ => None,
            },
            &[],
        )
        .unwrap();
        assert_eq!(env_override.get("c", "message", &[]).unwrap(), "hej, !");
    }

    #[test]
    fn missing_required_variable_fails_at_load() {
        let e = AppVariables::load(&manifest(), |_| None, &[]).unwrap_err().to_string();
        assert!(e.contains("api_key") && e.contains("SPIN_VARIABLE_API_KEY"), "{e}");
    }

    #[test]
    fn app_templates_render_from_app_values() {
        let vars = AppVariables::load(&manifest(), |k| (k == "SPIN_VARIABLE_API_KEY").then(|| "k".into()), &[]).unwrap();
        assert_eq!(vars.render_app("https://{{ greeting }}.example").unwrap(), "https://hello.example");
        assert_eq!(vars.render_app("{{ tenant_id }}").unwrap(), "");
    }

    #[test]
    fn template_errors() {
        assert!(template_refs("{{ unclosed").is_err());
        assert_eq!(template_refs("a{{x}}b{{ y }}").unwrap(), vec!["x", "y"]);
    }
}
