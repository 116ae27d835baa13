//! The store's own closed vocabularies. They mirror the WIT enums but do not
//! depend on them: `hooks` maps one to the other, so the store stays free of
//! wasmtime.
//!
//! Each closed enum has a stable small integer `code()`, used in the hot
//! projection tables (read a million times per newsletter), and a snake_case
//! name, used where people read the data (the ledger, the decision log). The
//! codes are seeded into lookup tables by the schema so that SQL joins can
//! show the names and foreign keys reject anything else.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A name that is not part of a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; use one of: {}", valid.join(", "))]
pub struct ParseError {
    /// The vocabulary, e.g. `legal basis`.
    pub what: &'static str,
    /// The name as given.
    pub value: String,
    /// The vocabulary's names.
    pub valid: &'static [&'static str],
}

/// Reads a text column holding one of our enum names.
pub(super) fn parse_column<T: FromStr<Err = ParseError>>(
    row: &rusqlite::Row<'_>,
    column: usize,
) -> rusqlite::Result<T> {
    let text = row.get_ref(column)?.as_str()?;
    text.parse().map_err(|e: ParseError| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
    })
}

macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal, $text:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant = $code,)*
        }

        impl $name {
            /// Every value, in code order: for pick lists, help texts and
            /// parsing.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The name of every value, in code order.
            pub const NAMES: &'static [&'static str] = &[$($text),*];

            /// The snake_case name, as the ledger and the decision log store
            /// it and as people read it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The integer stored in projection tables.
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The value behind a projection-table integer; `None` for one
            /// outside the vocabulary, which only a hand-edited file holds.
            pub const fn from_code(code: i64) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            /// Accepts snake_case and kebab-case (the WIT spelling).
            fn from_str(s: &str) -> Result<Self, ParseError> {
                let wanted = s.trim().replace('-', "_").to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| ParseError {
                        what: $what,
                        value: s.to_owned(),
                        valid: $name::NAMES,
                    })
            }
        }
    };
}

closed_enum!(
    /// What an HTTP API key may do. Each role includes the ones below it.
    Role, "role" {
        /// Read everything: contacts, consents, catalogs, decisions, the ledger.
        Reader = 0, "reader";
        /// A reader who also asks the hooks and records consent changes.
        Operator = 1, "operator";
        /// An operator who also installs plugins, sets switches and edits
        /// the catalogs.
        Admin = 2, "admin";
    }
);

closed_enum!(
    /// Consent states after W3C DPV. Every status, built in or custom, means
    /// exactly one of these.
    ConsentStatus, "DPV consent status" {
        /// The person was asked and has not answered yet.
        Requested = 0, "requested";
        /// The person agreed (Art. 6(1)(a), Art. 7).
        Given = 1, "given";
        /// The person agreed again to a consent given before.
        Renewed = 2, "renewed";
        /// The person was asked and said no.
        Refused = 3, "refused";
        /// The person withdrew a consent they gave (Art. 7(3)); it no longer
        /// counts from then on.
        Withdrawn = 4, "withdrawn";
        /// Someone other than the person ended the consent (DPV), e.g. the
        /// controller.
        Revoked = 5, "revoked";
        /// The consent outlived its validity period.
        Expired = 6, "expired";
        /// The consent was found not to meet the conditions for consent
        /// (Art. 7), so it never counted.
        Invalidated = 7, "invalidated";
    }
);

closed_enum!(
    /// GDPR Art. 6(1) legal bases, plus `withdrawn` (SuperOffice: "No mailings").
    LegalBasis, "legal basis" {
        /// Art. 6(1)(a): the person consented.
        Consent = 0, "consent";
        /// Art. 6(1)(b): needed to perform a contract with the person.
        Contract = 1, "contract";
        /// Art. 6(1)(c): needed to comply with a legal obligation.
        LegalObligation = 2, "legal_obligation";
        /// Art. 6(1)(d): needed to protect someone's vital interests.
        VitalInterest = 3, "vital_interest";
        /// Art. 6(1)(e): a task carried out in the public interest.
        PublicInterest = 4, "public_interest";
        /// Art. 6(1)(e): the exercise of official authority.
        OfficialAuthority = 5, "official_authority";
        /// Art. 6(1)(f): the controller's legitimate interests.
        LegitimateInterest = 6, "legitimate_interest";
        /// No basis any more: the person withdrew it (SuperOffice: "No
        /// mailings"). Nothing for the purpose may rely on it.
        Withdrawn = 7, "withdrawn";
    }
);

closed_enum!(
    /// A contact's choice for one subscription type (HubSpot).
    SubscriptionState, "subscription state" {
        /// The contact subscribed.
        OptedIn = 0, "opted_in";
        /// The contact never chose: a type that requires an opt-in is not
        /// sent.
        NotSpecified = 1, "not_specified";
        /// The contact unsubscribed.
        OptedOut = 2, "opted_out";
    }
);

closed_enum!(
    /// A way of reaching a contact.
    Channel, "channel" {
        /// A newsletter or any other mass mailing.
        BulkEmail = 0, "bulk_email";
        /// One email written to one contact.
        SingleEmail = 1, "single_email";
        /// A phone call.
        Phone = 2, "phone";
        /// A text message to one contact.
        Sms = 3, "sms";
    }
);

