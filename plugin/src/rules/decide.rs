//! The decision for one contact and one request.
//!
//! The steps run in a fixed order, and the first one that answers wins. The
//! order puts the contact's rights first (restriction, objection, their own
//! subscription choices), then the admin's switches, then consent records,
//! then other legal bases, and finally asks the operator for a reason.

use alloc::vec::Vec;

use super::config::Policy;
use super::consent::{ConsentSummary, summarize, switch_on};
use super::types::{
    Channel, ConsentStatus, Contact, ContactFlags, Decision, LegalBasis, Outcome, ReasonCode,
    Request, SubscriptionState, Timestamp, Verdict,
};

/// A decision without its reasons list: what [`Policy::verdict`] needs and
/// what [`Policy::decide`] expands. Copy, so the hot path never allocates.
///
/// It has the shape of the WIT `decision`, which the component returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ruling {
    /// Go ahead.
    Allow {
        /// `Consent`, `LegalBasis` or `NotChecked`.
        code: ReasonCode,
        /// The consent type that allowed it, when `code` is `Consent`.
        consent_type: Option<u32>,
        /// The legal basis that allowed it, when `code` is `LegalBasis`.
        legal_basis: Option<LegalBasis>,
        /// The earliest expiry among the records that allowed it.
        valid_until: Option<Timestamp>,
    },
    /// Do not contact, for this reason.
    Deny(ReasonCode),
    /// The operator must pick one of [`Policy::reasons`], and the choice is
    /// recorded (Italian CRM plugin); the code is `NoConsent` or
    /// `ConsentExpired`.
    Justify(ReasonCode),
}

impl Ruling {
    const NOT_CHECKED: Ruling = Ruling::Allow {
        code: ReasonCode::NotChecked,
        consent_type: None,
        legal_basis: None,
        valid_until: None,
    };

    /// The batch form of this ruling: outcome and code.
    pub fn verdict(self) -> Verdict {
        match self {
            Ruling::Allow { code, .. } => Verdict {
                outcome: Outcome::Allow,
                code,
            },
            Ruling::Deny(code) => Verdict {
                outcome: Outcome::Deny,
                code,
            },
            Ruling::Justify(code) => Verdict {
                outcome: Outcome::Justify,
                code,
            },
        }
    }
}

impl Policy {
    /// Decides whether `req` may reach `contact`. Allocates only for the
    /// reasons list of a `Justify`.
    pub fn decide(&self, contact: Contact<'_>, req: &Request) -> Decision {
        match self.rule(contact, req) {
            Ruling::Allow {
                code,
                consent_type,
                legal_basis,
                valid_until,
            } => Decision::Allow {
                code,
                consent_type,
                legal_basis,
                valid_until,
            },
            Ruling::Deny(code) => Decision::Deny { code },
            Ruling::Justify(code) => Decision::Justify {
                code,
                reasons: Vec::from(self.reasons.as_slice()),
            },
        }
    }

    /// The same decision as [`Policy::decide`], reduced to outcome and code;
    /// never allocates.
    pub fn verdict(&self, contact: Contact<'_>, req: &Request) -> Verdict {
        self.rule(contact, req).verdict()
    }

    /// The rules, in order. Every path of `decide`, `verdict` and the batch
    /// goes through here:
    ///
    /// 1. restricted (Art. 18): deny;
    /// 2. objected, for direct marketing (Art. 21(3): objection is absolute): deny;
    /// 3. for a newsletter, an opt-out, a missing required opt-in or an
    ///    unknown subscription type (Art. 7(3), Art. 21(2); HubSpot): deny;
    /// 4. consent checks switched off for the channel (Italian CRM plugin):
    ///    allow, `NotChecked`;
    /// 5. a withdrawn, then a refused consent for the channel (least
    ///    permissive wins, after Salesforce): deny;
    /// 6. the contact's basis for the purpose withdrawn (SuperOffice): deny;
    /// 7. a valid consent (Art. 6(1)(a)): allow, with the earliest expiry;
    /// 8. another legal basis for the purpose (Art. 6(1)(b)-(f)): allow;
    /// 9. otherwise a newsletter is denied, and one-to-one contact needs a
    ///    justification (denied if no reasons are configured).
    pub fn rule(&self, contact: Contact<'_>, req: &Request) -> Ruling {
        self.rule_for(&contact, req)
    }

