//! Builds the wasm guests the end-to-end tests load: the real plugin and the
//! hostile fixture (tests/fixtures/hostile-plugin) and the cold-call rule pack
//! (tests/fixtures/cold-call-pack), in one nested cargo run, then the
//! reference rules built for the 0.1 contract (tests/fixtures/plugin-v0_1)
//! in another: it uses the plugin crate without its `component` feature,
//! which one run would unify back on. `env!("CRM_CONSENT_PLUGIN_WASM")`,
//! `env!("CRM_CONSENT_HOSTILE_WASM")`, `env!("CRM_CONSENT_COLD_CALL_WASM")`
//! and `env!("CRM_CONSENT_PLUGIN_V0_1_WASM")` are their absolute paths.
include!("../host/build_guest.rs");

fn main() {
    let built = build_guests(&[
        Guest {
            package: "crm-consent-plugin",
            dir: "plugin",
        },
        Guest {
            package: "hostile-plugin",
            dir: "tests/fixtures/hostile-plugin",
        },
        Guest {
            package: "cold-call-pack",
            dir: "tests/fixtures/cold-call-pack",
        },
    ]);
    println!(
        "cargo:rustc-env=CRM_CONSENT_PLUGIN_WASM={}",
        built[0].display()
    );
    println!(
        "cargo:rustc-env=CRM_CONSENT_HOSTILE_WASM={}",
        built[1].display()
    );
    println!(
        "cargo:rustc-env=CRM_CONSENT_COLD_CALL_WASM={}",
        built[2].display()
    );
    let v0_1 = build_guests(&[Guest {
        package: "plugin-v0_1",
        dir: "tests/fixtures/plugin-v0_1",
    }]);
    println!(
        "cargo:rustc-env=CRM_CONSENT_PLUGIN_V0_1_WASM={}",
        v0_1[0].display()
    );
}
