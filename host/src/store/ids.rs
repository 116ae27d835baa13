//! Typed ids. Catalog ids are `u32` because the WIT contract carries them as
//! `u32`; rows that grow without bound (contacts, ledger, decisions) use `i64`,
//! SQLite's native integer. Each id is stored as a plain INTEGER column.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$inner> for $name {
            fn from(raw: $inner) -> Self {
                $name(raw)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                <$inner>::column_result(value).map($name)
            }
        }
    };
}

typed_id!(
    /// A person, company, device or any other contact.
    ContactId(i64)
);
typed_id!(
    /// A typed link between two contacts.
    RelationId(i64)
);
typed_id!(
    /// A kind of consent an admin defines ("Newsletter", "Phone marketing").
    ConsentTypeId(u32)
);
typed_id!(
    /// A consent status, built in or custom.
    StatusId(u32)
);
typed_id!(
    /// A way of giving consent (CRM form, email, paper, ...).
    MethodId(u32)
);
typed_id!(
    /// A justification reason an operator picks to contact without consent.
    ReasonId(u32)
);
typed_id!(
    /// A purpose of processing, with its default legal basis (SuperOffice).
    PurposeId(u32)
);
typed_id!(
    /// A mailing list contacts opt in to or out of (SuperOffice, HubSpot).
    SubscriptionTypeId(u32)
);
typed_id!(
    /// Position of an entry in the consent ledger, starting at 1, without gaps.
    LedgerSeq(i64)
);
typed_id!(
    /// A row of the decision log: one plugin answer or one operator's
    /// justification.
    DecisionId(i64)
);
typed_id!(
    /// An installed plugin component.
    PluginId(i64)
);
typed_id!(
    /// A message in the outbox, waiting for the CRM to deliver it.
    OutboxId(i64)
);
