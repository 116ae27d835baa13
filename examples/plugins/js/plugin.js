// A stricter newsletter pack for crm:consent@0.2.0 (world `consent-plugin`),
// built into a component with componentize-js (see ../build.sh).
//
// The rule: a newsletter (`bulk-email`) needs a given or renewed consent, on
// a type that allows bulk email, that is younger than 24 months. Neither a
// legitimate interest (no soft opt-in) nor an operator's justification will
// do. A house rule stricter than the GDPR, which sets no age: German courts
// have held that a consent left unused for long goes stale (LG München I,
// 8 April 2010, 17 HK O 138/10), so this pack asks again after 24 months.
// Other channels are not this pack's business: `allow` with `not-checked`.
//
// The contact's rights come first, as in the reference rules: Art. 18
// restriction and an Art. 21(3) objection to direct marketing deny on every
// channel, and a newsletter honours the contact's subscription choices.
//
// jco's mapping of the WIT: enum cases are kebab-case strings, record fields
// camelCase, `s64` a BigInt, `list<u8>` a Uint8Array, a variant `{tag, val}`.

const STATUSES = ['requested', 'given', 'renewed', 'refused', 'withdrawn', 'revoked', 'expired', 'invalidated'];
const STATES = ['opted-in', 'not-specified', 'opted-out'];
const STALE_AFTER_MONTHS = 24;

const allow = (code, consentType, validUntil) => ({
  tag: 'allow',
  val: { code, consentType, legalBasis: undefined, validUntil },
});
const deny = (code) => ({ tag: 'deny', val: code });
const NOT_CHECKED = allow('not-checked', undefined, undefined);
const BIT = { restricted: 1, objected: 2, optedOutOfAll: 4 };

// Days since the epoch <-> civil date (H. Hinnant's algorithms): plain
// arithmetic, so a 100k batch allocates no Date per consent.
function civil(days) {
  const z = days + 719468, era = Math.floor(z / 146097), doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153), m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, doy - Math.floor((153 * mp + 2) / 5) + 1];
}
function daysFrom(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400), yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

// The second 24 calendar months after `givenAt` (seconds, UTC); a day past
// the end of the month rolls over, as JavaScript's Date does.
function staleAt(givenAt) {
  const days = Math.floor(givenAt / 86400);
  const [y, m, d] = civil(days);
  const months = y * 12 + (m - 1) + STALE_AFTER_MONTHS;
  const target = daysFrom(Math.floor(months / 12), (months % 12) + 1, 1) + d - 1;
  return target * 86400 + (givenAt - days * 86400);
}

// One verdict object per outcome and code, shared by every contact.
const VERDICTS = new Map();
function verdictOf(d) {
  const code = d.tag === 'allow' ? d.val.code : d.val;
  const key = `${d.tag}/${code}`;
  let v = VERDICTS.get(key);
  if (!v) VERDICTS.set(key, (v = Object.freeze({ outcome: d.tag, code })));
  return v;
}

class Policy {
  constructor(cfg) {
    this.types = new Map(cfg.consentTypes.map((t) => [t.id, t]));
    this.purposes = new Map(cfg.purposes.map((p) => [p.id, p]));
    this.subscriptions = new Map(cfg.subscriptionTypes.map((s) => [s.id, s]));
    this.switches = cfg.switches;
  }

  static create(cfg) {
    const seen = new Set();
    for (const t of cfg.consentTypes) {
      if (seen.has(t.id)) throw { tag: 'duplicate-id', val: `consent type ${t.id}` };
      seen.add(t.id);
    }
    return new Policy(cfg);
  }

  // The whole rule, over the batch's column layout: the contact's consents
  // are entries `c0..c1` of `b.consentTypes`, `b.consentStatuses` and
  // `b.consentGivenAt`, its preferences `p0..p1`. `decide` builds a batch
  // of one, so both run the same code.
  rule(bits, b, c0, c1, p0, p1, req) {
    // GDPR Art. 18: while processing is restricted, nobody is contacted.
    if (bits & BIT.restricted) return deny('restricted');
    // GDPR Art. 21(3): an objection to direct marketing is absolute.
    if (bits & BIT.objected && this.directMarketing(req)) return deny('objected');
    if (req.channel !== 'bulk-email') return NOT_CHECKED;
    // GDPR Art. 7(3), 21(2): an unsubscribe always works.
    const refusal = this.subscriptionDenial(bits, b, p0, p1, req.subscriptionType);
    if (refusal) return deny(refusal);
    if (!this.switches.checkBulkEmail) return NOT_CHECKED;

    const now = Number(req.now);
    let withdrawn = false, refused = false, expired = false, bestType, bestUntil;
    for (let i = c0; i < c1; i++) {
      const type = this.types.get(b.consentTypes[i]);
      if (!type || !type.allowBulkEmail) continue;
      const status = STATUSES[b.consentStatuses[i]];
      if (status === 'withdrawn' || status === 'revoked') withdrawn = true;
      else if (status === 'refused') refused = true;
      else if (status === 'expired') expired = true;
      else if (status === 'given' || status === 'renewed') {
        const givenAt = Number(b.consentGivenAt[i]);
        let until = staleAt(givenAt);
        if (type.validityDays !== undefined) until = Math.min(until, givenAt + type.validityDays * 86400);
        if (now >= until) expired = true;
        else if (givenAt <= now && (bestUntil === undefined || until < bestUntil)) {
          bestType = type.id;
          bestUntil = until;
        }
      }
    }
    // Least permissive wins: one withdrawal or refusal outweighs any consent.
    if (withdrawn) return deny('consent-withdrawn');
    if (refused) return deny('consent-refused');
    if (bestUntil !== undefined) return allow('consent', bestType, BigInt(bestUntil));
    return deny(expired ? 'consent-expired' : 'no-consent');
  }

