use super::*;

const GDPR: &[u8] = b"\0asm gdpr rules";
const EPRIVACY: &[u8] = b"\0asm eprivacy pack";
const NATIONAL: &[u8] = b"\0asm national pack";
const API: &str = "crm:consent@0.2.0";

fn shas(chain: &[PluginInfo]) -> Vec<(String, Option<u32>)> {
    chain
        .iter()
        .map(|p| (p.sha256.clone(), p.chain_position))
        .collect()
}

#[test]
fn packs_decide_after_the_active_plugin_in_the_admins_order() {
    let mut f = fixture();
    assert!(f.store.chain().unwrap().is_empty());
    let gdpr = f.store.install_plugin(GDPR, API, "admin").unwrap();
    let eprivacy = f.store.install_pack(EPRIVACY, API, "admin").unwrap();
    let national = f.store.install_pack(NATIONAL, API, "admin").unwrap();
    assert_eq!((eprivacy.active, eprivacy.chain_position), (false, Some(1)));
    let order = |chain: Vec<PluginInfo>| chain.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        order(f.store.chain().unwrap()),
        [gdpr.id, eprivacy.id, national.id]
    );
    assert_eq!(f.store.chain().unwrap()[0].chain_position, Some(0));

    let swapped = f
        .store
        .set_chain(&[national.id, eprivacy.id], "admin")
        .unwrap();
    assert_eq!(order(swapped), [gdpr.id, national.id, eprivacy.id]);
    let only = f.store.set_chain(&[eprivacy.id], "admin").unwrap();
    assert_eq!(order(only), [gdpr.id, eprivacy.id]);
    let listed = f.store.plugins().unwrap();
    assert_eq!(listed[2].chain_position, None, "national left the chain");
    // Installing a pack that is installed already keeps its place.
    f.store.install_pack(EPRIVACY, API, "admin").unwrap();
    assert_eq!(order(f.store.chain().unwrap()), [gdpr.id, eprivacy.id]);
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn the_chain_is_in_the_ledger_and_a_forged_position_fails_verify() {
    let mut f = fixture();
    f.store.install_plugin(GDPR, API, "admin").unwrap();
    let pack = f.store.install_pack(EPRIVACY, API, "admin").unwrap();
    let national = f.store.install_pack(NATIONAL, API, "admin").unwrap();
    let before = f.store.ledger_head().unwrap().seq;
    f.store.set_chain(&[pack.id], "admin").unwrap();
    assert!(
        f.store.ledger_head().unwrap().seq > before,
        "a chain change is a ledger entry"
    );
    assert!(f.store.verify_ledger().unwrap().ok);
    // Someone adds the national pack behind the ledger's back.
    f.store
        .raw()
        .execute(
            "UPDATE plugins SET chain_position = 2 WHERE id = ?1",
            [national.id],
        )
        .unwrap();
    let report = f.store.verify_ledger().unwrap();
    assert!(!report.ok, "{report:?}");
}

#[test]
fn a_bad_chain_is_refused_and_changes_nothing() {
    let mut f = fixture();
    let gdpr = f.store.install_plugin(GDPR, API, "admin").unwrap();
    let pack = f.store.install_pack(EPRIVACY, API, "admin").unwrap();
    let before = shas(&f.store.chain().unwrap());
    let active = f.store.set_chain(&[gdpr.id], "admin").unwrap_err();
    assert!(
        active.to_string().contains("is the active plugin"),
        "{active}"
    );
    let twice = f.store.set_chain(&[pack.id, pack.id], "admin").unwrap_err();
    assert!(twice.to_string().contains("named twice"), "{twice}");
    let unknown = f.store.set_chain(&[PluginId(99)], "admin").unwrap_err();
    assert_eq!(unknown.code(), "unknown_plugin");
    assert_eq!(shas(&f.store.chain().unwrap()), before);
}

#[test]
fn a_pack_made_active_leaves_its_place_in_the_chain() {
    let mut f = fixture();
    f.store.install_plugin(GDPR, API, "admin").unwrap();
    let eprivacy = f.store.install_pack(EPRIVACY, API, "admin").unwrap();
    let national = f.store.install_pack(NATIONAL, API, "admin").unwrap();
    f.store.activate_plugin(eprivacy.id, "admin").unwrap();
    let chain = f.store.chain().unwrap();
    assert_eq!(
        chain
            .iter()
            .map(|p| (p.id, p.chain_position))
            .collect::<Vec<_>>(),
        [(eprivacy.id, Some(0)), (national.id, Some(2))]
    );
    assert!(f.store.verify_ledger().unwrap().ok);
    // Clearing the chain leaves the active plugin alone.
    let cleared = f.store.set_chain(&[], "admin").unwrap();
    assert_eq!(cleared.len(), 1);
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn at_most_seven_packs_follow_the_active_plugin() {
    let mut f = fixture();
    f.store.install_plugin(GDPR, API, "admin").unwrap();
    for i in 0..MAX_PACKS {
        let bytes = format!("\0asm pack {i}");
        f.store
            .install_pack(bytes.as_bytes(), API, "admin")
            .unwrap();
    }
    let err = f
        .store
        .install_pack(b"\0asm one too many", API, "admin")
        .unwrap_err();
    assert!(err.to_string().contains("at most 7"), "{err}");
    assert_eq!(f.store.chain().unwrap().len(), MAX_PACKS + 1);
    assert_eq!(
        f.store.plugins().unwrap().len(),
        MAX_PACKS + 1,
        "nothing half-written"
    );
}
