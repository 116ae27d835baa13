//! The schema, as an append-only list of migrations. Never edit a migration
//! that has shipped: add a new one at the end.
//!
//! Baseline 2 replaced the unreleased 0.1 development schema: the ledger now
//! covers every fact a decision reads, which the old tables could not express.
//! Databases made by development builds before it carry no `application_id`
//! and are refused with a message to recreate them.
//!
//! Conventions:
//! - Every table is STRICT, so SQLite rejects a value of the wrong type.
//! - Closed vocabularies whose values are read on the hot path (DPV status,
//!   legal basis, subscription state) are stored as small integers with a
//!   lookup table, so a join shows the name and a foreign key rejects anything
//!   else. The ledger stores their names instead: it is the record people read.
//! - Tables read per contact on the hot path (`consent_state`,
//!   `contact_purposes`, `subscription_preferences`) are `WITHOUT ROWID` with a
//!   primary key starting with `contact_id`: the table itself is the
//!   (contact_id) index, so the newsletter scan reads them in order, once.
//! - Personal data (names, email, phone, evidence) lives in its own tables so
//!   that an erasure (Art. 17) can delete it without touching the ledger.
//! - Every table a decision reads is a *projection* of ledger events (see
//!   `ledger::apply`). The schema holds no rows of them: the built-in
//!   catalog entries are written by `seed` as ledger events at `init`, so
//!   `ledger verify` can rebuild every projection from an empty schema.

/// SQLite's `application_id` of a crm-consent database ("CRMC"): how `open`
/// tells our files from any other program's SQLite file.
pub(super) const APPLICATION_ID: i32 = 0x4352_4D43;

const VOCABULARIES: &str = r#"
CREATE TABLE dpv_statuses (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
INSERT INTO dpv_statuses VALUES
    (0, 'requested'), (1, 'given'), (2, 'renewed'), (3, 'refused'),
    (4, 'withdrawn'), (5, 'revoked'), (6, 'expired'), (7, 'invalidated');

CREATE TABLE legal_bases (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
INSERT INTO legal_bases VALUES
    (0, 'consent'), (1, 'contract'), (2, 'legal_obligation'), (3, 'vital_interest'),
    (4, 'public_interest'), (5, 'official_authority'), (6, 'legitimate_interest'),
    (7, 'withdrawn');

CREATE TABLE subscription_states (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
INSERT INTO subscription_states VALUES (0, 'opted_in'), (1, 'not_specified'), (2, 'opted_out');
"#;

const CONTACTS: &str = r#"
-- The pseudonymous part of a contact: the ledger points here, so this row
-- outlives an erasure. A projection of `row_put` events.
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind <> ''),
    created_at INTEGER NOT NULL,
    restricted INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1)),
    objected INTEGER NOT NULL DEFAULT 0 CHECK (objected IN (0, 1)),
    opted_out_of_all INTEGER NOT NULL DEFAULT 0 CHECK (opted_out_of_all IN (0, 1))
) STRICT;

-- The personal part: deleted on erasure, never in the ledger.
CREATE TABLE contact_personal (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT COLLATE NOCASE,
    phone TEXT
) STRICT;
CREATE INDEX contact_personal_email ON contact_personal(email) WHERE email IS NOT NULL;
-- The newsletter scan's list of mailable contacts: a small ordered index
-- instead of a walk over every name and address.
CREATE INDEX contact_personal_mailable ON contact_personal(contact_id) WHERE email IS NOT NULL;

-- Read as "from is <kind> of to" (employee_company: from = employee).
CREATE TABLE contact_relations (
    id INTEGER PRIMARY KEY,
    from_contact INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    to_contact INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind <> ''),
    created_at INTEGER NOT NULL,
    UNIQUE (from_contact, to_contact, kind),
    CHECK (from_contact <> to_contact)
) STRICT;
CREATE INDEX contact_relations_to ON contact_relations(to_contact);
"#;

