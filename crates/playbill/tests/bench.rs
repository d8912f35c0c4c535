//! `playbill bench` runs to its end and reports its three sections with figures. Speed is
//! never asserted here: the report's PASS/MISS verdicts are for people, not for tests.

use std::process::Command;

/// The figure on the report line that starts with `label`: the first word after the label
/// column (which ends at the first double space; targets in it are not figures).
fn figure(out: &str, label: &str) -> f64 {
    let line = out
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no line {label:?} in:\n{out}"));
    let rest = &line[label.len()..];
    let value = rest.find("  ").map_or("", |i| &rest[i..]);
    value
        .split_whitespace()
        .next()
        .and_then(|w| w.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no figure on {line:?}"))
}

#[test]
fn bench_reports_three_sections_with_numbers() {
    let out = Command::new(env!("CARGO_BIN_EXE_playbill"))
        .args([
            "bench",
            "--seconds",
            "1",
            "--no-postgres",
            "--connections",
            "4",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("playbill runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );

    assert!(stdout.contains("dev-profile build"), "{stdout}");
    assert!(stdout.contains("== SQLite"), "{stdout}");
    assert!(stdout.contains("PostgreSQL: skipped"), "{stdout}");
    for section in [
        "(a) RTDN push throughput",
        "(b) Entitlement reads",
        "(c) Play API reads per notification",
    ] {
        assert!(stdout.contains(section), "no {section:?} in:\n{stdout}");
    }

    // (a): notifications went through, and the database takes writes.
    assert!(
        figure(&stdout, "notifications processed/s") > 0.0,
        "{stdout}"
    );
    assert!(figure(&stdout, "raw durable single-row upserts/s") > 0.0);
    assert!(figure(&stdout, "ratio push / raw").is_finite());
    // (b): both routes answered.
    let entitlements = figure(&stdout, "GET /v1/apps/{pkg}/users/{user}/entitlements");
    let healthz = figure(&stdout, "GET /healthz");
    assert!(entitlements > 0.0 && healthz > 0.0, "{stdout}");
    assert!(figure(&stdout, "entitlements p99").is_finite());
    // (c): notifications were published and counted, duplicates too.
    assert!(figure(&stdout, "distinct notifications published in (a)") > 0.0);
    assert!(figure(&stdout, "reads per distinct notification").is_finite());
    assert!(figure(&stdout, "duplicate phase") > 0.0, "{stdout}");
    assert!(figure(&stdout, "reads per duplicate delivery").is_finite());
    assert!(stdout.contains("== Summary =="), "{stdout}");
}
