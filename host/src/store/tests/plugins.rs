use super::*;

const V1: &[u8] = b"\0asm plugin v1";
const V2: &[u8] = b"\0asm plugin v2";

#[test]
fn installing_a_plugin_makes_it_the_only_active_one() {
    let mut f = fixture();
    assert!(f.store.active_plugin().unwrap().is_none());
    let v1 = f
        .store
        .install_plugin(V1, "crm:consent@0.2.0", "admin")
        .unwrap();
    assert_eq!(v1.sha256, chain::sha256_hex(V1));
    assert_eq!(
        (v1.size, v1.active, v1.installed_at),
        (V1.len() as u64, true, now())
    );
    let v2 = f
        .store
        .install_plugin(V2, "crm:consent@0.2.0", "admin")
        .unwrap();
    let active = f.store.active_plugin().unwrap().unwrap();
    assert_eq!((active.info.id, active.bytes.as_slice()), (v2.id, V2));
    let flags: Vec<_> = f
        .store
        .plugins()
        .unwrap()
        .iter()
        .map(|p| p.active)
        .collect();
    assert_eq!(flags, [false, true]);
}

#[test]
fn activating_an_older_plugin_rolls_back() {
    let mut f = fixture();
    let v1 = f
        .store
        .install_plugin(V1, "crm:consent@0.2.0", "admin")
        .unwrap();
    f.store
        .install_plugin(V2, "crm:consent@0.2.0", "admin")
        .unwrap();
    f.store.activate_plugin(v1.id, "admin").unwrap();
    assert_eq!(f.store.active_plugin().unwrap().unwrap().bytes, V1);
    assert_eq!(
        f.store
            .plugins()
            .unwrap()
            .iter()
            .filter(|p| p.active)
            .count(),
        1
    );
}

#[test]
fn installing_the_same_bytes_again_reactivates_the_stored_plugin() {
    let mut f = fixture();
    let v1 = f
        .store
        .install_plugin(V1, "crm:consent@0.2.0", "admin")
        .unwrap();
    f.store
        .install_plugin(V2, "crm:consent@0.2.0", "admin")
        .unwrap();
    let again = f
        .store
        .install_plugin(V1, "crm:consent@0.2.0", "bob")
        .unwrap();
    assert_eq!(
        (again.id, again.installed_by.as_str(), again.active),
        (v1.id, "admin", true)
    );
    assert_eq!(f.store.plugins().unwrap().len(), 2);
    let by_hash = f
        .store
        .plugin_by_sha256(&v1.sha256.to_uppercase())
        .unwrap()
        .unwrap();
    assert_eq!(by_hash.bytes, V1);
}

#[test]
fn activating_an_unknown_plugin_is_refused() {
    let mut f = fixture();
    let err = f.store.activate_plugin(PluginId(5), "admin").unwrap_err();
    assert_eq!(err.to_string(), "unknown plugin id `5`");
}

#[test]
fn plugin_bytes_cannot_be_swapped_in_plain_sql() {
    let mut f = fixture();
    f.store
        .install_plugin(V1, "crm:consent@0.2.0", "admin")
        .unwrap();
    let err = f
        .store
        .raw()
        .execute("UPDATE plugins SET bytes = x'00'", [])
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    let err = f
        .store
        .install_plugin(b"", "crm:consent@0.2.0", "admin")
        .unwrap_err();
    assert_eq!(err.to_string(), "plugin bytes must not be empty");
}
