//! Spin application manifest (`spin.toml`, manifest version 2): parsing and validation.
//!
//! Only what the host acts on is modelled; other keys Spin accepts (`description`,
//! `authors`, `[component.x.build]`, `[component.x.tool]`...) are allowed and ignored.
//! Every error names the file, the field and the problem.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct AppManifest {
    pub path: PathBuf,
    pub name: String,
    pub variables: BTreeMap<String, VariableDef>,
    pub triggers: Vec<HttpTrigger>,
    pub components: BTreeMap<String, ComponentDef>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VariableDef {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// The host logs no variable values at all, so secrets need no special path.
    #[serde(default)]
    #[allow(dead_code)]
    pub secret: bool,
    /// Documentation only.
    #[serde(rename = "description")]
    pub _description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteDef {
    Path(String),
    Private,
}

#[derive(Debug, Clone)]
pub struct HttpTrigger {
    pub route: RouteDef,
    pub component: String,
}

#[derive(Debug, Clone)]
pub struct ComponentDef {
    pub id: String,
    /// Absolute path of the `.wasm` file.
    pub source: PathBuf,
    pub files: Vec<FileMount>,
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variable name -> template (`"{{ app_var }}"` etc.).
    pub variables: BTreeMap<String, String>,
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMount {
    /// A glob relative to the app directory, mounted at the same relative path.
    Pattern(String),
    /// A directory (or file) mounted at `destination`.
    Placement { source: PathBuf, destination: String },
}

// ---- raw serde shapes -------------------------------------------------------

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, VariableDef>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Deserialize)]
struct RawApplication {
    name: String,
    #[allow(dead_code)]
    version: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    trigger: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: RawRoute,
    component: Option<toml::Value>,
    #[allow(dead_code)]
    id: Option<String>,
    #[allow(dead_code)]
    executor: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

#[derive(Deserialize)]
struct RawComponent {
    source: RawSource,
    #[serde(default)]
    files: Vec<RawFile>,
    #[serde(default)]
    exclude_files: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSource {
    Path(String),
    Remote { url: String },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFile {
    Pattern(String),
    Placement { source: String, destination: String },
}

// ---- loading ------------------------------------------------------------------

impl AppManifest {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read manifest", path.display()))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let file = path.display();
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: invalid manifest: {e}"))?;
        match &raw.spin_manifest_version {
            toml::Value::Integer(2) => {}
            toml::Value::String(s) if s == "2" => {}
            other => bail!(
                "{file}: field `spin_manifest_version`: expected 2, found {other} (only manifest v2 is supported)"
            ),
        }
        if raw.application.name.trim().is_empty() {
            bail!("{file}: field `application.name`: must not be empty");
        }
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };

        for (name, def) in &raw.variables {
            check_name(name).with_context(|| format!("{file}: variable `{name}`"))?;
            if def.required && def.default.is_some() {
                bail!("{file}: variable `{name}`: cannot be both `required` and have a `default`");
            }
            if !def.required && def.default.is_none() {
                bail!("{file}: variable `{name}`: needs a `default` or `required = true`");
            }
        }

        let mut components = BTreeMap::new();
        for (id, rc) in raw.component {
            check_component_id(&id).with_context(|| format!("{file}: component `{id}`"))?;
            let field = |f: &str| format!("{file}: field `component.{id}.{f}`");
            let source = match rc.source {
                RawSource::Path(p) => base.join(p),
                RawSource::Remote { url } => bail!(
                    "{}: only a local path is supported; fetch `{url}` first",
                    field("source")
                ),
            };
            let mut files = Vec::new();
            for f in rc.files {
                files.push(match f {
                    RawFile::Pattern(p) => FileMount::Pattern(p),
                    RawFile::Placement { source, destination } => {
                        if !destination.starts_with('/') {
                            bail!("{}: destination `{destination}` must be absolute", field("files"));
                        }
                        FileMount::Placement { source: base.join(source), destination }
                    }
                });
            }
            if !rc.exclude_files.is_empty() {
                // Accepted for compatibility; placements are mounted whole.
            }
            for label in rc.key_value_stores.iter().chain(&rc.sqlite_databases) {
                check_label(label).with_context(|| field("key_value_stores/sqlite_databases"))?;
            }
            for host in &rc.allowed_outbound_hosts {
                if host.contains("{{") {
                    // Resolved from app variables at load (as Spin does); checked then.
                    for referenced in crate::variables::template_refs(host).with_context(|| field("allowed_outbound_hosts"))? {
                        if !raw.variables.contains_key(&referenced) {
                            bail!("{}: `{host}` refers to `{referenced}`, which is not declared in [variables]", field("allowed_outbound_hosts"));
                        }
                    }
                    continue;
                }
                crate::outbound::AllowedHost::parse(host)
                    .with_context(|| field("allowed_outbound_hosts"))?;
            }
            for (name, template) in &rc.variables {
                check_name(name).with_context(|| field("variables"))?;
                for referenced in crate::variables::template_refs(template)
                    .with_context(|| format!("{} `{name}`", field("variables")))?
                {
                    if !raw.variables.contains_key(&referenced) {
                        bail!(
                            "{} `{name}`: refers to `{referenced}`, which is not declared in [variables]",
                            field("variables")
                        );
                    }
                }
            }
            components.insert(
                id.clone(),
                ComponentDef {
                    id,
                    source,
                    files,
                    key_value_stores: rc.key_value_stores,
                    sqlite_databases: rc.sqlite_databases,
                    allowed_outbound_hosts: rc.allowed_outbound_hosts,
                    variables: rc.variables,
                    environment: rc.environment,
                },
            );
        }

        let mut triggers = Vec::new();
        let mut seen_routes = BTreeMap::new();
        for (i, t) in raw.trigger.http.into_iter().enumerate() {
            let where_ = format!("{file}: field `trigger.http[{i}]`");
            let component = match t.component {
                Some(toml::Value::String(c)) => c,
                Some(_) => bail!("{where_}.component: inline components are not supported; name a [component.<id>]"),
                None => bail!("{where_}.component: missing"),
            };
            if !components.contains_key(&component) {
                bail!("{where_}.component: no component named `{component}` in this manifest");
            }
            let route = match t.route {
                RawRoute::Path(p) => {
                    crate::routing::Route::parse(&p).with_context(|| format!("{where_}.route"))?;
                    if let Some(prev) = seen_routes.insert(p.clone(), component.clone()) {
                        bail!("{where_}.route: `{p}` is already routed to component `{prev}`");
                    }
                    RouteDef::Path(p)
                }
                RawRoute::Private { private: true } => RouteDef::Private,
                RawRoute::Private { private: false } => {
                    bail!("{where_}.route: `private = false` is not a route; give a path")
                }
            };
            triggers.push(HttpTrigger { route, component });
        }
        if triggers.is_empty() {
            bail!("{file}: no [[trigger.http]] entries: nothing to serve");
        }

        Ok(AppManifest {
            path: path.to_path_buf(),
            name: raw.application.name,
            variables: raw.variables,
            triggers,
            components,
        })
    }

    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// Spin variable names: lowercase letters, digits and underscores, starting with a letter.
pub fn check_name(name: &str) -> Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!("invalid name `{name}`: use lowercase letters, digits and `_`, starting with a letter");
    }
    Ok(())
}

