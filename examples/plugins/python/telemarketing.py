"""A national telemarketing pack: the rule in plain Python, no bindings.

A marketing call or text message needs the contact's prior consent
(Germany: UWG § 7(2) Nr. 1 for calls to consumers and Nr. 2 for electronic
mail, which covers SMS; Poland: art. 172 of the Telecommunications Law,
now art. 398 of the Electronic Communications Law). Unlike the GDPR's
Art. 6(1), a legal basis such as a legitimate interest or a contract is not
enough, and no operator's reason can justify the call: without a valid
consent it is denied. Email and newsletters are not this pack's business.

`app.py` maps the component's types onto these plain values, so `decide`
and `decide-batch` run the same function.
"""

from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

DAY = 86_400

# Case names of the WIT enums, in the order the WIT lists them.
STATUSES = ("requested", "given", "renewed", "refused", "withdrawn", "revoked", "expired", "invalidated")


@dataclass(frozen=True)
class Ruling:
    """A decision: `allow`, `deny` (never `justify`), with its reason code."""

    outcome: str
    code: str
    consent_type: Optional[int] = None
    valid_until: Optional[int] = None


NOT_CHECKED = Ruling("allow", "not-checked")


class Rules:
    """The pack, built from the parts of a config it reads."""

    def __init__(self, types, purposes, check_phone: bool, check_single_email: bool):
        # type id -> (validity in seconds or None, allows phone, allows single email)
        self.types = types
        # purpose id -> is direct marketing
        self.purposes = purposes
        self.check_phone = check_phone
        self.check_single_email = check_single_email

    def rule(
        self,
        restricted: bool,
        objected: bool,
        consents: Iterable[Tuple[int, str, int]],
        channel: str,
        purpose: Optional[int],
        now: int,
    ) -> Ruling:
        """The decision for one contact: `consents` are (type id, status, given at)."""
        # GDPR Art. 18: while processing is restricted, nobody is contacted.
        if restricted:
            return Ruling("deny", "restricted")
        # GDPR Art. 21(3): an objection to direct marketing is absolute.
        if objected and self.direct_marketing(channel, purpose):
            return Ruling("deny", "objected")
        if channel not in ("phone", "sms"):
            return NOT_CHECKED
        # The admin's switch for the channel; an SMS goes with single email.
        if not (self.check_phone if channel == "phone" else self.check_single_email):
            return NOT_CHECKED

        withdrawn = refused = expired = False
        best = None  # (type id, valid until or None)
        for type_id, status, given_at in consents:
            known = self.types.get(type_id)
            if known is None:
                continue
            validity, phone, single_email = known
            # An SMS rides on the single-email permission (see the WIT).
            if not (phone if channel == "phone" else single_email):
                continue
            if status in ("withdrawn", "revoked"):
                withdrawn = True
            elif status == "refused":
                refused = True
            elif status == "expired":
                expired = True
            elif status in ("given", "renewed"):
                until = None if validity is None else given_at + validity
                if until is not None and now >= until:
                    expired = True
                elif given_at <= now and (best is None or _earlier(until, best[1])):
                    best = (type_id, until)
        # Least permissive wins: one withdrawal or refusal outweighs any consent.
        if withdrawn:
            return Ruling("deny", "consent-withdrawn")
        if refused:
            return Ruling("deny", "consent-refused")
        if best is not None:
            return Ruling("allow", "consent", best[0], best[1])
        # UWG § 7(2): no consent, no call; a legal basis does not replace it.
        return Ruling("deny", "consent-expired" if expired else "no-consent")

    def direct_marketing(self, channel: str, purpose: Optional[int]) -> bool:
        """A newsletter always is; other contact when its purpose is, or is unknown."""
        if channel == "bulk-email" or purpose is None:
            return True
        return self.purposes.get(purpose, True)


def _earlier(candidate: Optional[int], best: Optional[int]) -> bool:
    """Whether `candidate` runs out strictly before `best` (None never does)."""
    return candidate is not None and (best is None or candidate < best)


SENTENCES = {
    "consent": "The contact gave prior consent to marketing calls or texts, and it is still valid.",
    "not-checked": "This pack checks marketing calls and text messages only.",
    "no-consent": "A marketing call or text needs the contact's prior consent (UWG § 7(2)), and there is none.",
    "consent-expired": "The contact's consent to calls or texts has expired and must be renewed first.",
    "consent-withdrawn": "The contact withdrew consent to calls or texts (GDPR Art. 7(3)).",
    "consent-refused": "The contact refused consent to calls or texts.",
    "objected": "The contact objected to direct marketing (GDPR Art. 21(3)).",
    "restricted": "Processing of this contact's data is restricted (GDPR Art. 18).",
    "plugin-fault": "The consent plugin failed; the action is denied to be safe.",
}


def explain(code: str) -> str:
    """A sentence for people about `code`."""
    return SENTENCES.get(code, "This pack never gives this reason.")
