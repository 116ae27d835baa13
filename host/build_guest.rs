// Builds wasm guests (the consent plugin, the test fixtures) from a build
// script, so that `cargo test --workspace` and `cargo run -p crm-consent`
// work on a fresh machine with nothing but rustup.
//
// Shared by host/build.rs and tests/build.rs through
// `include!("build_guest.rs")` / `include!("../host/build_guest.rs")`; it is
// plain functions with full paths so that it can be included anywhere.

/// A guest crate of this workspace.
struct Guest {
    /// Cargo package name, e.g. `crm-consent-plugin`.
    package: &'static str,
    /// Its directory relative to the workspace root, e.g. `plugin`.
    dir: &'static str,
}

const GUEST_TARGET: &str = "wasm32-wasip2";
const GUEST_PROFILE: &str = "plugin";

/// Environment that cargo (or the person running it) sets for the outer
/// build and that must not reach the nested guest build: flags meant for the
/// host target, clippy's driver, the outer package's metadata, and the outer
/// target dir.
const LEAKY_VARS: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_RUSTDOCFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_BUILD_DIR",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_TARGET_TMPDIR",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "NUM_JOBS",
    "OPT_LEVEL",
    "DEBUG",
    "PROFILE",
    "RUSTC_LINKER",
    "__CARGO_FIX_PLZ",
];

/// Prefixes of the same kind: per-package metadata, cfgs and features of the
/// outer build, `links` metadata of its dependencies, and profile overrides
/// (the guest's own profile lives in the workspace Cargo.toml).
const LEAKY_PREFIXES: &[&str] = &[
    "CARGO_PKG_",
    "CARGO_CFG_",
    "CARGO_FEATURE_",
    "CARGO_PROFILE_",
    "DEP_",
];

/// Builds `guests` with one nested `cargo build` for wasm32-wasip2 and
/// returns the absolute path of each component, in the same order. Emits
/// the `rerun-if-changed` lines for the guests' sources and the contract.
fn build_guests(guests: &[Guest]) -> Vec<std::path::PathBuf> {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    let env = |name: &str| std::env::var_os(name);
    let manifest_dir =
        PathBuf::from(env("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.contains("[workspace]"))
        })
        .unwrap_or_else(|| panic!("no workspace Cargo.toml above {}", manifest_dir.display()))
        .to_path_buf();
    let out_dir = PathBuf::from(env("OUT_DIR").expect("cargo sets OUT_DIR"));

    // What the guests are made of. Directories are scanned recursively by cargo.
    let this_file = workspace.join("host/build_guest.rs");
    let mut watched: Vec<PathBuf> = vec![
        this_file,
        workspace.join("wit"),
        workspace.join("Cargo.toml"),
        workspace.join("Cargo.lock"),
    ];
    for g in guests {
        let dir = workspace.join(g.dir);
        watched.extend(["src", "Cargo.toml", "build.rs", "wit_compat.rs"].map(|f| dir.join(f)));
    }
    for path in &watched {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }

    ensure_guest_target(&workspace);

    // A target dir of our own: the outer cargo holds the lock on its own.
    // Kept inside the outer one (the nearest ancestor of OUT_DIR with cargo's
    // CACHEDIR.TAG) so that `cargo clean` removes it too.
    let guest_target_dir = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|dir| dir.join("guest"))
        .unwrap_or_else(|| out_dir.join("guest"));

    let cargo = env("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&workspace)
        .arg("build")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"));
    for g in guests {
        cmd.args(["-p", g.package]);
    }
    cmd.args(["--target", GUEST_TARGET, "--profile", GUEST_PROFILE])
        .arg("--target-dir")
        .arg(&guest_target_dir);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if LEAKY_VARS.contains(&name) || LEAKY_PREFIXES.iter().any(|p| name.starts_with(p)) {
            cmd.env_remove(name);
        }
    }

    let shown = format!(
        "cargo build {} --target {GUEST_TARGET} --profile {GUEST_PROFILE} --target-dir {}",
        guests
            .iter()
            .map(|g| format!("-p {}", g.package))
            .collect::<Vec<_>>()
            .join(" "),
        guest_target_dir.display()
    );
    let output = cmd.output().unwrap_or_else(|e| {
        panic!(
            "could not run `{}` for the wasm guests: {e}",
            Path::new(&cargo).display()
        )
    });
    if !output.status.success() {
        // Build-script stderr is shown by cargo when the build script fails.
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!(
            "building the wasm guests failed ({}); cargo's output is above.\n\
             Reproduce from {} with:\n    {shown}",
            output.status,
            workspace.display()
        );
    }

    guests
        .iter()
        .map(|g| {
            let wasm = guest_target_dir
                .join(GUEST_TARGET)
                .join(GUEST_PROFILE)
                .join(format!("{}.wasm", g.package.replace('-', "_")));
            assert!(
                wasm.is_file(),
                "`{shown}` succeeded but did not produce {}",
                wasm.display()
            );
            wasm
        })
        .collect()
}

/// Makes sure the active toolchain can build for wasm32-wasip2, installing
/// the target with rustup when it is missing.
fn ensure_guest_target(workspace: &std::path::Path) {
    use std::process::Command;

    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let installed = || -> Option<bool> {
        let out = Command::new(&rustc)
            .args(["--print", "sysroot"])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let sysroot = String::from_utf8(out.stdout).ok()?;
        Some(
            std::path::Path::new(sysroot.trim())
                .join("lib/rustlib")
                .join(GUEST_TARGET)
                .is_dir(),
        )
    };
    match installed() {
        Some(true) => return,
        Some(false) => {}
        None => panic!(
            "could not ask `{} --print sysroot` where the toolchain lives",
            rustc.to_string_lossy()
        ),
    }

    let mut cmd = Command::new("rustup");
    cmd.current_dir(workspace)
        .args(["target", "add", GUEST_TARGET]);
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        cmd.arg("--toolchain").arg(toolchain);
    }
    let result = cmd.output();
    // Another build script may have installed it meanwhile; only the end state counts.
    if installed() == Some(true) {
        return;
    }
    let detail = match result {
        Ok(out) => format!("{}\n{}", out.status, String::from_utf8_lossy(&out.stderr)),
        Err(e) => format!("rustup could not be run: {e}"),
    };
    panic!(
        "the Rust target {GUEST_TARGET} is needed to build the consent plugin, is not installed \
         for {}, and `rustup target add {GUEST_TARGET}` failed: {detail}\n\
         Install it by hand with `rustup target add {GUEST_TARGET}`.",
        rustc.to_string_lossy()
    );
}
