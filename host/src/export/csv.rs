//! The CSV of an export: one file, one row per fact, with a `kind` column
//! (`profile`, `flag`, `consent`, `purpose`, ...). One file needs no archive
//! format, opens in any spreadsheet (filter on `kind`), and the export of
//! several contacts is the same file with more rows. Columns a kind does
//! not use are empty; the README has the table of which kind fills which.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::dpv::{basis_term, status_term};
use super::model::Export;

/// The columns, in order.
pub const COLUMNS: [&str; 18] = [
    "contact_id",
    "kind",
    "ref",
    "at",
    "recorded_at",
    "subject",
    "value",
    "meaning",
    "legal_basis",
    "method",
    "text_version",
    "text",
    "valid_until",
    "actor",
    "source",
    "evidence",
    "hash",
    "detail",
];

/// One row; every field is text, empty when the kind has no such value.
#[derive(Default)]
struct Row {
    kind: &'static str,
    reference: String,
    at: String,
    recorded_at: String,
    subject: String,
    value: String,
    meaning: String,
    legal_basis: String,
    method: String,
    text_version: String,
    text: String,
    valid_until: String,
    actor: String,
    source: String,
    evidence: String,
    hash: String,
    detail: String,
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn opt_time(at: Option<DateTime<Utc>>) -> String {
    at.map(time).unwrap_or_default()
}

/// Writes the exports as one CSV with a header row.
pub fn write(exports: &[Export], out: impl Write) -> ::csv::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for e in exports {
        let id = e.contact.id.to_string();
        for row in rows(e) {
            w.write_record([
                id.as_str(),
                row.kind,
                &row.reference,
                &row.at,
                &row.recorded_at,
                &row.subject,
                &row.value,
                &row.meaning,
                &row.legal_basis,
                &row.method,
                &row.text_version,
                &row.text,
                &row.valid_until,
                &row.actor,
                &row.source,
                &row.evidence,
                &row.hash,
                &row.detail,
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

fn rows(e: &Export) -> Vec<Row> {
    let mut rows = profile(e);
    consents(e, &mut rows);
    others(e, &mut rows);
    rows
}

fn profile(e: &Export) -> Vec<Row> {
    let c = &e.contact;
    let created = time(c.created_at);
    let field = |subject: &str, value: String| Row {
        kind: "profile",
        at: created.clone(),
        subject: subject.to_owned(),
        value,
        ..Row::default()
    };
    let mut rows = vec![
        field("kind", c.kind.to_string()),
        field("name", c.name.clone()),
        field("email", c.email.clone().unwrap_or_default()),
        field("phone", c.phone.clone().unwrap_or_default()),
        field("created_at", created.clone()),
    ];
    for (subject, on, detail) in [
        (
            "restricted",
            c.flags.restricted,
            "Art. 18 restriction of processing",
        ),
        (
            "objected",
            c.flags.objected,
            "Art. 21 objection to direct marketing",
        ),
        (
            "opted_out_of_all",
            c.flags.opted_out_of_all,
            "opted out of all subscriptions",
        ),
    ] {
        rows.push(Row {
            kind: "flag",
            subject: subject.to_owned(),
            value: on.to_string(),
            detail: detail.to_owned(),
            ..Row::default()
        });
    }
    rows
}

fn consents(e: &Export, rows: &mut Vec<Row>) {
    for r in &e.consents {
        for ev in &r.events {
            rows.push(Row {
                kind: "consent",
                reference: ev.seq.to_string(),
                at: time(ev.given_at),
                recorded_at: time(ev.recorded_at),
                subject: r.consent_type.clone(),
                value: ev.status.clone(),
                meaning: status_term(ev.meaning).to_owned(),
                legal_basis: ev.legal_basis.to_string(),
                method: ev.method.clone(),
                text_version: ev.text_version.to_string(),
                text: ev.text.clone(),
                valid_until: opt_time(ev.valid_until),
                actor: ev.actor.clone(),
                source: ev.source.clone(),
                evidence: ev
                    .evidence
                    .as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                hash: ev.hash.clone(),
                detail: current_note(r.current.as_ref().map(|c| c.seq) == Some(ev.seq)),
            });
        }
    }
}

fn current_note(current: bool) -> String {
    if current { "in force" } else { "" }.to_owned()
}

fn others(e: &Export, rows: &mut Vec<Row>) {
    for p in &e.purposes {
        rows.push(Row {
            kind: "purpose",
            at: time(p.changed_at),
            subject: p.code.clone(),
            value: p.legal_basis.to_string(),
            meaning: basis_term(p.legal_basis).unwrap_or_default().to_owned(),
            legal_basis: p.legal_basis.to_string(),
            detail: p.name.clone(),
            ..Row::default()
        });
    }
    for s in &e.subscriptions {
        rows.push(Row {
            kind: "subscription",
            at: time(s.changed_at),
            subject: s.code.clone(),
            value: s.state.to_string(),
            detail: s.name.clone(),
            ..Row::default()
        });
    }
    for r in &e.relations {
        let other = if r.from == e.contact.id { r.to } else { r.from };
        rows.push(Row {
            kind: "relation",
            reference: r.id.to_string(),
            at: time(r.created_at),
            subject: r.kind.to_string(),
            value: other.to_string(),
            detail: format!("{} is {} of {}", r.from, r.kind, r.to),
            ..Row::default()
        });
    }
    decisions(e, rows);
    for t in &e.timeline {
        let link = match (t.ledger_seq, t.decision_id) {
            (Some(seq), _) => format!("ledger #{seq}"),
            (None, Some(id)) => format!("decision #{id}"),
            (None, None) => String::new(),
        };
        rows.push(Row {
            kind: "timeline",
            reference: t.id.to_string(),
            at: time(t.at),
            subject: t.kind.to_string(),
            value: link,
            actor: t.actor.clone(),
            detail: t.summary.clone(),
            ..Row::default()
        });
    }
}

fn decisions(e: &Export, rows: &mut Vec<Row>) {
    for j in &e.justifications {
        rows.push(Row {
            kind: "justification",
            reference: j.decision.to_string(),
            at: time(j.at),
            recorded_at: time(j.recorded_at),
            subject: j.channel.to_string(),
            value: j.reason.clone(),
            actor: j.actor.clone(),
            source: j.missing.clone(),
            hash: j.plugin_sha256.clone().unwrap_or_default(),
            text: j.reason_label.clone(),
            detail: j.text.clone().unwrap_or_default(),
            ..Row::default()
        });
    }
    for d in &e.decisions {
        rows.push(Row {
            kind: "decision",
            reference: d.id.to_string(),
            at: time(d.at),
            recorded_at: time(d.recorded_at),
            subject: d.channel.to_string(),
            value: d.outcome.to_string(),
            actor: d.actor.clone(),
            hash: d.plugin_sha256.clone().unwrap_or_default(),
            detail: d.reason_code.clone(),
            ..Row::default()
        });
    }
    for b in &e.bulk_sends {
        rows.push(Row {
            kind: "bulk_send",
            reference: b.decision.to_string(),
            at: time(b.at),
            recorded_at: time(b.recorded_at),
            subject: b.channel.to_string(),
            value: b.outcome.to_string(),
            actor: b.actor.clone(),
            hash: b.plugin_sha256.clone().unwrap_or_default(),
            detail: b.subscription_type.clone().unwrap_or_default(),
            ..Row::default()
        });
    }
}
