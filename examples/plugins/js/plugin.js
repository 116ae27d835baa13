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

// The second 24 calendar months after `givenAt` (seconds, UTC).
function staleAt(givenAt) {
  const d = new Date(givenAt * 1000);
  d.setUTCMonth(d.getUTCMonth() + STALE_AFTER_MONTHS);
  return Math.floor(d.getTime() / 1000);
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

  // The whole rule. `consents` and `prefs` are arrays of plain tuples, so
  // `decide` and `decideBatch` run the same code.
  rule(flags, consents, prefs, req) {
    // GDPR Art. 18: while processing is restricted, nobody is contacted.
    if (flags.restricted) return deny('restricted');
    // GDPR Art. 21(3): an objection to direct marketing is absolute.
    if (flags.objected && this.directMarketing(req)) return deny('objected');
    if (req.channel !== 'bulk-email') return NOT_CHECKED;
    // GDPR Art. 7(3), 21(2): an unsubscribe always works.
    const refusal = this.subscriptionDenial(flags, prefs, req.subscriptionType);
    if (refusal) return deny(refusal);
    if (!this.switches.checkBulkEmail) return NOT_CHECKED;

    const now = Number(req.now);
    let withdrawn = false, refused = false, expired = false, best;
    for (const [typeId, status, givenAt] of consents) {
      const type = this.types.get(typeId);
      if (!type || !type.allowBulkEmail) continue;
      if (status === 'withdrawn' || status === 'revoked') withdrawn = true;
      else if (status === 'refused') refused = true;
      else if (status === 'expired') expired = true;
      else if (status === 'given' || status === 'renewed') {
        let until = staleAt(givenAt);
        if (type.validityDays !== undefined) until = Math.min(until, givenAt + type.validityDays * 86400);
        if (now >= until) expired = true;
        else if (givenAt <= now && (!best || until < best[1])) best = [typeId, until];
      }
    }
    // Least permissive wins: one withdrawal or refusal outweighs any consent.
    if (withdrawn) return deny('consent-withdrawn');
    if (refused) return deny('consent-refused');
    if (best) return allow('consent', best[0], BigInt(best[1]));
    return deny(expired ? 'consent-expired' : 'no-consent');
  }

  // A newsletter is always direct marketing; other contact is when its
  // purpose is, or when the purpose is unknown.
  directMarketing(req) {
    if (req.channel === 'bulk-email' || req.purpose === undefined) return true;
    const p = this.purposes.get(req.purpose);
    return !p || p.directMarketing;
  }

  subscriptionDenial(flags, prefs, id) {
    if (id === undefined) return flags.optedOutOfAll ? 'opted-out-of-all' : undefined;
    const sub = this.subscriptions.get(id);
    if (!sub) return 'unknown-subscription-type';
    if (flags.optedOutOfAll) return 'opted-out-of-all';
    const states = prefs.filter(([t]) => t === id).map(([, s]) => s);
    if (states.includes('opted-out')) return 'opted-out';
    const optedIn = states.length > 0 && states.every((s) => s === 'opted-in');
    if (sub.requiresOptIn && !optedIn) return 'not-opted-in';
    return undefined;
  }

  decide(contact, req) {
    const consents = [], prefs = [];
    for (const f of contact.facts) {
      if (f.tag === 'consent') consents.push([f.val.typeId, f.val.status, Number(f.val.givenAt)]);
      else if (f.tag === 'preference') prefs.push([f.val.subscriptionTypeId, f.val.state]);
    }
    return this.rule(contact.flags, consents, prefs, req);
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
    const out = new Array(n);
    let c = 0, p = 0;
    for (let i = 0; i < n; i++) {
      const consents = [], prefs = [];
      for (const end = c + b.consentCounts[i]; c < end; c++) {
        const status = STATUSES[b.consentStatuses[c]];
        if (status === undefined) throw { message: `consent status index ${b.consentStatuses[c]} is unknown` };
        consents.push([b.consentTypes[c], status, Number(b.consentGivenAt[c])]);
      }
      for (const end = p + b.preferenceCounts[i]; p < end; p++) {
        prefs.push([b.preferenceTypes[p], STATES[b.preferenceStates[p]]]);
      }
      const bits = b.flags[i];
      const flags = { restricted: !!(bits & 1), objected: !!(bits & 2), optedOutOfAll: !!(bits & 4) };
      const d = this.rule(flags, consents, prefs, req);
      out[i] = { outcome: d.tag, code: d.tag === 'allow' ? d.val.code : d.val };
    }
    if (c > b.consentTypes.length || p > b.preferenceTypes.length) {
      throw { message: 'the counts ask for more entries than the columns hold' };
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