// `consent_types.allow_bulk/allow_single/allow_contact` and the switches'
// `single_mail/mailing_list/per_contact` keep their first names, though the
// API says `allow_bulk_email`, `check_phone`, ...: ledger entries store rows
// by column name and `ledger verify` replays them into this schema. The store
// maps them in one place each (`consent_types.rs`, `config.rs`).
const CATALOG: &str = r#"
CREATE TABLE consent_types (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT,
    validity_days INTEGER CHECK (validity_days IS NULL OR validity_days > 0),
    allow_bulk INTEGER NOT NULL CHECK (allow_bulk IN (0, 1)),
    allow_single INTEGER NOT NULL CHECK (allow_single IN (0, 1)),
    allow_contact INTEGER NOT NULL CHECK (allow_contact IN (0, 1)),
    created_at INTEGER NOT NULL
) STRICT;

-- The text a person agrees to is part of the proof (Art. 7(1)): versions are
-- only ever added, and the ledger event of each carries the text itself.
-- `valid_from`: nobody can agree to a text before it existed; an import of
-- historical consent adds a version with an earlier `valid_from` explicitly.
CREATE TABLE consent_type_texts (
    type_id INTEGER NOT NULL REFERENCES consent_types(id),
    version INTEGER NOT NULL CHECK (version >= 1),
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    valid_from INTEGER NOT NULL,
    PRIMARY KEY (type_id, version)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER consent_type_texts_no_update BEFORE UPDATE ON consent_type_texts
BEGIN SELECT RAISE(ABORT, 'consent type texts are versioned: add a new version'); END;
CREATE TRIGGER consent_type_texts_no_delete BEFORE DELETE ON consent_type_texts
BEGIN SELECT RAISE(ABORT, 'consent type texts are versioned: add a new version'); END;

-- Livespace: 4 built-in statuses that cannot be edited or deleted, plus custom.
CREATE TABLE statuses (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    meaning INTEGER NOT NULL REFERENCES dpv_statuses(code),
    built_in INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1))
) STRICT;
CREATE TRIGGER statuses_built_in_no_update BEFORE UPDATE ON statuses WHEN OLD.built_in = 1
BEGIN SELECT RAISE(ABORT, 'built-in statuses cannot be edited'); END;
CREATE TRIGGER statuses_built_in_no_delete BEFORE DELETE ON statuses WHEN OLD.built_in = 1
BEGIN SELECT RAISE(ABORT, 'built-in statuses cannot be deleted'); END;

-- Livespace: 6 built-in ways of giving consent, all editable or deletable
-- except "via the CRM form" (locked), plus custom ones.
CREATE TABLE methods (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    built_in INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1)),
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1))
) STRICT;
CREATE TRIGGER methods_locked_no_update BEFORE UPDATE ON methods WHEN OLD.locked = 1
BEGIN SELECT RAISE(ABORT, 'locked ways of giving consent cannot be edited'); END;
CREATE TRIGGER methods_locked_no_delete BEFORE DELETE ON methods WHEN OLD.locked = 1
BEGIN SELECT RAISE(ABORT, 'locked ways of giving consent cannot be deleted'); END;

-- Italian CRM plugin: reasons an operator picks to contact without consent.
CREATE TABLE reasons (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL
) STRICT;

CREATE TABLE purposes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    legal_basis INTEGER NOT NULL REFERENCES legal_bases(code),
    direct_marketing INTEGER NOT NULL CHECK (direct_marketing IN (0, 1))
) STRICT;

-- SuperOffice: subscription types the admin can edit or remove.
CREATE TABLE subscription_types (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    requires_opt_in INTEGER NOT NULL CHECK (requires_opt_in IN (0, 1))
) STRICT;

-- The privacy switches: one row, written by `seed`.
CREATE TABLE switches (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    single_mail INTEGER NOT NULL CHECK (single_mail IN (0, 1)),
    mailing_list INTEGER NOT NULL CHECK (mailing_list IN (0, 1)),
    per_contact INTEGER NOT NULL CHECK (per_contact IN (0, 1)),
    e_marketing_privacy INTEGER NOT NULL CHECK (e_marketing_privacy IN (0, 1))
) STRICT;
"#;

