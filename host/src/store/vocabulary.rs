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
#[error("unknown {what} \"{value}\"")]
pub struct ParseError {
    pub what: &'static str,
    pub value: String,
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
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant = $code,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The integer stored in projection tables.
            pub const fn code(self) -> u8 {
                self as u8
            }

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
                    .ok_or_else(|| ParseError { what: $what, value: s.to_owned() })
            }
        }
    };
}

closed_enum!(
    /// Consent states after W3C DPV. Every status, built in or custom, means
    /// exactly one of these.
    ConsentStatus, "DPV consent status" {
        Requested = 0, "requested";
        Given = 1, "given";
        Renewed = 2, "renewed";
        Refused = 3, "refused";
        Withdrawn = 4, "withdrawn";
        Revoked = 5, "revoked";
        Expired = 6, "expired";
        Invalidated = 7, "invalidated";
    }
);

closed_enum!(
    /// GDPR Art. 6(1) legal bases, plus `withdrawn` (SuperOffice: "No mailings").
    LegalBasis, "legal basis" {
        Consent = 0, "consent";
        Contract = 1, "contract";
        LegalObligation = 2, "legal_obligation";
        VitalInterest = 3, "vital_interest";
        PublicInterest = 4, "public_interest";
        OfficialAuthority = 5, "official_authority";
        LegitimateInterest = 6, "legitimate_interest";
        Withdrawn = 7, "withdrawn";
    }
);

closed_enum!(
    /// A contact's choice for one subscription type (HubSpot).
    SubscriptionState, "subscription state" {
        OptedIn = 0, "opted_in";
        NotSpecified = 1, "not_specified";
        OptedOut = 2, "opted_out";
    }
);

closed_enum!(
    /// A way of reaching a contact.
    Channel, "channel" {
        BulkEmail = 0, "bulk_email";
        SingleEmail = 1, "single_email";
        Phone = 2, "phone";
        Sms = 3, "sms";
    }
);

closed_enum!(
    /// What happened to a request. `Justified` is the operator going on after
    /// a `Justify` decision, with a reason.
    Outcome, "decision outcome" {
        Allow = 0, "allow";
        Deny = 1, "deny";
        Justify = 2, "justify";
        Justified = 3, "justified";
    }
);

closed_enum!(
    /// What a timeline entry is about.
    TimelineKind, "timeline entry kind" {
        Created = 0, "created";
        ConsentChange = 1, "consent_change";
        Justification = 2, "justification";
        Preference = 3, "preference";
        Flag = 4, "flag";
        Purpose = 5, "purpose";
        Relation = 6, "relation";
    }
);

/// Art. 18 / Art. 21 / opt-out-of-all flags of one contact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        $name:ident { $($variant:ident => $text:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "String", try_from = "String")]
        pub enum $name {
            $($variant,)*
            /// Any other kind an admin uses; stored as written.
            Other(String),
        }

        impl $name {
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
                if text.is_empty() {
                    return Err(ParseError { what: stringify!($name), value: s.to_owned() });
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
    ContactKind {
        Person => "person",
        Company => "company",
        Device => "device",
    }
);

open_enum!(
    /// How two contacts are related, read as "from is <kind> of to"
    /// (iPresso: employee–company, parent–child, user–device, ...).
    RelationKind {
        EmployeeCompany => "employee_company",
        ParentChild => "parent_child",
        UserDevice => "user_device",
        StudentFaculty => "student_faculty",
        FacultyUniversity => "faculty_university",
    }
);
