//! Reads exports inside one read transaction, with the store's own readers:
//! they all run on the store's one connection, so a snapshot opened first
//! makes every one of them read the same moment.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use super::model::{ConsentEvent, ConsentRecord, CurrentState, Export, Justification};
use crate::store::{
    BulkReceipt, Channel, ConsentStatus, ConsentType, ConsentTypeId, ContactId, LedgerEntry,
    LedgerHead, LoggedDecision, MethodId, Outcome, ReasonId, Result, StatusId, Store,
};

/// The catalog entries an export names by code, read once per export.
struct Names {
    types: HashMap<ConsentTypeId, ConsentType>,
    statuses: HashMap<StatusId, String>,
    methods: HashMap<MethodId, (String, String)>,
    reasons: HashMap<ReasonId, (String, String)>,
}

impl Names {
    fn read(store: &Store) -> Result<Names> {
        Ok(Names {
            types: store
                .consent_types()?
                .into_iter()
                .map(|t| (t.id, t))
                .collect(),
            statuses: store
                .statuses()?
                .into_iter()
                .map(|s| (s.id, s.code))
                .collect(),
            methods: store
                .methods()?
                .into_iter()
                .map(|m| (m.id, (m.code, m.name)))
                .collect(),
            reasons: store
                .reasons()?
                .into_iter()
                .map(|r| (r.id, (r.code, r.label)))
                .collect(),
        })
    }

    fn status(&self, id: StatusId, meaning: ConsentStatus) -> String {
        self.statuses
            .get(&id)
            .cloned()
            .unwrap_or_else(|| meaning.to_string())
    }
}

/// What every export of one snapshot shares.
struct Shared {
    names: Names,
    now: DateTime<Utc>,
    head: LedgerHead,
    controller: Option<String>,
}

/// Exports several contacts (a filter's result) from one snapshot, in the
/// order given. Fails with `unknown_contact` naming the first id that does
/// not exist, and then exports none.
pub fn export_contacts(
    store: &Store,
    contacts: &[ContactId],
    now: DateTime<Utc>,
) -> Result<Vec<Export>> {
    let snapshot = store.snapshot()?;
    let shared = Shared {
        names: Names::read(store)?,
        now,
        head: store.ledger_head()?,
        controller: store.controller()?,
    };
    let bulk = store.bulk_sends_to(contacts)?;
    let exports = contacts
        .iter()
        .zip(bulk)
        .map(|(&id, bulk_sends)| one(store, &shared, id, bulk_sends))
        .collect::<Result<Vec<_>>>()?;
    snapshot.finish()?;
    Ok(exports)
}

/// Exports every contact `filter` selects at `now` (the same filter as
/// listing, bulk fill and bulk links), selected and read in one
/// transaction. Up to `MAX_BULK` contacts; more is refused with a hint.
pub fn export_filtered(
    store: &Store,
    filter: &crate::store::ContactFilter,
    now: DateTime<Utc>,
) -> Result<Vec<Export>> {
    let snapshot = store.snapshot()?;
    let ids = store.all_filtered_contact_ids(filter, now)?;
    let exports = export_contacts(store, &ids, now)?;
    snapshot.finish()?;
    Ok(exports)
}

/// Exports one contact; `unknown_contact` if there is none.
pub fn export_contact(store: &Store, contact: ContactId, now: DateTime<Utc>) -> Result<Export> {
    let mut all = export_contacts(store, &[contact], now)?;
    Ok(all.remove(0))
}

fn one(
    store: &Store,
    shared: &Shared,
    id: ContactId,
    bulk_sends: Vec<BulkReceipt>,
) -> Result<Export> {
    let contact = store.contact(id)?;
    let (justified, decisions) = store
        .decisions(id)?
        .into_iter()
        .partition::<Vec<_>, _>(|d| d.outcome == Outcome::Justified);
    let justifications = justified
        .into_iter()
        .map(|d| justification(&shared.names, d))
        .collect();
    Ok(Export {
        exported_at: shared.now,
        ledger_head: shared.head.clone(),
        controller: shared.controller.clone(),
        consents: consents(store, &shared.names, id, shared.now)?,
        purposes: store.contact_purposes(id)?,
        subscriptions: store.contact_subscriptions(id)?,
        relations: store.relations(id)?,
        justifications,
        decisions,
        bulk_sends,
        timeline: store.timeline(id)?,
        contact,
    })
}