const CONTACT_STATE: &str = r#"
CREATE TABLE contact_purposes (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    purpose_id INTEGER NOT NULL REFERENCES purposes(id),
    legal_basis INTEGER NOT NULL REFERENCES legal_bases(code),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (contact_id, purpose_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX contact_purposes_purpose ON contact_purposes(purpose_id);

-- "Not specified" is the absence of a row.
CREATE TABLE subscription_preferences (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    subscription_type_id INTEGER NOT NULL REFERENCES subscription_types(id) ON DELETE CASCADE,
    state INTEGER NOT NULL REFERENCES subscription_states(code),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (contact_id, subscription_type_id)
) STRICT, WITHOUT ROWID;
-- Covering and ordered by contact: a newsletter for one type reads only this.
CREATE INDEX subscription_preferences_type
    ON subscription_preferences(subscription_type_id, contact_id, state);
"#;

const LEDGER: &str = r#"
-- Append-only proof (Art. 7(1)) of every change that can alter a decision:
-- consents, contact flags, preferences, purpose bases, catalogs, switches
-- and plugins. Only pseudonymous ids, codes, texts an admin wrote and
-- hashes: see `store::ledger` for why.
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('consent', 'row_put', 'row_delete')),
    contact_id INTEGER REFERENCES contacts(id),
    body TEXT NOT NULL CHECK (json_valid(body)),
    actor TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_contact ON ledger(contact_id, seq) WHERE contact_id IS NOT NULL;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

-- The last entry, written with it: catches entries cut off the end, and
-- keeps recorded times from going backwards.
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- Personal evidence (IP, user agent, form payload): erasable, never edited.
CREATE TABLE consent_evidence (
    seq INTEGER PRIMARY KEY REFERENCES ledger(seq),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    evidence TEXT NOT NULL CHECK (json_valid(evidence))
) STRICT;
CREATE INDEX consent_evidence_contact ON consent_evidence(contact_id);
CREATE TRIGGER consent_evidence_no_update BEFORE UPDATE ON consent_evidence
BEGIN SELECT RAISE(ABORT, 'consent evidence cannot be edited, only erased'); END;

-- The current state per (contact, type), derived from the ledger in the same
-- transaction as each entry. `effective_at` orders entries: see `projection`.
CREATE TABLE consent_state (
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    consent_type_id INTEGER NOT NULL REFERENCES consent_types(id),
    status_id INTEGER NOT NULL REFERENCES statuses(id),
    meaning INTEGER NOT NULL REFERENCES dpv_statuses(code),
    legal_basis INTEGER NOT NULL REFERENCES legal_bases(code),
    given_at INTEGER NOT NULL,
    effective_at INTEGER NOT NULL,
    method_id INTEGER NOT NULL REFERENCES methods(id),
    text_version INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (contact_id, consent_type_id)
) STRICT, WITHOUT ROWID;

-- This installation's Ed25519 key for signing ledger checkpoints. Written
-- once by `init`; a checkpoint names the public key, so a swapped key shows.
CREATE TABLE instance_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret_key BLOB NOT NULL CHECK (length(secret_key) = 32),
    public_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TRIGGER instance_key_no_update BEFORE UPDATE ON instance_key
BEGIN SELECT RAISE(ABORT, 'the instance key cannot be changed'); END;
CREATE TRIGGER instance_key_no_delete BEFORE DELETE ON instance_key
BEGIN SELECT RAISE(ABORT, 'the instance key cannot be deleted'); END;
"#;

const DECISIONS: &str = r#"
-- Append-only and hash-chained, so that a deleted deny or justification is
-- detected. `at` is the time the plugin was asked about (may be a CRM's
-- `--now`); `recorded_at` comes from the clock.
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    contact_id INTEGER REFERENCES contacts(id),
    channel TEXT NOT NULL CHECK (channel IN ('bulk_email', 'single_email', 'phone', 'sms')),
    outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny', 'justify', 'justified')),
    reason_code TEXT NOT NULL,
    reason_id INTEGER REFERENCES reasons(id),
    -- The operator's words are personal data: erasable, so only their hash
    -- enters the chain.
    justification TEXT,
    justification_sha256 TEXT,
    -- No foreign key: the log outlives a removed subscription type.
    subscription_type_id INTEGER,
    summary TEXT CHECK (summary IS NULL OR json_valid(summary)),
    -- A bulk send's recipients: sorted contact ids, delta-varint encoded.
    recipients BLOB,
    plugin_sha256 TEXT,
    request TEXT NOT NULL CHECK (json_valid(request)),
    actor TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    CHECK ((outcome = 'justified') = (reason_id IS NOT NULL))
) STRICT;
CREATE INDEX decisions_contact ON decisions(contact_id, at) WHERE contact_id IS NOT NULL;
CREATE INDEX decisions_reason ON decisions(reason_id) WHERE reason_id IS NOT NULL;
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;

