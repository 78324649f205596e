//! Finding (or making) a toolchain that builds wasm32-wasip2 components.
//!
//! 1. The active rustc already has the target (rustup with the target added): use it.
//! 2. `rustup target add wasm32-wasip2` works (a machine that can download): use it.
//! 3. Otherwise Debian's Rust (`rustc-web`) builds std from source with
//!    `-Zbuild-std` (the recipe in DESIGN.md); missing packages are installed with
//!    apt-get when we are root, or named so the user can install them.

use crate::{repo_root, run, say, target_dir};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};

const TARGET: &str = "wasm32-wasip2";
const DEBIAN_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-22", "wasi-libc"];

pub enum Toolchain {
    /// The target's std is installed for the default toolchain.
    Rustup,
    /// Debian's rustc-web with std built from source.
    DebianBuildStd,
}

fn rustup_has_target() -> bool {
    let Ok(out) = Command::new("rustc").args(["--print", "target-libdir", "--target", TARGET]).stderr(Stdio::null()).output() else {
        return false;
    };
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    out.status.success()
        && std::fs::read_dir(&dir)
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
            .unwrap_or(false)
}

fn debian_ready() -> bool {
    Path::new("/usr/bin/rustc").exists()
        && Path::new("/usr/bin/cargo").exists()
        && Path::new("/usr/lib/rustlib/src/rust/library/std").exists()
        && Path::new("/usr/lib/wasm32-wasi/libc.a").exists()
}

pub fn setup() -> Result<Toolchain> {
    if rustup_has_target() {
        return Ok(Toolchain::Rustup);
    }
    if debian_ready() {
        return Ok(Toolchain::DebianBuildStd);
    }
    if std::env::var_os("XTASK_NO_RUSTUP").is_none() && Command::new("rustup").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok() {
        say(&format!("trying `rustup target add {TARGET}`"));
        let ok = Command::new("timeout")
            .args(["120", "rustup", "target", "add", TARGET])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok && rustup_has_target() {
            return Ok(Toolchain::Rustup);
        }
        say("rustup cannot download the target here; using Debian's Rust with std built from source");
    }
    let is_root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false);
    if !is_root {
        bail!("the wasm toolchain is missing: run `sudo apt-get install -y {}` and try again", DEBIAN_PACKAGES.join(" "));
    }
    say(&format!("installing {}", DEBIAN_PACKAGES.join(" ")));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(DEBIAN_PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    if !debian_ready() {
        bail!("Debian's Rust was installed but the wasm std sources or wasi-libc are still missing");
    }
    Ok(Toolchain::DebianBuildStd)
}

/// Debian's Chromium and chromedriver for the browser tests; installed when we
/// are root and they are missing, otherwise named.
pub fn ensure_browser() -> Result<()> {
    if Path::new("/usr/bin/chromedriver").exists() && Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false);
    if !is_root {
        bail!("the browser tests need Chromium: run `sudo apt-get install -y chromium chromium-driver`");
    }
    say("installing chromium and chromium-driver for the browser tests");
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends", "chromium", "chromium-driver"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

impl Toolchain {
    /// Builds the components and leaves each at `target/wasm32-wasip2/release/<name>.wasm`
    /// in the repo (where spin.toml points), whatever the cargo target dir is.
    pub fn build_components(&self, names: &[&str]) -> Result<()> {
        self.build_for(TARGET, names)
    }

    /// Builds for `wasm32-wasip1` too: the host must load core modules as Spin
    /// does (the end-to-end tests run the probe built this way).
    pub fn build_wasip1(&self, names: &[&str]) -> Result<()> {
        if let Toolchain::Rustup = self {
            let has = Command::new("rustc")
                .args(["--print", "target-libdir", "--target", "wasm32-wasip1"])
                .output()
                .map(|o| std::path::Path::new(String::from_utf8_lossy(&o.stdout).trim()).join("self-contained").exists())
                .unwrap_or(false);
            if !has {
                run(Command::new("rustup").args(["target", "add", "wasm32-wasip1"]))?;
            }
        }
        self.build_for("wasm32-wasip1", names)
    }

    fn build_for(&self, target: &str, names: &[&str]) -> Result<()> {
        let root = repo_root();
        // Its own target dir: a different rustc must not invalidate the host's build.
        let wasm_target = target_dir().join("wasm");
        let mut cmd = match self {
            Toolchain::Rustup => {
                let mut c = Command::new(crate::cargo());
                c.args(["build", "--target", target, "--release"]);
                c
            }
            Toolchain::DebianBuildStd => {
                let mut c = Command::new("/usr/bin/cargo");
                let path = format!("/usr/bin:{}", std::env::var("PATH").unwrap_or_default());
                c.env("PATH", path)
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("RUSTC", "/usr/bin/rustc")
                    .env("RUSTFLAGS", "-L /usr/lib/wasm32-wasi -C link-self-contained=no")
                    .env_remove("RUSTUP_TOOLCHAIN")
                    .env_remove("CARGO")
                    .env_remove("RUSTDOC")
                    .args(["build", "-Zbuild-std=std,panic_abort", "--target", target, "--release"]);
                c
            }
        };
        cmd.current_dir(&root).env("CARGO_TARGET_DIR", &wasm_target);
        for n in names {
            cmd.args(["-p", n]);
        }
        run(&mut cmd)?;
        let out = root.join("target").join(target).join("release");
        std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
        for n in names {
            let built = wasm_target.join(target).join("release").join(format!("{n}.wasm"));
            let dest = out.join(format!("{n}.wasm"));
            if built != dest {
                std::fs::copy(&built, &dest).with_context(|| format!("cannot copy {}", built.display()))?;
            }
        }
        Ok(())
    }
}