fn check_component_id(id: &str) -> Result<()> {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.ends_with('-');
    if !ok {
        bail!("invalid component id: use lowercase kebab-case (letters, digits, `-`)");
    }
    Ok(())
}

fn check_label(label: &str) -> Result<()> {
    let ok = !label.is_empty()
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        bail!("invalid store label `{label}`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AppManifest> {
        AppManifest::parse(Path::new("/app/spin.toml"), text)
    }

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "router"
[[trigger.http]]
route = { private = true }
component = "inner"
[component.router]
source = "target/router.wasm"
allowed_outbound_hosts = ["http://*.spin.internal"]
variables = { message = "{{ greeting }}, friend", key = "{{token}}" }
files = [{ source = "static", destination = "/" }, "assets/**/*"]
[component.router.build]
command = "cargo build"
[component.inner]
source = "inner.wasm"
key_value_stores = ["default"]
sqlite_databases = ["default"]
"#;

    #[test]
    fn parses_a_full_manifest() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.name, "demo");
        assert_eq!(m.triggers.len(), 2);
        assert_eq!(m.triggers[1].route, RouteDef::Private);
        let router = &m.components["router"];
        assert_eq!(router.source, PathBuf::from("/app/target/router.wasm"));
        assert_eq!(router.files.len(), 2);
        assert_eq!(router.variables["message"], "{{ greeting }}, friend");
        assert_eq!(m.components["inner"].key_value_stores, vec!["default"]);
    }

    #[test]
    fn errors_name_file_and_field() {
        let bad = GOOD.replace(r#"component = "inner""#, r#"component = "nope""#);
        let e = format!("{:#}", parse(&bad).unwrap_err());
        assert!(e.contains("/app/spin.toml") && e.contains("trigger.http[1]") && e.contains("nope"), "{e}");

        let bad = GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        let e = format!("{:#}", parse(&bad).unwrap_err());
        assert!(e.contains("spin_manifest_version"), "{e}");

        let bad = GOOD.replace(r#"source = "inner.wasm""#, "");
        let e = format!("{:#}", parse(&bad).unwrap_err());
        assert!(e.contains("source"), "{e}");

        let bad = GOOD.replace("{{ greeting }}", "{{ missing }}");
        let e = format!("{:#}", parse(&bad).unwrap_err());
        assert!(e.contains("component.router.variables") && e.contains("missing"), "{e}");

        let bad = GOOD.replace(r#""http://*.spin.internal""#, r#""https://{{ nope }}""#);
        let e = format!("{:#}", parse(&bad).unwrap_err());
        assert!(e.contains("allowed_outbound_hosts") && e.contains("nope"), "{e}");
        assert!(parse(&GOOD.replace(r#""http://*.spin.internal""#, r#""https://{{ greeting }}""#)).is_ok());

        let bad = GOOD.replace(r#""http://*.spin.internal""#, r#""*.spin.internal""#);
        let e = format!("{:#}", parse(&bad).unwrap_err());
        assert!(e.contains("allowed_outbound_hosts"), "{e}");
    }

    #[test]
    fn duplicate_routes_are_rejected() {
        let bad = GOOD.replace("route = { private = true }", r#"route = "/...""#);
        let e = format!("{:#}", parse(&bad).unwrap_err());
        assert!(e.contains("already routed"), "{e}");
    }
}