CREATE TABLE decision_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    id_last INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO decision_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE contact_timeline (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN
        ('created', 'consent_change', 'justification', 'preference', 'flag', 'purpose', 'relation')),
    summary TEXT NOT NULL,
    actor TEXT NOT NULL,
    ledger_seq INTEGER REFERENCES ledger(seq),
    decision_id INTEGER REFERENCES decisions(id)
) STRICT;
CREATE INDEX contact_timeline_contact ON contact_timeline(contact_id, at, id);
CREATE TRIGGER contact_timeline_no_update BEFORE UPDATE ON contact_timeline
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
CREATE TRIGGER contact_timeline_no_delete BEFORE DELETE ON contact_timeline
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
"#;

const PLUGINS: &str = r#"
CREATE TABLE plugins (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    bytes BLOB NOT NULL,
    api_version TEXT NOT NULL,
    installed_at INTEGER NOT NULL,
    installed_by TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
) STRICT;
-- At most one active plugin.
CREATE UNIQUE INDEX plugins_one_active ON plugins(active) WHERE active = 1;
-- Decisions name the plugin by sha256, so the bytes must stay what was hashed.
CREATE TRIGGER plugins_bytes_immutable BEFORE UPDATE OF sha256, bytes ON plugins
BEGIN SELECT RAISE(ABORT, 'plugin bytes are immutable: install a new plugin'); END;
"#;

const API: &str = r#"
-- Keys of the HTTP API. Only a key's sha256 is kept: the key is printed once
-- when it is made. Keys change no decision (the actor they act as is what
-- the ledger and the decision log record), so they are not projected.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reader')),
    secret_sha256 BLOB NOT NULL CHECK (length(secret_sha256) = 32),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT
) STRICT;

-- The first answer to each request with an `Idempotency-Key`, written in the
-- same transaction as the request's writes. Answers, not state: not projected.
CREATE TABLE idempotency (
    key_id INTEGER NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
) STRICT, WITHOUT ROWID;
"#;

const NOTIFY: &str = r#"
-- Staff notifications (issue 8): where they go and the queue. Neither
-- changes a decision, so neither is projected.
CREATE TABLE webhook (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    set_by TEXT NOT NULL
) STRICT;
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    delivered_at INTEGER,
    gave_up_at INTEGER,
    last_error TEXT
) STRICT;
CREATE INDEX notifications_due ON notifications(next_attempt_at, id)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- The timeline gains the kind `notification`; SQLite cannot change a
-- CHECK, so the table is rebuilt with its rows, index and triggers.
CREATE TABLE contact_timeline_v2 (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN
        ('created', 'consent_change', 'justification', 'preference', 'flag', 'purpose',
         'relation', 'notification')),
    summary TEXT NOT NULL,
    actor TEXT NOT NULL,
    ledger_seq INTEGER REFERENCES ledger(seq),
    decision_id INTEGER REFERENCES decisions(id)
) STRICT;
INSERT INTO contact_timeline_v2 SELECT * FROM contact_timeline;
DROP TABLE contact_timeline;
ALTER TABLE contact_timeline_v2 RENAME TO contact_timeline;
CREATE INDEX contact_timeline_contact ON contact_timeline(contact_id, at, id);
CREATE TRIGGER contact_timeline_no_update BEFORE UPDATE ON contact_timeline
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
CREATE TRIGGER contact_timeline_no_delete BEFORE DELETE ON contact_timeline
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
"#;

const LINKS: &str = r#"
-- Issue 8: the contact-facing pages. The HMAC key that signs their links:
-- made here, so `init` and the first open after an upgrade both get one,
-- and never shown by any command. SQLite's randomblob() draws from its
-- CSPRNG, seeded from the OS's random source.
CREATE TABLE link_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL CHECK (length(secret) = 32),
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO link_secret VALUES (1, randomblob(32), unixepoch());

-- Rotating a contact's links bumps the generation: every link signed with
-- an older one is revoked. No row means generation 0.
CREATE TABLE link_generations (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id),
    generation INTEGER NOT NULL CHECK (generation >= 1),
    rotated_at INTEGER NOT NULL,
    rotated_by TEXT NOT NULL
) STRICT;

-- The pages' settings (base URL, preference-link validity). No row means
-- the built-in default.
CREATE TABLE page_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
) STRICT;