    /// [`Policy::rule`] over any layout of a contact's facts: the records
    /// of [`Contact`], or a batch's columns read in place.
    pub(crate) fn rule_for<F: Facts>(&self, contact: &F, req: &Request) -> Ruling {
        let flags = contact.flags();
        let bulk = req.channel == Channel::BulkEmail;

        // 1. Art. 18: while processing is restricted, nobody is contacted, on
        //    any channel, whatever the switches say.
        if flags.restricted {
            return Ruling::Deny(ReasonCode::Restricted);
        }

        // 2. Art. 21(3): an objection to direct marketing is absolute, also
        //    when the admin switched consent checks off.
        if flags.objected && self.is_direct_marketing(req) {
            return Ruling::Deny(ReasonCode::Objected);
        }

        // 3. Subscription choices are always honoured: an unsubscribe must
        //    always work (Art. 7(3), Art. 21(2); HubSpot "opt out of all").
        if bulk && let Some(code) = self.subscription_denial(contact, req.subscription_type) {
            return Ruling::Deny(code);
        }

        // 4. Consent checking is off for this channel (Italian CRM plugin).
        if !switch_on(&self.switches, req.channel) {
            return Ruling::NOT_CHECKED;
        }

        // 5. Least permissive wins (Salesforce): one withdrawn or refused
        //    record of a type covering this channel outweighs any given one.
        let summary: ConsentSummary = summarize(self, contact.consents(), req.channel, req.now);
        if summary.withdrawn {
            return Ruling::Deny(ReasonCode::ConsentWithdrawn);
        }
        if summary.refused {
            return Ruling::Deny(ReasonCode::ConsentRefused);
        }

        // 6. SuperOffice: a purpose whose basis was withdrawn ("No mailings")
        //    stops contact for that purpose, even with a consent on file.
        if let Some(p) = req.purpose
            && contact
                .bases()
                .any(|(purpose, basis)| purpose == p && basis == LegalBasis::Withdrawn)
        {
            return Ruling::Deny(ReasonCode::BasisWithdrawn);
        }

        // 7. Art. 6(1)(a): a valid consent; report the one that runs out first
        //    so the CRM can ask for renewal in time.
        if let Some((type_id, until)) = summary.best {
            return Ruling::Allow {
                code: ReasonCode::Consent,
                consent_type: Some(type_id),
                legal_basis: None,
                valid_until: until,
            };
        }

        // 8. Art. 6(1)(b)-(f): another legal basis for the purpose.
        if let Some(basis) = self.granting_basis(contact, req) {
            return Ruling::Allow {
                code: ReasonCode::LegalBasis,
                consent_type: None,
                legal_basis: Some(basis),
                valid_until: None,
            };
        }

        // 9. No ground. A newsletter has nobody to give a reason, so it is
        //    denied; one-to-one contact asks the operator for a justification
        //    (Italian CRM plugin).
        let why = if summary.expired {
            ReasonCode::ConsentExpired
        } else {
            ReasonCode::NoConsent
        };
        if bulk {
            Ruling::Deny(why)
        } else if self.reasons.is_empty() {
            Ruling::Deny(ReasonCode::NoReasonsConfigured)
        } else {
            Ruling::Justify(why)
        }
    }

    /// Whether an Art. 21(3) objection covers this request. A newsletter is
    /// always direct marketing; one-to-one contact is when its purpose is, or
    /// when the purpose is unknown (assume the least permissive).
    fn is_direct_marketing(&self, req: &Request) -> bool {
        if req.channel == Channel::BulkEmail {
            return true;
        }
        match req.purpose {
            None => true,
            Some(p) => self.purpose(p).is_none_or(|p| p.direct_marketing),
        }
    }

