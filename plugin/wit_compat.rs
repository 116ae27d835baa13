// Shared by plugin/build.rs and tests/fixtures/hostile-plugin/build.rs via
// `include!`: stages a copy of the contract in OUT_DIR/wit for wit-bindgen.
//
// Why a copy: wit/consent.wit names two record fields `flags`
// (`contact-state.flags`, `contact-row.flags`), and `flags` is a WIT keyword,
// so every WIT parser (wit-bindgen 0.63, wasm-tools 1.262, wasmtime's
// bindgen!) refuses the file: "expected an identifier or string, found
// keyword `flags`". The WIT way to write it is `%flags`, which is the same
// identifier, so the escaped copy describes exactly the same component types.
// The fix belongs in wit/consent.wit (not ours to edit); once it has it, this
// copy is byte-identical to the original and the helper can be deleted (point
// `generate!` back at "../wit").

/// WIT keywords that may appear as a record field name at the start of a line.
const WIT_KEYWORDS: &[&str] = &[
    "flags",
    "enum",
    "variant",
    "record",
    "resource",
    "type",
    "use",
    "func",
    "list",
    "option",
    "result",
    "tuple",
    "string",
    "char",
    "bool",
    "static",
    "constructor",
    "own",
    "borrow",
    "future",
    "stream",
    "interface",
    "world",
    "package",
    "import",
    "export",
    "include",
    "with",
    "async",
];

/// Copies every `.wit` file under `wit_dir` to `$OUT_DIR/wit`, escaping
/// keywords used as field names, and asks cargo to rerun when the WIT changes.
fn stage_wit(wit_dir: &std::path::Path) {
    let out_dir =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let staged = out_dir.join("wit");
    println!("cargo:rerun-if-changed={}", wit_dir.display());
    let _ = std::fs::remove_dir_all(&staged);
    copy_wit(wit_dir, &staged);
}

fn copy_wit(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        let target = to.join(path.file_name().expect("a named entry"));
        if path.is_dir() {
            copy_wit(&path, &target);
        } else if path.extension().is_some_and(|e| e == "wit") {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            std::fs::write(&target, escape_keyword_fields(&text))
                .unwrap_or_else(|e| panic!("writing {}: {e}", target.display()));
        }
    }
}

/// `    flags: contact-flags,` becomes `    %flags: contact-flags,`.
fn escape_keyword_fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let is_keyword_field = WIT_KEYWORDS.iter().any(|kw| {
            body.strip_prefix(kw)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        });
        out.push_str(indent);
        if is_keyword_field {
            out.push('%');
        }
        out.push_str(body);
    }
    out
}
