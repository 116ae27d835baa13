"""The exported resource `policy` of interface `rules`: componentize-py looks
it up as class `Policy` of a top-level module named after the interface.
A thin mapping onto `telemarketing.py`, where the rule is."""

from typing import List

from componentize_py_types import Err
from wit_world.exports import rules as r
from wit_world.exports import types as t

import telemarketing

# WIT case name of each enum value, and the other way round.
_STATUS = {s: s.name.lower().replace("_", "-") for s in t.ConsentStatus}
_STATUS_AT = list(telemarketing.STATUSES)
_CHANNEL = {c: c.name.lower().replace("_", "-") for c in t.Channel}
_CODE = {c.name.lower().replace("_", "-"): c for c in t.ReasonCode}
_OUTCOME = {o.name.lower(): o for o in t.Outcome}


def _decision(ruling: telemarketing.Ruling) -> t.Decision:
    code = _CODE[ruling.code]
    if ruling.outcome == "allow":
        return t.Decision_Allow(t.Allowed(code, ruling.consent_type, None, ruling.valid_until))
    return t.Decision_Deny(code)


class Policy(r.Policy):
    def __init__(self, rules: telemarketing.Rules):
        self.rules = rules

    @classmethod
    def create(cls, cfg: t.Config) -> "Policy":
        types = {}
        for ct in cfg.consent_types:
            if ct.id in types:
                raise Err(t.ConfigError_DuplicateId(f"consent type {ct.id}"))
            validity = None if ct.validity_days is None else ct.validity_days * telemarketing.DAY
            types[ct.id] = (validity, ct.allow_phone, ct.allow_single_email)
        purposes = {p.id: p.direct_marketing for p in cfg.purposes}
        s = cfg.switches
        return cls(telemarketing.Rules(types, purposes, s.check_phone, s.check_single_email))

    def decide(self, contact: t.ContactState, req: t.Request) -> t.Decision:
        consents = [
            (f.value.type_id, _STATUS[f.value.status], f.value.given_at)
            for f in contact.facts
            if isinstance(f, t.Fact_Consent)
        ]
        flags = contact.flags
        ruling = self.rules.rule(
            t.ContactFlags.RESTRICTED in flags,
            t.ContactFlags.OBJECTED in flags,
            consents,
            _CHANNEL[req.channel],
            req.purpose,
            req.now,
        )
        return _decision(ruling)

    def reasons(self, channel: t.Channel) -> List[int]:
        # The law allows no justification: there is nothing to pick from.
        return []

    def decide_batch(self, req: t.Request, batch: t.ContactBatch) -> List[t.Verdict]:
        b = batch
        n = len(b.flags)
        if not (len(b.consent_counts) == len(b.basis_counts) == len(b.preference_counts) == n):
            raise Err(t.BatchError("the count columns must be as long as `flags`"))
        if sum(b.consent_counts) > len(b.consent_types):
            raise Err(t.BatchError("the consent counts ask for more entries than the columns hold"))
        channel = _CHANNEL[req.channel]
        out = []
        at = 0
        for i in range(n):
            end = at + b.consent_counts[i]
            consents = []
            for j in range(at, end):
                if b.consent_statuses[j] >= len(_STATUS_AT):
                    raise Err(t.BatchError(f"consent status index {b.consent_statuses[j]} is unknown"))
                consents.append((b.consent_types[j], _STATUS_AT[b.consent_statuses[j]], b.consent_given_at[j]))
            at = end
            bits = b.flags[i]
            ruling = self.rules.rule(bool(bits & 1), bool(bits & 2), consents, channel, req.purpose, req.now)
            out.append(t.Verdict(_OUTCOME[ruling.outcome], _CODE[ruling.code]))
        return out

