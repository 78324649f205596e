//! As Spin does, the host loads a `wasm32-wasip1` core module and adapts it to a
//! component on load. `cargo xtask test` builds the probe that way too.

use e2e::{json, repo_root, scratch, HostConfig, TestHost};

#[test]
fn a_wasip1_core_module_serves_with_every_capability() {
    let wasm = repo_root().join("target/wasm32-wasip1/release/probe.wasm");
    let bytes = std::fs::read(&wasm).expect("probe built for wasm32-wasip1 (cargo xtask test builds it)");
    assert_eq!(&bytes[4..8], &[1, 0, 0, 0], "a core module, not a component");
    let dir = scratch("wasip1");
    let manifest = dir.join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"p1\"\n[variables]\ngreeting = {{ default = \"hi\" }}\n\
             [[trigger.http]]\nroute = \"/p/...\"\ncomponent = \"old\"\n[component.old]\nsource = \"{}\"\n\
             key_value_stores = [\"default\"]\nsqlite_databases = [\"default\"]\nenvironment = {{ PROBE_NAME = \"wasip1\" }}\n\
             variables = {{ message = \"{{{{ greeting }}}}\" }}\n",
            wasm.display()
        ),
    )
    .unwrap();
    let h = TestHost::start(HostConfig { manifest, ..HostConfig::probe(&dir) });
    let v = json(&h.get("localhost", "/p/info"));
    assert_eq!(v["component"], "wasip1");
    assert_eq!(v["headers"]["spin-path-info"], "/info");
    assert_eq!(json(&h.get("localhost", "/p/kv?label=default&key=a&set=b"))["value"], "b");
    assert_eq!(json(&h.get("localhost", "/p/sql?db=default&insert=x"))["count"], 1);
    assert_eq!(json(&h.get("localhost", "/p/var?name=message"))["value"], "hi");
    assert_eq!(h.get("localhost", "/p/trap").status, 500);
    assert_eq!(h.get("localhost", "/p/info").status, 200);
}
