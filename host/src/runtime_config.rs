//! Runtime configuration (`--runtime-config-file`): where each store label lives.
//! Only Spin's file-backed `type = "spin"` is implemented; the `path` is relative
//! to the config file. Labels with no entry get Spin's defaults for `default`.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    pub key_value: BTreeMap<String, PathBuf>,
    pub sqlite: BTreeMap<String, PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    r#type: String,
    path: Option<String>,
}

#[derive(Deserialize, Default)]
struct Raw {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, RawStore>,
}

impl RuntimeConfig {
    /// Loads the config; `state_dir` is where Spin keeps its defaults (`.spin/`).
    pub fn load(file: Option<&Path>, state_dir: &Path) -> Result<RuntimeConfig> {
        let (raw, base) = match file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("{}: cannot read runtime config", f.display()))?;
                let raw: Raw = toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: invalid runtime config: {e}", f.display()))?;
                (raw, f.parent().unwrap_or(Path::new(".")).to_path_buf())
            }
            None => (Raw::default(), PathBuf::from(".")),
        };
        let mut cfg = RuntimeConfig::default();
        for (kind, table, out) in [
            ("key_value_store", raw.key_value_store, &mut cfg.key_value),
            ("sqlite_database", raw.sqlite_database, &mut cfg.sqlite),
        ] {
            for (label, store) in table {
                if store.r#type != "spin" {
                    bail!("[{kind}.{label}]: type `{}` is not supported by this host (use \"spin\")", store.r#type);
                }
                let path = match store.path {
                    Some(p) => base.join(p),
                    None => bail!("[{kind}.{label}]: `path` is required"),
                };
                out.insert(label, path);
            }
        }
        // Spin's defaults for the `default` label.
        cfg.key_value
            .entry("default".into())
            .or_insert_with(|| state_dir.join("sqlite_key_value.db"));
        cfg.sqlite
            .entry("default".into())
            .or_insert_with(|| state_dir.join("sqlite_db.db"));
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_file() {
        let dir = std::env::temp_dir().join(format!("rc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("rc.toml");
        std::fs::write(
            &f,
            "[key_value_store.cache]\ntype = \"spin\"\npath = \"data/cache.db\"\n[sqlite_database.default]\ntype = \"spin\"\npath = \"db.sqlite\"\n",
        )
        .unwrap();
        let cfg = RuntimeConfig::load(Some(&f), Path::new("/state")).unwrap();
        assert_eq!(cfg.key_value["cache"], dir.join("data/cache.db"));
        assert_eq!(cfg.key_value["default"], Path::new("/state/sqlite_key_value.db"));
        assert_eq!(cfg.sqlite["default"], dir.join("db.sqlite"));

        std::fs::write(&f, "[key_value_store.x]\ntype = \"redis\"\nurl = \"redis://\"\n").unwrap();
        assert!(RuntimeConfig::load(Some(&f), Path::new("/s")).is_err());
    }
}