fn justification(names: &Names, d: LoggedDecision) -> Justification {
    let (reason, reason_label) = match d.reason {
        Some(r) => names
            .reasons
            .get(&r)
            .cloned()
            .unwrap_or_else(|| (r.to_string(), String::new())),
        None => (String::new(), String::new()),
    };
    Justification {
        decision: d.id,
        at: d.at,
        recorded_at: d.recorded_at,
        channel: d.channel,
        missing: d.reason_code,
        reason,
        reason_label,
        text: d.justification,
        plugin_sha256: d.plugin_sha256,
        actor: d.actor,
    }
}

/// One record per consent type with entries, in type id order.
fn consents(
    store: &Store,
    names: &Names,
    id: ContactId,
    now: DateTime<Utc>,
) -> Result<Vec<ConsentRecord>> {
    let mut texts: HashMap<(ConsentTypeId, u32), String> = HashMap::new();
    let mut records: BTreeMap<ConsentTypeId, ConsentRecord> = BTreeMap::new();
    for entry in store.consent_history(id)? {
        let key = (entry.consent_type_id, entry.text_version);
        let text = match texts.entry(key) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(slot) => slot
                .insert(store.consent_type_text(key.0, key.1)?.text)
                .clone(),
        };
        let ty = names.types.get(&entry.consent_type_id);
        // Evidence is read only for entries whose chain says there was some.
        let evidence = match &entry.evidence_hash {
            Some(_) => store.evidence(entry.seq)?,
            None => None,
        };
        records
            .entry(entry.consent_type_id)
            .or_insert_with(|| record_of(entry.consent_type_id, ty))
            .events
            .push(event_of(names, ty, entry, text, evidence));
    }
    for current in store.current_consents(id)? {
        let Some(record) = records.get_mut(&current.consent_type_id) else {
            continue;
        };
        let ty = names.types.get(&current.consent_type_id);
        let valid_until = expiry(ty, current.status, current.given_at);
        let live = matches!(
            current.status,
            ConsentStatus::Given | ConsentStatus::Renewed
        );
        record.current = Some(CurrentState {
            seq: current.seq,
            status: names.status(current.status_id, current.status),
            meaning: current.status,
            legal_basis: current.legal_basis,
            given_at: current.given_at,
            valid_until,
            valid: live && current.given_at <= now && valid_until.is_none_or(|u| now < u),
        });
    }
    Ok(records.into_values().collect())
}

fn record_of(id: ConsentTypeId, ty: Option<&ConsentType>) -> ConsentRecord {
    ConsentRecord {
        consent_type: ty.map_or_else(|| id.to_string(), |t| t.code.clone()),
        title: ty.map(|t| t.title.clone()).unwrap_or_default(),
        description: ty.and_then(|t| t.description.clone()),
        channels: ty.map_or_else(Vec::new, |t| {
            Channel::ALL
                .iter()
                .copied()
                .filter(|c| t.allows(*c))
                .collect()
        }),
        validity_days: ty.and_then(|t| t.validity_days),
        current: None,
        events: Vec::new(),
    }
}

fn event_of(
    names: &Names,
    ty: Option<&ConsentType>,
    e: LedgerEntry,
    text: String,
    evidence: Option<serde_json::Value>,
) -> ConsentEvent {
    let (method, method_name) = names
        .methods
        .get(&e.method_id)
        .cloned()
        .unwrap_or_else(|| (e.method_id.to_string(), String::new()));
    ConsentEvent {
        seq: e.seq,
        recorded_at: e.recorded_at,
        given_at: e.given_at,
        status: names.status(e.status_id, e.status),
        meaning: e.status,
        legal_basis: e.legal_basis,
        method,
        method_name,
        text_version: e.text_version,
        text,
        valid_until: expiry(ty, e.status, e.given_at),
        source: e.source,
        actor: e.actor,
        evidence,
        evidence_hash: e.evidence_hash,
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

/// When a given or renewed consent stops counting; the type's validity
/// (Italian CRM plugin), counted from when the person gave it.
fn expiry(
    ty: Option<&ConsentType>,
    status: ConsentStatus,
    given_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !matches!(status, ConsentStatus::Given | ConsentStatus::Renewed) {
        return None;
    }
    ty.and_then(|t| t.validity_days)
        .map(|days| given_at + Duration::days(days.into()))
}
