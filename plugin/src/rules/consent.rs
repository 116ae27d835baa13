//! Channels, switches and the validity of consent records.

use super::config::Policy;
use super::types::{Channel, ConsentStatus, Switches, Timestamp};

/// The permissions of a consent type, one bit per channel it can allow
/// (Italian CRM plugin: "allow bulk sends", "allow single email", "allow
/// contact by phone").
const BULK_EMAIL: u8 = 1;
const SINGLE_EMAIL: u8 = 2;
const PHONE: u8 = 4;

/// The bit set of the channels a consent type allows.
pub(crate) fn channel_mask(
    allow_bulk_email: bool,
    allow_single_email: bool,
    allow_phone: bool,
) -> u8 {
    (if allow_bulk_email { BULK_EMAIL } else { 0 })
        | (if allow_single_email { SINGLE_EMAIL } else { 0 })
        | (if allow_phone { PHONE } else { 0 })
}

/// The permission a channel needs. An SMS is a written message to one
/// person, so it rides on single email, not on the phone call.
pub(crate) fn channel_bit(channel: Channel) -> u8 {
    match channel {
        Channel::BulkEmail => BULK_EMAIL,
        Channel::SingleEmail | Channel::Sms => SINGLE_EMAIL,
        Channel::Phone => PHONE,
    }
}

/// Whether the admin asked for consent to be checked on this channel; SMS
/// goes with single email (Italian CRM plugin: "single mail", "mailing
/// list", "per contact").
pub fn switch_on(switches: &Switches, channel: Channel) -> bool {
    match channel {
        Channel::BulkEmail => switches.check_bulk_email,
        Channel::SingleEmail | Channel::Sms => switches.check_single_email,
        Channel::Phone => switches.check_phone,
    }
}

/// The second a consent given at `given_at` stops being valid, or `None` if
/// its type never expires. At exactly that second it is already expired.
/// Saturates so that an absurd timestamp cannot overflow.
pub fn expiry(given_at: Timestamp, validity_secs: Option<i64>) -> Option<Timestamp> {
    validity_secs.map(|secs| given_at.saturating_add(secs))
}

/// What a contact's relevant consent records add up to for one channel.
/// A record is relevant when its type is configured and allows the channel;
/// records of unknown types are ignored (the admin may have deleted the type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConsentSummary {
    /// Some relevant record is withdrawn or revoked (Art. 7(3)).
    pub withdrawn: bool,
    /// Some relevant record is refused.
    pub refused: bool,
    /// Some relevant record was given or renewed but its validity ran out,
    /// or is marked expired.
    pub expired: bool,
    /// The valid record with the earliest expiry (the first valid one if
    /// none expires): its type id and its expiry.
    pub best: Option<(u32, Option<Timestamp>)>,
}

/// One pass over the records: the decision needs withdrawn, refused, valid
/// and expired all at once, so they are gathered together.
pub(crate) fn summarize(
    policy: &Policy,
    records: impl Iterator<Item = (u32, ConsentStatus, Timestamp)>,
    channel: Channel,
    now: Timestamp,
) -> ConsentSummary {
    let bit = channel_bit(channel);
    let mut s = ConsentSummary::default();
    for (type_id, status, given_at) in records {
        let Some(t) = policy.consent_type(type_id) else {
            continue;
        };
        if t.channels & bit == 0 {
            continue;
        }
        match status {
            ConsentStatus::Withdrawn | ConsentStatus::Revoked => s.withdrawn = true,
            ConsentStatus::Refused => s.refused = true,
            ConsentStatus::Expired => s.expired = true,
            ConsentStatus::Given | ConsentStatus::Renewed => {
                let until = expiry(given_at, t.validity_secs);
                if until.is_some_and(|u| now >= u) {
                    s.expired = true;
                } else if given_at <= now {
                    s.best = Some(match s.best {
                        None => (type_id, until),
                        Some(best) => earlier(best, (type_id, until)),
                    });
                }
                // A consent dated in the future is not yet valid; it is
                // neither valid nor expired (no-consent).
            }
            ConsentStatus::Requested | ConsentStatus::Invalidated => {}
        }
    }
    s
}

/// Keeps `best` unless `candidate` expires strictly earlier; a record that
/// never expires never replaces one that does, and ties keep the first.
fn earlier(
    best: (u32, Option<Timestamp>),
    candidate: (u32, Option<Timestamp>),
) -> (u32, Option<Timestamp>) {
    match (best.1, candidate.1) {
        (None, Some(_)) => candidate,
        (Some(b), Some(c)) if c < b => candidate,
        _ => best,
    }
}