-- Admin-edited templates (Livespace: the link email and the form). No row
-- means the built-in default. Not in the ledger: the proof of what a person
-- agreed to is the consent text version, not the wording around it.
CREATE TABLE page_templates (
    name TEXT PRIMARY KEY,
    subject TEXT,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
) STRICT;

-- Messages for the CRM to deliver (list, then acknowledge). The address and
-- the body are personal data: not in the ledger.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('form_link', 'confirmation')),
    created_at INTEGER NOT NULL,
    acknowledged_at INTEGER
) STRICT;
CREATE INDEX outbox_pending ON outbox(id) WHERE acknowledged_at IS NULL;

-- Double opt-in: consent given on a form is `requested` until the contact
-- confirms by email. A column of consent types, so `row_put` carries it.
ALTER TABLE consent_types ADD COLUMN requires_confirmation INTEGER NOT NULL DEFAULT 0
    CHECK (requires_confirmation IN (0, 1));

-- A consent text in another language. It is evidence of what the person
-- read (Art. 7(1)), so it is a ledger projection like the text itself, and
-- never edited: a better translation belongs to a new text version.
CREATE TABLE consent_type_translations (
    id INTEGER PRIMARY KEY,
    type_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    language TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 3 AND language = lower(language)),
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (type_id, version, language),
    FOREIGN KEY (type_id, version) REFERENCES consent_type_texts(type_id, version)
) STRICT;
CREATE TRIGGER consent_type_translations_no_update BEFORE UPDATE ON consent_type_translations
BEGIN SELECT RAISE(ABORT, 'translations are evidence: add one for a new text version'); END;
CREATE TRIGGER consent_type_translations_no_delete BEFORE DELETE ON consent_type_translations
BEGIN SELECT RAISE(ABORT, 'translations are evidence: add one for a new text version'); END;
"#;

const RIGHTS: &str = r#"
-- Issue 9: erasure (Art. 17), rectification (Art. 16), the re-add block and
-- the one-level cascade.

-- The erasure itself and the re-add exception are facts hooks read, so they
-- are columns of `contacts` and go into the ledger with its `row_put`.
ALTER TABLE contacts ADD COLUMN erased_at INTEGER;
ALTER TABLE contacts ADD COLUMN erasure_ground TEXT;
-- HubSpot: a contact re-added after an erasure waits until the person gives
-- consent on a form themselves; every hook denies it until then.
ALTER TABLE contacts ADD COLUMN awaiting_own_consent INTEGER NOT NULL DEFAULT 0
    CHECK (awaiting_own_consent IN (0, 1));

-- What is left of an erased person: keyed hashes (HMAC-SHA256 with a key
-- derived from `link_secret`), so the re-add block can match an address
-- without anyone being able to guess it back. Never in the ledger.
CREATE TABLE tombstones (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id),
    email_hmac BLOB CHECK (email_hmac IS NULL OR length(email_hmac) = 32),
    phone_hmac BLOB CHECK (phone_hmac IS NULL OR length(phone_hmac) = 32),
    erased_at INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    ground TEXT NOT NULL,
    cascaded_from INTEGER REFERENCES contacts(id),
    superseded_at INTEGER,
    superseded_by INTEGER REFERENCES contacts(id)
) STRICT;
CREATE INDEX tombstones_email ON tombstones(email_hmac) WHERE email_hmac IS NOT NULL;
CREATE INDEX tombstones_phone ON tombstones(phone_hmac) WHERE phone_hmac IS NOT NULL;
CREATE TRIGGER tombstones_no_delete BEFORE DELETE ON tombstones
BEGIN SELECT RAISE(ABORT, 'tombstones are kept'); END;
CREATE TRIGGER tombstones_no_update
BEFORE UPDATE OF contact_id, email_hmac, phone_hmac, erased_at, requested_by, ground, cascaded_from
ON tombstones
BEGIN SELECT RAISE(ABORT, 'a tombstone can only be marked superseded'); END;

-- The logs stay append-only, except that an erasure scrubs what an operator
-- typed about an erased contact: the decision chain hashes only
-- `justification_sha256`, so it still verifies.
DROP TRIGGER decisions_no_update;
CREATE TRIGGER decisions_no_update BEFORE UPDATE OF
    id, at, recorded_at, contact_id, channel, outcome, reason_code, reason_id,
    justification_sha256, subscription_type_id, summary, recipients, plugin_sha256,
    request, actor, prev_hash, hash ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER decisions_scrub_only_erased BEFORE UPDATE OF justification ON decisions