closed_enum!(
    /// What happened to a request. `Justified` is the operator going on after
    /// a `Justify` decision, with a reason.
    Outcome, "decision outcome" {
        /// The plugin allowed the request.
        Allow = 0, "allow";
        /// The plugin refused it.
        Deny = 1, "deny";
        /// The plugin found no valid consent but lets the operator go on with
        /// a justification (Italian CRM plugin).
        Justify = 2, "justify";
        /// The operator went on after a `Justify`, citing a reason; written by
        /// [`Store::log_justification`](super::Store::log_justification).
        Justified = 3, "justified";
    }
);

closed_enum!(
    /// What a timeline entry is about.
    TimelineKind, "timeline entry kind" {
        /// The contact was added.
        Created = 0, "created";
        /// A consent was recorded: given, refused, withdrawn, ...
        ConsentChange = 1, "consent_change";
        /// An operator went on without valid consent, citing a reason.
        Justification = 2, "justification";
        /// A subscription choice changed, or the contact opted out of all.
        Preference = 3, "preference";
        /// An Art. 18 restriction or Art. 21 objection was set or lifted.
        Flag = 4, "flag";
        /// The legal basis for one of the contact's purposes changed.
        Purpose = 5, "purpose";
        /// The contact was related to another one.
        Relation = 6, "relation";
        /// A staff notification about the contact was delivered, failed an
        /// attempt, or was given up.
        Notification = 7, "notification";
        /// The contact's personal data was erased (Art. 17), or a re-added
        /// contact gave consent again and its tombstone was superseded.
        Erasure = 8, "erasure";
        /// The contact's personal data was corrected (Art. 16).
        Rectification = 9, "rectification";
    }
);

closed_enum!(
    /// The ground of an erasure, Art. 17(1)(a)–(f).
    ErasureGround, "erasure ground" {
        /// (a) The data are no longer necessary for their purposes.
        NoLongerNecessary = 0, "no_longer_necessary";
        /// (b) The person withdrew the consent the processing rested on.
        ConsentWithdrawn = 1, "consent_withdrawn";
        /// (c) The person objected (Art. 21) and no overriding ground exists.
        Objection = 2, "objection";
        /// (d) The data were processed unlawfully.
        UnlawfulProcessing = 3, "unlawful_processing";
        /// (e) A legal obligation requires the erasure.
        LegalObligation = 4, "legal_obligation";
        /// (f) The data were collected from a child for online services (Art. 8(1)).
        ChildServices = 5, "child_services";
    }
);

closed_enum!(
    /// Whether erasing one side of a relation erases the other, one level
    /// only (iPresso).
    Cascade, "cascade" {
        /// Erasing either side erases nothing else.
        None = 0, "none";
        /// Erasing `from` erases `to` (parent_child: the parent takes its child).
        FromTo = 1, "from_to";
        /// Erasing `to` erases `from` (faculty_university: the university
        /// takes its faculties).
        ToFrom = 2, "to_from";
    }
);

/// Art. 18 / Art. 21 / opt-out-of-all flags of one contact.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct ContactFlags {
    /// Art. 18: processing is restricted.
    pub restricted: bool,
    /// Art. 21: the contact objected to direct marketing.
    pub objected: bool,
    /// The contact opted out of all subscriptions.
    pub opted_out_of_all: bool,
}

impl fmt::Display for ContactFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = [
            (self.restricted, "restricted"),
            (self.objected, "objected"),
            (self.opted_out_of_all, "opted_out_of_all"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect();
        if set.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&set.join(", "))
        }
    }
}

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "String", try_from = "String")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// Any other kind an admin uses; stored as written.
            Other(String),
        }

        // A string in JSON: a built-in name or an admin's own, never empty.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .min_length(Some(1))
                    .pattern(Some(r"\S"))
                    .examples([$($text),*])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            /// The name as stored and shown: the built-in snake_case name, or
            /// an admin's own kind as written.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            fn from_str(s: &str) -> Result<Self, ParseError> {
                let text = s.trim();
                // Any other name is an admin's own kind; only a blank one is
                // refused.
                if text.is_empty() {
                    return Err(ParseError {
                        what: $what,
                        value: s.to_owned(),
                        valid: &[$($text),*],
                    });
                }
                Ok(match text {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                })
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;

            fn try_from(value: String) -> Result<Self, ParseError> {
                value.parse()
            }
        }
    };
}

open_enum!(
    /// What a contact is (iPresso: person, company, device, car, ...).
    ContactKind, "contact kind" {
        /// A natural person: the data subject of the GDPR.
        Person => "person",
        /// A company or other organisation.
        Company => "company",
        /// A device (iPresso), tied to its user by a relation.
        Device => "device",
    }
);

open_enum!(
    /// How two contacts are related, read as "from is `<kind>` of to"
    /// (iPresso: employee–company, parent–child, user–device, ...).
    RelationKind, "relation kind" {
        /// `from` works for the company `to`.
        EmployeeCompany => "employee_company",
        /// `from` is a parent of `to`.
        ParentChild => "parent_child",
        /// `from` uses the device `to`.
        UserDevice => "user_device",
        /// `from` studies at the faculty `to`.
        StudentFaculty => "student_faculty",
        /// `from` is a faculty of the university `to`.
        FacultyUniversity => "faculty_university",
    }
);
