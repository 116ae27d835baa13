"""The component's exports (world `consent-plugin` of crm:consent@0.2.0),
built with componentize-py (see ../build.sh): the interface `rules` is class
`Rules` here, its resource `policy` is class `Policy` in `rules.py`, and the
rule itself is in `telemarketing.py`."""

from wit_world import exports
from wit_world.exports import types as t

import telemarketing


class Rules(exports.Rules):
    def explain(self, code: t.ReasonCode) -> str:
        return telemarketing.explain(code.name.lower().replace("_", "-"))


class Types(exports.Types):
    pass