WHEN NEW.justification IS NOT NULL
    OR NOT EXISTS (SELECT 1 FROM tombstones WHERE contact_id = OLD.contact_id)
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;

-- The timeline gains `erasure` and `rectification`, and its rows of an
-- erased contact may be deleted (and only those).
CREATE TABLE contact_timeline_v3 (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN
        ('created', 'consent_change', 'justification', 'preference', 'flag', 'purpose',
         'relation', 'notification', 'erasure', 'rectification')),
    summary TEXT NOT NULL,
    actor TEXT NOT NULL,
    ledger_seq INTEGER REFERENCES ledger(seq),
    decision_id INTEGER REFERENCES decisions(id)
) STRICT;
INSERT INTO contact_timeline_v3 SELECT * FROM contact_timeline;
DROP TABLE contact_timeline;
ALTER TABLE contact_timeline_v3 RENAME TO contact_timeline;
CREATE INDEX contact_timeline_contact ON contact_timeline(contact_id, at, id);
CREATE TRIGGER contact_timeline_no_update BEFORE UPDATE ON contact_timeline
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
CREATE TRIGGER contact_timeline_no_delete BEFORE DELETE ON contact_timeline
WHEN NOT EXISTS (SELECT 1 FROM tombstones WHERE contact_id = OLD.contact_id)
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;

-- iPresso: contact types and typed relation types an admin can add. Neither
-- changes a decision (hooks read neither), so neither is projected; what an
-- erasure did is in the ledger as each erased contact's row.
CREATE TABLE contact_types (
    code TEXT PRIMARY KEY CHECK (code <> ''),
    name TEXT NOT NULL,
    built_in INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1)),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO contact_types VALUES
    ('person', 'Person', 1, unixepoch(), 'crm-consent'),
    ('company', 'Company', 1, unixepoch(), 'crm-consent'),
    ('device', 'Device', 1, unixepoch(), 'crm-consent'),
    ('car', 'Car', 1, unixepoch(), 'crm-consent');
INSERT OR IGNORE INTO contact_types SELECT DISTINCT kind, kind, 0, unixepoch(), 'upgrade'
    FROM contacts WHERE true;

-- "from is <code> of to". `cascade`: erasing `from` erases `to` (from_to),
-- erasing `to` erases `from` (to_from), or neither (none); one level only.
CREATE TABLE relation_types (
    code TEXT PRIMARY KEY CHECK (code <> ''),
    name TEXT NOT NULL,
    from_type TEXT REFERENCES contact_types(code),
    to_type TEXT REFERENCES contact_types(code),
    cascade TEXT NOT NULL CHECK (cascade IN ('none', 'from_to', 'to_from')),
    built_in INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1)),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO relation_types VALUES
    ('employee_company', 'Employee of a company', 'person', 'company', 'none', 1, unixepoch(), 'crm-consent'),
    ('parent_child', 'Parent of a child', 'person', 'person', 'from_to', 1, unixepoch(), 'crm-consent'),
    ('user_device', 'User of a device', 'person', 'device', 'from_to', 1, unixepoch(), 'crm-consent'),
    ('student_faculty', 'Student of a faculty', 'person', NULL, 'to_from', 1, unixepoch(), 'crm-consent'),
    ('faculty_university', 'Faculty of a university', NULL, NULL, 'to_from', 1, unixepoch(), 'crm-consent');
INSERT OR IGNORE INTO relation_types
    SELECT DISTINCT kind, kind, NULL, NULL, 'none', 0, unixepoch(), 'upgrade'
    FROM contact_relations WHERE true;
"#;

