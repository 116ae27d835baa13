//! Who a bulk send went to, stored compactly.

use super::super::ContactId;

/// Delta-varint encoding of sorted contact ids: a newsletter to a million
/// contacts with dense ids costs about a megabyte.
pub(crate) fn encode_ids(ids: &[ContactId]) -> Vec<u8> {
    let mut sorted: Vec<i64> = ids.iter().map(|c| c.0).collect();
    sorted.sort_unstable();
    let mut out = Vec::with_capacity(sorted.len() + 8);
    let mut prev = 0_i64;
    for id in sorted {
        let mut delta = id.wrapping_sub(prev) as u64;
        prev = id;
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

pub(crate) fn decode_ids(bytes: &[u8]) -> Result<Vec<ContactId>, &'static str> {
    let mut ids = Vec::new();
    let (mut prev, mut delta, mut shift) = (0_i64, 0_u64, 0_u32);
    for &byte in bytes {
        if shift > 63 {
            return Err("a recipient id is longer than 64 bits");
        }
        delta |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            prev = prev.wrapping_add(delta as i64);
            ids.push(ContactId(prev));
            (delta, shift) = (0, 0);
        } else {
            shift += 7;
        }
    }
    if shift != 0 {
        return Err("the recipient list ends in the middle of an id");
    }
    Ok(ids)
}
