//! The dependency direction is one way: playbill → server → {core, store, google};
//! store and google → core; sandbox → google (wire types only); core depends on nothing of
//! ours and does no I/O. Checked on the declared (normal) dependencies of every crate.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

fn dependencies() -> BTreeMap<String, Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut map = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        map.insert(p["name"].as_str().unwrap().to_owned(), deps);
    }
    map
}

#[test]
fn dependencies_point_one_way() {
    let deps = dependencies();
    let ours = |name: &str| -> Vec<String> {
        let mut v: Vec<String> = deps[name]
            .iter()
            .filter(|d| d.starts_with("playbill"))
            .cloned()
            .collect();
        v.sort();
        v
    };
    assert_eq!(ours("playbill-core"), Vec::<String>::new());
    assert_eq!(ours("playbill-google"), ["playbill-core"]);
    assert_eq!(ours("playbill-store"), ["playbill-core"]);
    assert_eq!(
        ours("playbill-sandbox"),
        ["playbill-google"],
        "the sandbox shares no state with the server"
    );
    assert_eq!(
        ours("playbill-server"),
        ["playbill-core", "playbill-google", "playbill-store"]
    );
    assert_eq!(
        ours("playbill"),
        ["playbill-sandbox", "playbill-server", "playbill-store"]
    );
}

#[test]
fn core_does_no_io() {
    let deps = dependencies();
    for io in [
        "tokio",
        "axum",
        "sqlx",
        "reqwest",
        "hyper",
        "tower",
        "tower-http",
    ] {
        assert!(
            !deps["playbill-core"].iter().any(|d| d == io),
            "core depends on {io}"
        );
    }
    for web in ["axum", "tower-http"] {
        assert!(
            !deps["playbill-store"].iter().any(|d| d == web),
            "store knows HTTP ({web})"
        );
        assert!(
            !deps["playbill-google"].iter().any(|d| d == web),
            "google serves HTTP ({web})"
        );
    }
}