const CAMPAIGNS: &str = r#"
-- Issue 9: consent campaigns (iPresso's "delete contact" step). A campaign
-- asks its contacts for one consent on a date and gives them a window; after
-- it, `retention run` erases those who did not give it. Not read by any hook,
-- so not projected: the erasures it makes are in the ledger, and each
-- member's outcome here names the run that decided it.
CREATE TABLE consent_campaigns (
    id INTEGER PRIMARY KEY,
    consent_type_id INTEGER NOT NULL REFERENCES consent_types(id),
    asked_at INTEGER NOT NULL,
    window_days INTEGER NOT NULL CHECK (window_days BETWEEN 1 AND 3650),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT;

-- `outcome` is NULL until the run after the window decides: `kept` (the
-- consent was given), `erased`, or `already_erased`.
CREATE TABLE consent_campaign_members (
    campaign_id INTEGER NOT NULL REFERENCES consent_campaigns(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('kept', 'erased', 'already_erased')),
    decided_at INTEGER,
    decided_by TEXT,
    PRIMARY KEY (campaign_id, contact_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX consent_campaign_members_open ON consent_campaign_members(campaign_id)
    WHERE outcome IS NULL;
-- A decided outcome is final: a second run must not undo or redo it.
CREATE TRIGGER consent_campaign_members_final BEFORE UPDATE ON consent_campaign_members
    WHEN OLD.outcome IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a campaign member''s outcome is final'); END;
"#;

const CHAIN: &str = r#"
-- Issue 11: chained rule packs. A plugin with a `chain_position` decides
-- after the active plugin, in position order, and the strictest answer
-- wins. Hooks read it, so it is a column of the projected `plugins` table:
-- every change is a `row_put` in the ledger and `ledger verify` rebuilds
-- the chain like the active flag. Rows put before this migration have no
-- such column, and rebuild as NULL: not in the chain, as they were.
ALTER TABLE plugins ADD COLUMN chain_position INTEGER
    CHECK (chain_position IS NULL OR (chain_position BETWEEN 1 AND 7 AND active = 0));
CREATE UNIQUE INDEX plugins_chain_position ON plugins(chain_position)
    WHERE chain_position IS NOT NULL;
"#;

const DECISION_CONFIGS: &str = r#"
-- The plugin configs logged decisions were made under, each stored once and
-- cited from a row's `request` by `config_sha256` (store/decision_configs.rs):
-- at about 2 KB, the config was most of every logged deny. Content-addressed:
-- `ledger verify` hashes each text again, and the chain covers the citation.
-- Rows logged before keep their config inline.
CREATE TABLE decision_configs (
    sha256 TEXT PRIMARY KEY,
    config TEXT NOT NULL CHECK (json_valid(config))
) STRICT;
CREATE TRIGGER decision_configs_no_update BEFORE UPDATE ON decision_configs
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER decision_configs_no_delete BEFORE DELETE ON decision_configs
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
"#;

const CHECK_LISTS: &str = r#"
-- The decision log's CHECKs on `channel` and `outcome` as comparisons
-- instead of `IN (...)` lists. SQLite evaluates a list of three or more
-- constants through a temporary b-tree that every INSERT builds anew: under
-- the dial hook's load, 3-5% of the server's CPU per decision in A/B rounds.
-- Both forms accept exactly the same values, and a CHECK is no part of the
-- file's format, so the table's definition is edited in place (SQLite's
-- documented procedure for changing a CHECK, lang_altertable.html,
-- "otheralter") instead of copying the whole log into a new table. The
-- edit changes nothing where the text is not found. `migrate` then bumps
-- the schema cookie, so every other connection reads the schema again.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(replace(sql,
    'CHECK (channel IN (''bulk_email'', ''single_email'', ''phone'', ''sms''))',
    'CHECK (channel = ''bulk_email'' OR channel = ''single_email''
        OR channel = ''phone'' OR channel = ''sms'')'),
    'CHECK (outcome IN (''allow'', ''deny'', ''justify'', ''justified''))',
    'CHECK (outcome = ''allow'' OR outcome = ''deny''
        OR outcome = ''justify'' OR outcome = ''justified'')')
WHERE type = 'table' AND name = 'decisions';
PRAGMA writable_schema = RESET;
"#;

/// The migrations, in order; `user_version` counts how many have run.
pub(super) const MIGRATIONS: &[&str] = &[
    VOCABULARIES,
    CONTACTS,
    CATALOG,
    CONTACT_STATE,
    LEDGER,
    DECISIONS,
    PLUGINS,
    API,
    NOTIFY,
    LINKS,
    RIGHTS,
    CAMPAIGNS,
    CHAIN,
    DECISION_CONFIGS,
    CHECK_LISTS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_applies_to_an_empty_database() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
    }
}