    /// Step 3, for newsletters only.
    fn subscription_denial<F: Facts>(&self, contact: &F, sub: Option<u32>) -> Option<ReasonCode> {
        let Some(id) = sub else {
            return contact
                .flags()
                .opted_out_of_all
                .then_some(ReasonCode::OptedOutOfAll);
        };
        let Some(sub) = self.subscription_type(id) else {
            return Some(ReasonCode::UnknownSubscriptionType);
        };
        if contact.flags().opted_out_of_all {
            return Some(ReasonCode::OptedOutOfAll);
        }
        // Several preferences for one type: least permissive wins, so one
        // opt-out beats any opt-in; no preference at all is "not specified".
        let state = contact
            .preferences()
            .filter(|&(type_id, _)| type_id == id)
            .map(|(_, state)| state)
            .fold(None, |acc: Option<SubscriptionState>, s| {
                Some(match acc {
                    None => s,
                    Some(a) => least_permissive(a, s),
                })
            })
            .unwrap_or(SubscriptionState::NotSpecified);
        match state {
            SubscriptionState::OptedOut => Some(ReasonCode::OptedOut),
            SubscriptionState::NotSpecified if sub.requires_opt_in => Some(ReasonCode::NotOptedIn),
            _ => None,
        }
    }

    /// Step 8: the contact's legal basis for the request's purpose (or the
    /// purpose's configured default when the contact has none), if it grants
    /// this channel. With several bases for the purpose, least permissive
    /// wins: every one must grant, and the first is reported.
    fn granting_basis<F: Facts>(&self, contact: &F, req: &Request) -> Option<LegalBasis> {
        let p = req.purpose?;
        let grants =
            |b: LegalBasis| basis_grants(b, req.channel, self.switches.e_marketing_privacy);
        let mut own = contact
            .bases()
            .filter(|&(purpose, _)| purpose == p)
            .map(|(_, basis)| basis);
        match own.next() {
            Some(first) => (grants(first) && own.all(grants)).then_some(first),
            None => {
                let default = self.purpose(p)?.default_basis;
                grants(default).then_some(default)
            }
        }
    }
}

/// What the rules read of a contact, whatever its layout.
pub(crate) trait Facts {
    fn flags(&self) -> ContactFlags;
    /// (type id, status, given at) of each consent record.
    fn consents(&self) -> impl Iterator<Item = (u32, ConsentStatus, Timestamp)>;
    /// (purpose id, legal basis) of each purpose basis.
    fn bases(&self) -> impl Iterator<Item = (u32, LegalBasis)>;
    /// (subscription type id, state) of each preference.
    fn preferences(&self) -> impl Iterator<Item = (u32, SubscriptionState)>;
}

impl Facts for Contact<'_> {
    fn flags(&self) -> ContactFlags {
        self.flags
    }

    fn consents(&self) -> impl Iterator<Item = (u32, ConsentStatus, Timestamp)> {
        self.consents
            .iter()
            .map(|r| (r.type_id, r.status, r.given_at))
    }

    fn bases(&self) -> impl Iterator<Item = (u32, LegalBasis)> {
        self.bases.iter().map(|b| (b.purpose_id, b.legal_basis))
    }

    fn preferences(&self) -> impl Iterator<Item = (u32, SubscriptionState)> {
        self.preferences
            .iter()
            .map(|p| (p.subscription_type_id, p.state))
    }
}

fn least_permissive(a: SubscriptionState, b: SubscriptionState) -> SubscriptionState {
    use SubscriptionState::*;
    match (a, b) {
        (OptedOut, _) | (_, OptedOut) => OptedOut,
        (NotSpecified, _) | (_, NotSpecified) => NotSpecified,
        (OptedIn, OptedIn) => OptedIn,
    }
}

/// Whether a legal basis other than consent lets this channel through.
/// Newsletters need consent unless the admin turned e-marketing privacy off,
/// in which case a legitimate interest is enough (ePrivacy soft opt-in,
/// SuperOffice's e-marketing on legitimate interest).
fn basis_grants(basis: LegalBasis, channel: Channel, e_marketing_privacy: bool) -> bool {
    use LegalBasis::*;
    match channel {
        Channel::BulkEmail => basis == LegitimateInterest && !e_marketing_privacy,
        Channel::SingleEmail | Channel::Sms | Channel::Phone => matches!(
            basis,
            Contract
                | LegalObligation
                | VitalInterest
                | PublicInterest
                | OfficialAuthority
                | LegitimateInterest
        ),
    }
}