  // A newsletter is always direct marketing; other contact is when its
  // purpose is, or when the purpose is unknown.
  directMarketing(req) {
    if (req.channel === 'bulk-email' || req.purpose === undefined) return true;
    const p = this.purposes.get(req.purpose);
    return !p || p.directMarketing;
  }

  subscriptionDenial(bits, b, p0, p1, id) {
    const all = bits & BIT.optedOutOfAll;
    if (id === undefined) return all ? 'opted-out-of-all' : undefined;
    const sub = this.subscriptions.get(id);
    if (!sub) return 'unknown-subscription-type';
    if (all) return 'opted-out-of-all';
    // Several preferences for the type: least permissive wins; none at all
    // is "not specified".
    let seen = false, optedIn = true;
    for (let i = p0; i < p1; i++) {
      if (b.preferenceTypes[i] !== id) continue;
      const state = STATES[b.preferenceStates[i]];
      if (state === 'opted-out') return 'opted-out';
      seen = true;
      optedIn &&= state === 'opted-in';
    }
    if (sub.requiresOptIn && !(seen && optedIn)) return 'not-opted-in';
    return undefined;
  }

  decide(contact, req) {
    const b = { consentTypes: [], consentStatuses: [], consentGivenAt: [], preferenceTypes: [], preferenceStates: [] };
    for (const f of contact.facts) {
      if (f.tag === 'consent') {
        b.consentTypes.push(f.val.typeId);
        b.consentStatuses.push(STATUSES.indexOf(f.val.status));
        b.consentGivenAt.push(f.val.givenAt);
      } else if (f.tag === 'preference') {
        b.preferenceTypes.push(f.val.subscriptionTypeId);
        b.preferenceStates.push(STATES.indexOf(f.val.state));
      }
    }
    const fl = contact.flags;
    const bits = (fl.restricted ? 1 : 0) | (fl.objected ? 2 : 0) | (fl.optedOutOfAll ? 4 : 0);
    return this.rule(bits, b, 0, b.consentTypes.length, 0, b.preferenceTypes.length, req);
  }

  // No operator's reason can justify a newsletter.
  reasons(_channel) {
    return new Uint32Array(0);
  }

  decideBatch(req, b) {
    const n = b.flags.length;
    if (b.consentCounts.length !== n || b.basisCounts.length !== n || b.preferenceCounts.length !== n) {
      throw { message: 'the count columns must be as long as `flags`' };
    }
    let consents = 0, prefs = 0;
    for (let i = 0; i < n; i++) {
      consents += b.consentCounts[i];
      prefs += b.preferenceCounts[i];
    }
    if (consents > b.consentTypes.length || consents > b.consentStatuses.length ||
        consents > b.consentGivenAt.length || prefs > b.preferenceTypes.length ||
        prefs > b.preferenceStates.length) {
      throw { message: 'the counts ask for more entries than the columns hold' };
    }
    for (let i = 0; i < consents; i++) {
      if (b.consentStatuses[i] >= STATUSES.length) throw { message: `consent status index ${b.consentStatuses[i]} is unknown` };
    }
    for (let i = 0; i < prefs; i++) {
      if (b.preferenceStates[i] >= STATES.length) throw { message: `preference state index ${b.preferenceStates[i]} is unknown` };
    }
    const out = new Array(n);
    let c = 0, p = 0;
    for (let i = 0; i < n; i++) {
      const c1 = c + b.consentCounts[i], p1 = p + b.preferenceCounts[i];
      out[i] = verdictOf(this.rule(b.flags[i], b, c, c1, p, p1, req));
      c = c1;
      p = p1;
    }
    return out;
  }
}

const SENTENCES = {
  'consent': 'The contact gave consent for newsletters less than 24 months ago, and it is still valid.',
  'not-checked': 'This pack checks newsletters only; other channels are not its business.',
  'no-consent': 'The contact has not given consent for newsletters.',
  'consent-expired': 'The newsletter consent is older than 24 months or has expired, and must be renewed.',
  'consent-withdrawn': 'The contact withdrew consent for newsletters (GDPR Art. 7(3)).',
  'consent-refused': 'The contact refused consent for newsletters.',
  'objected': 'The contact objected to direct marketing (GDPR Art. 21(3)).',
  'restricted': "Processing of this contact's data is restricted (GDPR Art. 18).",
  'opted-out-of-all': 'The contact opted out of all subscriptions.',
  'opted-out': 'The contact opted out of this subscription.',
  'not-opted-in': 'This subscription requires an opt-in, and the contact has not opted in.',
  'unknown-subscription-type': 'The subscription type of this mailing is not configured.',
  'plugin-fault': 'The consent plugin failed; the action is denied to be safe.',
};

export const rules = {
  Policy,
  explain: (code) => SENTENCES[code] ?? 'This pack never gives this reason.',
};
export const types = {};
