//! The one mapping between the contract's WIT types and the rules' types.
//!
//! The same WIT reaches Rust twice: through wit-bindgen inside the component
//! (`guest`), and through wasmtime's `bindgen!` in the host, whose tests and
//! benches run these rules natively beside the component. The generated
//! types differ but have the same names and fields, so one macro writes the
//! conversions for both; a case added to the WIT fails to compile on both
//! sides until it is mapped here.

/// Writes the conversions between the WIT types in module `$w` and the rules
/// in module `$r`: `channel`, `status`, `basis`, `state`, `code`, `outcome`
/// (and `wit_*` for the way back), `flags`, `consent`, `purpose_basis`,
/// `preference`, `batch_columns`, `request` and `config`. Call it in a module that names the
/// two modules, e.g. `use crm_consent::wit as w; use
/// crm_consent_plugin::rules as r; crm_consent_plugin::wit_mapping!(w, r);`.
/// `wit_mapping!(@facts w, r)` writes all but `config`, for a contract
/// version whose config is spelled otherwise.
#[doc(hidden)]
#[macro_export]
macro_rules! wit_mapping {
    ($w:ident, $r:ident) => {
        $crate::wit_mapping!(@facts $w, $r);
        $crate::wit_mapping!(@config $w, $r);
    };
    // Everything but the config, which a contract version may spell
    // otherwise (0.1 named the permissions and switches differently).
    (@facts $w:ident, $r:ident) => {
        $crate::wit_mapping!(@enum $w, $r, channel, wit_channel, Channel
            [BulkEmail, SingleEmail, Phone, Sms]);
        $crate::wit_mapping!(@enum $w, $r, status, wit_status, ConsentStatus
            [Requested, Given, Renewed, Refused, Withdrawn, Revoked, Expired, Invalidated]);
        $crate::wit_mapping!(@enum $w, $r, basis, wit_basis, LegalBasis
            [Consent, Contract, LegalObligation, VitalInterest, PublicInterest,
             OfficialAuthority, LegitimateInterest, Withdrawn]);
        $crate::wit_mapping!(@enum $w, $r, state, wit_state, SubscriptionState
            [OptedIn, NotSpecified, OptedOut]);
        $crate::wit_mapping!(@enum $w, $r, code, wit_code, ReasonCode
            [Consent, LegalBasis, NotChecked, NoConsent, ConsentExpired, ConsentWithdrawn,
             ConsentRefused, BasisWithdrawn, Objected, Restricted, OptedOutOfAll, OptedOut,
             NotOptedIn, UnknownSubscriptionType, NoReasonsConfigured, PluginFault]);
        $crate::wit_mapping!(@enum $w, $r, outcome, wit_outcome, Outcome [Allow, Deny, Justify]);

        #[allow(dead_code)]
        pub fn flags(f: $w::ContactFlags) -> $r::ContactFlags {
            // Both generators give flags `&` and `==`; only one has `contains`.
            let has = |flag: $w::ContactFlags| (f & flag) == flag;
            $r::ContactFlags {
                restricted: has($w::ContactFlags::RESTRICTED),
                objected: has($w::ContactFlags::OBJECTED),
                opted_out_of_all: has($w::ContactFlags::OPTED_OUT_OF_ALL),
            }
        }

        #[allow(dead_code)]
        pub fn consent(c: &$w::ConsentRecord) -> $r::ConsentRecord {
            $r::ConsentRecord {
                type_id: c.type_id,
                status: status(c.status),
                legal_basis: basis(c.legal_basis),
                given_at: c.given_at,
                method_id: c.method_id,
            }
        }

        #[allow(dead_code)]
        pub fn purpose_basis(b: &$w::PurposeBasis) -> $r::PurposeBasis {
            $r::PurposeBasis {
                purpose_id: b.purpose_id,
                legal_basis: basis(b.legal_basis),
            }
        }

        #[allow(dead_code)]
        pub fn preference(p: &$w::Preference) -> $r::Preference {
            $r::Preference {
                subscription_type_id: p.subscription_type_id,
                state: state(p.state),
            }
        }

        /// The batch's columns as the rules read them, borrowed: nothing
        /// is copied.
        #[allow(dead_code)]
        pub fn batch_columns(b: &$w::ContactBatch) -> $r::Columns<'_> {
            $r::Columns {
                flags: &b.flags,
                consent_counts: &b.consent_counts,
                basis_counts: &b.basis_counts,
                preference_counts: &b.preference_counts,
                consent_types: &b.consent_types,
                consent_statuses: &b.consent_statuses,
                consent_given_at: &b.consent_given_at,
                basis_purposes: &b.basis_purposes,
                basis_legal_bases: &b.basis_legal_bases,
                preference_types: &b.preference_types,
                preference_states: &b.preference_states,
            }
        }

        /// The catalog lists every contract version spells alike.
        #[allow(dead_code)]
        pub fn reasons(x: &[$w::JustificationReason]) -> Vec<$r::Reason> {
            x.iter()
                .map(|x| $r::Reason {
                    id: x.id,
                    code: x.code.clone(),
                    label: x.label.clone(),
                })
                .collect()
        }

        #[allow(dead_code)]
        pub fn purposes(x: &[$w::Purpose]) -> Vec<$r::Purpose> {
            x.iter()
                .map(|p| $r::Purpose {
                    id: p.id,
                    code: p.code.clone(),
                    name: p.name.clone(),
                    legal_basis: basis(p.legal_basis),
                    direct_marketing: p.direct_marketing,
                })
                .collect()
        }

        #[allow(dead_code)]
        pub fn subscription_types(x: &[$w::SubscriptionType]) -> Vec<$r::SubscriptionType> {
            x.iter()
                .map(|s| $r::SubscriptionType {
                    id: s.id,
                    code: s.code.clone(),
                    name: s.name.clone(),
                    requires_opt_in: s.requires_opt_in,
                })
                .collect()
        }

        #[allow(dead_code)]
        pub fn request(q: &$w::Request) -> $r::Request {
            $r::Request {
                channel: channel(q.channel),
                purpose: q.purpose,
                subscription_type: q.subscription_type,
                now: q.now,
            }
        }
    };
    (@config $w:ident, $r:ident) => {
        #[allow(dead_code)]
        pub fn config(c: &$w::Config) -> $r::Config {
            $r::Config {
                consent_types: c
                    .consent_types
                    .iter()
                    .map(|t| $r::ConsentType {
                        id: t.id,
                        code: t.code.clone(),
                        title: t.title.clone(),
                        text_version: t.text_version,
                        validity_days: t.validity_days,
                        allow_bulk_email: t.allow_bulk_email,
                        allow_single_email: t.allow_single_email,
                        allow_phone: t.allow_phone,
                    })
                    .collect(),
                reasons: reasons(&c.reasons),
                purposes: purposes(&c.purposes),
                subscription_types: subscription_types(&c.subscription_types),
                switches: $r::Switches {
                    check_single_email: c.switches.check_single_email,
                    check_bulk_email: c.switches.check_bulk_email,
                    check_phone: c.switches.check_phone,
                    e_marketing_privacy: c.switches.e_marketing_privacy,
                },
            }
        }
    };
    (@enum $w:ident, $r:ident, $to_rules:ident, $to_wit:ident, $ty:ident [$($v:ident),* $(,)?]) => {
        #[allow(dead_code)]
        pub fn $to_rules(x: $w::$ty) -> $r::$ty {
            match x {
                $($w::$ty::$v => $r::$ty::$v,)*
            }
        }

        #[allow(dead_code)]
        pub fn $to_wit(x: $r::$ty) -> $w::$ty {
            match x {
                $($r::$ty::$v => $w::$ty::$v,)*
            }
        }
    };
}
