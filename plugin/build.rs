//! Stages the WIT contract for `wit_bindgen::generate!` (see wit_compat.rs).
include!("wit_compat.rs");

fn main() {
    let manifest = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    println!("cargo:rerun-if-changed=wit_compat.rs");
    stage_wit(&manifest.join("../wit"));
}
