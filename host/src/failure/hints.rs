//! What to do next, for the errors whose message does not say it.

use crate::hooks::HookError;
use crate::import::ImportError;
use crate::pages::PageError;
use crate::setup::SetupError;
use crate::store::{Catalog, StoreError};

/// The hint of the outermost cause that has one.
pub(super) fn hint(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|cause| {
        let store = cause
            .downcast_ref::<StoreError>()
            .or_else(|| match cause.downcast_ref::<HookError>() {
                Some(HookError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<SetupError>() {
                Some(SetupError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<PageError>() {
                Some(PageError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<ImportError>() {
                Some(ImportError::Store(e)) => Some(e),
                _ => None,
            });
        if let Some(e) = store {
            return store_hint(e);
        }
        match cause.downcast_ref::<HookError>()? {
            HookError::ReasonNotOffered { .. } => Some(
                "run `crm-consent check send|dial|sms <contact>` to see the reasons offered"
                    .to_owned(),
            ),
            _ => None,
        }
    })
}

fn store_hint(e: &StoreError) -> Option<String> {
    let list = |command: &str| Some(format!("list them with `crm-consent {command}`"));
    match e {
        StoreError::UnknownCode { kind, .. } | StoreError::UnknownId { kind, .. } => {
            list(catalog_command(*kind))
        }
        StoreError::UnknownContact(_) => list("contacts list"),
        StoreError::UnknownReason(_) => list("reasons list"),
        StoreError::UnknownPlugin(_) => list("setup list"),
        StoreError::UnknownMessage(_) => list("outbox list --all"),
        _ => None,
    }
}

/// The command that lists a catalog.
fn catalog_command(kind: Catalog) -> &'static str {
    match kind {
        Catalog::ConsentType => "types list",
        Catalog::Status => "statuses list",
        Catalog::Method => "methods list",
        Catalog::Reason => "reasons list",
        Catalog::Purpose => "purposes list",
        Catalog::SubscriptionType => "subscriptions list",
    }
}
