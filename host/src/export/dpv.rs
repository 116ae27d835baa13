//! The JSON of an export (Art. 20): JSON-LD whose consent entries use the
//! W3C Data Privacy Vocabulary (DPV, <https://w3id.org/dpv#>) and carry the
//! fields of an ISO/IEC TS 27560 consent record, so that another
//! controller's tools can read them. Keys stay snake_case (the project's
//! one vocabulary); the `@context` maps the ones DPV has a property for.

use serde_json::{Value, json};

use super::model::{ConsentEvent, ConsentRecord, Export, Justification};
use crate::store::{ConsentStatus, Contact, ContactId, LegalBasis};

/// The DPV namespace.
pub const DPV: &str = "https://w3id.org/dpv#";

/// What the records say they follow: the standard and this mapping's
/// version, bumped when a field changes meaning.
pub const SCHEMA_VERSION: &str = "ISO/IEC TS 27560:2023; crm-consent mapping 1";

/// The DPV consent status a store status means.
pub const fn status_term(status: ConsentStatus) -> &'static str {
    match status {
        ConsentStatus::Requested => "dpv:ConsentRequested",
        ConsentStatus::Given => "dpv:ConsentGiven",
        ConsentStatus::Renewed => "dpv:RenewedConsentGiven",
        ConsentStatus::Refused => "dpv:ConsentRefused",
        ConsentStatus::Withdrawn => "dpv:ConsentWithdrawn",
        ConsentStatus::Revoked => "dpv:ConsentRevoked",
        ConsentStatus::Expired => "dpv:ConsentExpired",
        ConsentStatus::Invalidated => "dpv:ConsentInvalidated",
    }
}

/// The DPV legal basis; `None` for `withdrawn` (SuperOffice's "No
/// mailings"), which is the absence of a basis and has no DPV term.
pub const fn basis_term(basis: LegalBasis) -> Option<&'static str> {
    Some(match basis {
        LegalBasis::Consent => "dpv:Consent",
        LegalBasis::Contract => "dpv:Contract",
        LegalBasis::LegalObligation => "dpv:LegalObligation",
        LegalBasis::VitalInterest => "dpv:VitalInterest",
        LegalBasis::PublicInterest => "dpv:PublicInterest",
        LegalBasis::OfficialAuthority => "dpv:OfficialAuthority",
        LegalBasis::LegitimateInterest => "dpv:LegitimateInterest",
        LegalBasis::Withdrawn => return None,
    })
}

/// The `@context`: the DPV prefix and the keys that are DPV properties.
fn context() -> Value {
    let iri = |id: &str| json!({ "@id": id, "@type": "@id" });
    let time = |id: &str| json!({ "@id": id, "@type": "xsd:dateTime" });
    json!({
        "dpv": DPV,
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "data_subject": iri("dpv:hasDataSubject"),
        "controller": "dpv:hasDataController",
        "purpose": "dpv:hasPurpose",
        "legal_basis": iri("dpv:hasLegalBasis"),
        "status": iri("dpv:hasConsentStatus"),
        "notice": "dpv:hasNotice",
        "indication_method": "dpv:hasIndicationMethod",
        "indicated_at": time("dpv:isIndicatedAtTime"),
        "indicated_by": iri("dpv:isIndicatedBy"),
    })
}

/// The subject's IRI: a URN on the contact id, which the ledger keeps.
fn subject_iri(id: ContactId) -> String {
    format!("urn:crm-consent:contact:{id}")
}

/// The export of one contact as a JSON-LD document.
pub fn document(e: &Export) -> Value {
    let subject = e.contact.id;
    json!({
        "@context": context(),
        "@id": format!("urn:crm-consent:export:{subject}:{}", e.ledger_head.seq),
        "format": "crm-consent export",
        "schema_version": SCHEMA_VERSION,
        "exported_at": e.exported_at,
        "snapshot": { "ledger_seq": e.ledger_head.seq, "ledger_hash": e.ledger_head.hash },
        "controller": controller(e),
        "data_subject": profile(&e.contact),
        "consent_records": e.consents.iter().map(|r| record(e, r)).collect::<Vec<_>>(),
        "purposes": e.purposes.iter().map(|p| json!({
            "@type": "dpv:Purpose",
            "code": p.code,
            "name": p.name,
            "direct_marketing": p.direct_marketing,
            "legal_basis": basis_term(p.legal_basis),
            "legal_basis_code": p.legal_basis,
            "changed_at": p.changed_at,
        })).collect::<Vec<_>>(),
        "subscriptions": e.subscriptions,
        "relations": e.relations,
        "justifications": e.justifications.iter().map(justification).collect::<Vec<_>>(),
        "decisions": e.decisions,
        "bulk_sends": e.bulk_sends,
        "timeline": e.timeline,
    })
}

