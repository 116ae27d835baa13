// The conformance kit under jco in Node: runs tests/conformance/vectors.json
// against a plugin transpiled to JavaScript, through `decide`, `reasons` and
// a one-contact `decide-batch`, as `crm-consent plugin test` does under
// wasmtime.
//
//   npx @bytecodealliance/jco@1.35.0 transpile plugin.wasm -o /tmp/plugin-js --name plugin
//   node tests/conformance/jco.mjs /tmp/plugin-js/plugin.js [vectors.json] [--tags a,b]
//
// Exits 0 when every selected case passes, 5 when some fail, 1 on an error.
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
let tags = [];
const tagAt = args.indexOf('--tags');
if (tagAt >= 0) {
  tags = args[tagAt + 1].split(',').filter(Boolean);
  args.splice(tagAt, 2);
}
const [modulePath, vectorsPath = resolve(dirname(fileURLToPath(import.meta.url)), 'vectors.json')] = args;
if (!modulePath) {
  console.error('usage: node jco.mjs <transpiled plugin.js> [vectors.json] [--tags a,b]');
  process.exit(1);
}

const file = JSON.parse(readFileSync(vectorsPath, 'utf8'));
if (file.format !== 1 || !String(file.contract).startsWith('crm:consent@0.2.')) {
  console.error(`error: vectors of format ${file.format} for \`${file.contract}\`; this runner reads format 1 of crm:consent@0.2.x`);
  process.exit(1);
}
const plugin = await import(pathToFileURL(resolve(modulePath)).href);
const rules = plugin.rules ?? plugin['crm:consent/rules@0.2.0'];
if (!rules?.Policy) {
  console.error('error: the module exports no `rules` interface with a `Policy` resource');
  process.exit(1);
}

// The vectors spell WIT names in snake_case; jco uses the WIT's kebab-case
// for enum cases and camelCase for fields. s64 is a BigInt.
const kebab = (s) => s.replaceAll('_', '-');
const snake = (s) => s.replaceAll('-', '_');
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const STATUSES = ['requested', 'given', 'renewed', 'refused', 'withdrawn', 'revoked', 'expired', 'invalidated'];
const BASES = ['consent', 'contract', 'legal_obligation', 'vital_interest', 'public_interest', 'official_authority', 'legitimate_interest', 'withdrawn'];
const STATES = ['opted_in', 'not_specified', 'opted_out'];
const ENUM_FIELDS = new Set(['status', 'legal_basis', 'state', 'channel']);
const S64_FIELDS = new Set(['given_at', 'now']);

function toJs(value) {
  if (Array.isArray(value)) return value.map(toJs);
  if (value === null) return undefined;
  if (typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    out[camel(k)] = ENUM_FIELDS.has(k) ? kebab(v) : S64_FIELDS.has(k) ? BigInt(v) : toJs(v);
  }
  return out;
}

function contactState(c) {
  const facts = [
    ...c.consents.map((r) => ({ tag: 'consent', val: toJs(r) })),
    ...c.bases.map((b) => ({ tag: 'basis', val: toJs(b) })),
    ...c.preferences.map((p) => ({ tag: 'preference', val: toJs(p) })),
  ];
  const f = c.flags ?? {};
  return { flags: { restricted: !!f.restricted, objected: !!f.objected, optedOutOfAll: !!f.opted_out_of_all }, facts };
}

function batchOf(c) {
  const f = c.flags ?? {};
  return {
    flags: Uint8Array.of((f.restricted ? 1 : 0) | (f.objected ? 2 : 0) | (f.opted_out_of_all ? 4 : 0)),
    consentCounts: Uint16Array.of(c.consents.length),
    basisCounts: Uint16Array.of(c.bases.length),
    preferenceCounts: Uint16Array.of(c.preferences.length),
    consentTypes: Uint32Array.from(c.consents.map((r) => r.type_id)),
    consentStatuses: Uint8Array.from(c.consents.map((r) => STATUSES.indexOf(r.status))),
    consentGivenAt: BigInt64Array.from(c.consents.map((r) => BigInt(r.given_at))),
    basisPurposes: Uint32Array.from(c.bases.map((b) => b.purpose_id)),
    basisLegalBases: Uint8Array.from(c.bases.map((b) => BASES.indexOf(b.legal_basis))),
    preferenceTypes: Uint32Array.from(c.preferences.map((p) => p.subscription_type_id)),
    preferenceStates: Uint8Array.from(c.preferences.map((p) => STATES.indexOf(p.state))),
  };
}

// A jco decision in the vectors' terms.
function expected(policy, decision, channel) {
  const out = { outcome: decision.tag };
  if (decision.tag === 'allow') {
    const a = decision.val;
    out.code = snake(a.code);
    if (a.consentType !== undefined) out.consent_type = a.consentType;
    if (a.legalBasis !== undefined) out.legal_basis = snake(a.legalBasis);
    if (a.validUntil !== undefined) out.valid_until = Number(a.validUntil);
  } else {
    out.code = snake(decision.val);
  }
  if (decision.tag === 'justify') {
    const reasons = Array.from(policy.reasons(channel));
    if (reasons.length) out.reasons = reasons;
  }
  return out;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const ordered = (e) => {
  const { outcome, code, consent_type, legal_basis, valid_until, reasons } = e;
  return JSON.parse(JSON.stringify({ outcome, code, consent_type, legal_basis, valid_until, reasons }));
};

const selected = file.vectors.filter((v) => !tags.length || tags.some((t) => t === v.pack || v.tags.includes(t)));
const policies = new Map();
let failed = 0;
for (const v of selected) {
  const problems = [];
  let policy = policies.get(v.config);
  if (!policy) {
    policy = rules.Policy.create(toJs(v.config in file.configs ? file.configs[v.config] : {}));
    policies.set(v.config, policy);
  }
  const req = toJs(v.request);
  const want = ordered(v.expect);
  try {
    const got = ordered(expected(policy, policy.decide(contactState(v.contact), req), req.channel));
    if (!same(got, want)) problems.push(['decide', got]);
  } catch (e) {
    problems.push(['decide', `error: ${e?.message ?? e}`]);
  }
  try {
    const [verdict] = policy.decideBatch(req, batchOf(v.contact));
    const got = { outcome: verdict.outcome, code: snake(verdict.code) };
    if (!same(got, { outcome: want.outcome, code: want.code })) problems.push(['decide_batch', got]);
  } catch (e) {
    problems.push(['decide_batch', `error: ${e?.message ?? e}`]);
  }
  if (problems.length) {
    failed += 1;
    for (const [check, got] of problems) {
      console.log(`FAIL ${v.id} (${check})\n  expected: ${JSON.stringify(want)}\n  got:      ${JSON.stringify(got)}`);
    }
  }
}
console.log(`${selected.length - failed} passed, ${failed} failed of ${selected.length} cases (${file.contract}), under jco`);
process.exit(failed ? 5 : 0);
