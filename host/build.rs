//! Builds the consent plugin component (crate `plugin`, for wasm32-wasip2)
//! and tells the host where it is: `env!("CRM_CONSENT_PLUGIN_WASM")` is the
//! absolute path of `crm_consent_plugin.wasm`.
include!("build_guest.rs");

fn main() {
    let built = build_guests(&[Guest {
        package: "crm-consent-plugin",
        dir: "plugin",
    }]);
    println!(
        "cargo:rustc-env=CRM_CONSENT_PLUGIN_WASM={}",
        built[0].display()
    );
}