/// The controller: as the admin set it, else a placeholder that says so.
fn controller(e: &Export) -> Value {
    match &e.controller {
        Some(name) => json!({ "@type": "dpv:DataController", "name": name, "set": true }),
        None => json!({
            "@type": "dpv:DataController",
            "name": null,
            "set": false,
            "note": "not set: an admin names it with `crm-consent setup controller`",
        }),
    }
}

fn profile(c: &Contact) -> Value {
    json!({
        "@id": subject_iri(c.id),
        "@type": "dpv:DataSubject",
        "id": c.id,
        "kind": c.kind,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "created_at": c.created_at,
        "flags": {
            "restricted": c.flags.restricted,
            "objected": c.flags.objected,
            "opted_out_of_all": c.flags.opted_out_of_all,
        },
    })
}

/// One consent type's record: the fields of an ISO/IEC TS 27560 consent
/// record, its state in force, and every event of its history.
fn record(e: &Export, r: &ConsentRecord) -> Value {
    let subject = e.contact.id;
    let latest = r.events.last();
    let current = r.current.as_ref();
    json!({
        "@id": format!("urn:crm-consent:consent:{subject}:{}", r.consent_type),
        "@type": ["dpv:ConsentRecord", "dpv:Consent"],
        "record_id": format!("{subject}:{}", r.consent_type),
        "schema_version": SCHEMA_VERSION,
        "data_subject": subject_iri(subject),
        "pii_principal_id": subject,
        "controller": controller(e),
        "purpose": {
            "@type": "dpv:Purpose",
            "code": r.consent_type,
            "title": r.title,
            "description": r.description,
        },
        "processing": { "channels": r.channels },
        "validity_days": r.validity_days,
        "legal_basis": current.and_then(|c| basis_term(c.legal_basis)),
        "legal_basis_code": current.map(|c| c.legal_basis),
        "status": current.map(|c| status_term(c.meaning)),
        "status_code": current.map(|c| c.status.as_str()),
        "valid": current.is_some_and(|c| c.valid),
        "indicated_at": current.map(|c| c.given_at),
        "expires_at": current.and_then(|c| c.valid_until),
        "current_seq": current.map(|c| c.seq),
        "notice": latest.map(notice),
        "indication_method": latest.map(|l| l.method.as_str()),
        "events": r.events.iter().map(|ev| event(subject, ev)).collect::<Vec<_>>(),
    })
}

fn notice(ev: &ConsentEvent) -> Value {
    json!({ "@type": "dpv:ConsentNotice", "version": ev.text_version, "text": ev.text })
}

/// One ledger entry, as a consent event of the record's history.
fn event(subject: ContactId, ev: &ConsentEvent) -> Value {
    json!({
        "@id": format!("urn:crm-consent:ledger:{}", ev.seq),
        "seq": ev.seq,
        "status": status_term(ev.meaning),
        "status_code": ev.status,
        "legal_basis": basis_term(ev.legal_basis),
        "legal_basis_code": ev.legal_basis,
        "indicated_at": ev.given_at,
        "indicated_by": by_subject(ev.meaning).then(|| subject_iri(subject)),
        "recorded_at": ev.recorded_at,
        "indication_method": ev.method,
        "indication_method_name": ev.method_name,
        "notice": notice(ev),
        "expires_at": ev.valid_until,
        "source": ev.source,
        "actor": ev.actor,
        "evidence": ev.evidence,
        "evidence_sha256": ev.evidence_hash,
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    })
}

/// Whether the person themselves expressed this status; a revocation, an
/// expiry, an invalidation or a request comes from someone or something else.
const fn by_subject(status: ConsentStatus) -> bool {
    matches!(
        status,
        ConsentStatus::Given
            | ConsentStatus::Renewed
            | ConsentStatus::Refused
            | ConsentStatus::Withdrawn
    )
}

fn justification(j: &Justification) -> Value {
    json!({
        "decision": j.decision,
        "at": j.at,
        "recorded_at": j.recorded_at,
        "channel": j.channel,
        "outcome": "justified",
        "missing": j.missing,
        "reason": j.reason,
        "reason_label": j.reason_label,
        "text": j.text,
        "plugin_sha256": j.plugin_sha256,
        "actor": j.actor,
    })
}
