//! An auditor's replay: a logged decision decided again against the plugin
//! bytes that made it (every plugin of the chain, when rule packs decided
//! with the active plugin), from the config, contact state and time it saw.

use serde::Serialize;

use super::convert;
use super::stored::Evidence;
use super::{HookError, StoredHooks};
use crate::engine::{self as wit, Chain, ChainStep, EngineError, Plugin};
use crate::store::{self, DecisionId, StoreError};

/// A decision replayed against the plugin bytes that made it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Replay {
    /// The logged decision that was replayed.
    pub decision: DecisionId,
    /// The outcome as logged: `allow`, `deny`, `justify` or `justified`.
    pub logged_outcome: String,
    /// The reason code as logged.
    pub logged_code: String,
    /// What the plugins answer now, from the same bytes, config, contact
    /// state and time, combined as the chain combines them.
    #[schema(value_type = Object)]
    pub replayed: wit::Decision,
    /// Each plugin's answer as logged and as replayed, in chain order, when
    /// rule packs decided with the active plugin; empty otherwise.
    pub chain: Vec<ReplayedStep>,
    /// Whether the replay gives the logged outcome and code (a justification
    /// counts as the justify it answered), and every plugin of a chain its
    /// logged answer: what an auditor checks.
    pub same: bool,
}

/// One plugin of a chain, as logged and as replayed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplayedStep {
    /// Its answer as the decision log recorded it.
    pub logged: ChainStep,
    /// Its answer now.
    pub replayed: ChainStep,
    /// Whether the two are the same.
    pub same: bool,
}

impl StoredHooks {
    /// Decides a logged decision again, against the plugin bytes that made
    /// it and the config and contact state it saw.
    pub fn replay(&mut self, id: DecisionId) -> Result<Replay, HookError> {
        let logged = self
            .store
            .decision(id)?
            .ok_or(StoreError::UnknownDecision(id))?;
        let sha = logged
            .plugin_sha256
            .clone()
            .ok_or_else(|| HookError::NotReplayable(id, "no plugin hash was logged".into()))?;
        // Loaded before the evidence is read: a plugin of a contract this
        // host no longer runs is what to report, rather than a config in
        // that contract's words that does not parse.
        let primary = self.load_for_replay(id, &sha)?;
        let evidence: Evidence = serde_json::from_value(logged.request.clone()).map_err(|e| {
            HookError::NotReplayable(id, format!("it has no single-contact request ({e})"))
        })?;
        let mut plugins = vec![primary];
        for step in evidence.chain.iter().skip(1) {
            plugins.push(self.load_for_replay(id, &step.plugin_sha256)?);
        }
        let policies = plugins
            .iter()
            .map(|p| p.policy(&evidence.config))
            .collect::<Result<Vec<_>, _>>()?;
        let chained = Chain::new(policies)?.decide(&evidence.contact, &evidence.request);
        let chain: Vec<ReplayedStep> = evidence
            .chain
            .iter()
            .zip(chained.steps)
            .map(|(logged, replayed)| ReplayedStep {
                same: *logged == replayed,
                logged: logged.clone(),
                replayed,
            })
            .collect();
        let replayed = chained.decision;
        let step = wit::step(&sha, &replayed);
        // A justification was, when it was given, a justify decision.
        let logged_outcome = match logged.outcome {
            store::Outcome::Justified => store::Outcome::Justify,
            other => other,
        };
        let same_outcome = step.outcome.as_str() == logged_outcome.as_str()
            && convert::reason_code(step.code) == logged.reason_code;
        Ok(Replay {
            decision: id,
            same: same_outcome && chain.iter().all(|s| s.same),
            logged_outcome: logged.outcome.as_str().to_owned(),
            logged_code: logged.reason_code,
            replayed,
            chain,
        })
    }

    /// The plugin with `sha`, compiled from the stored bytes, not read from
    /// the cache, so that a replay checks the decision independently of
    /// what the cache holds.
    fn load_for_replay(&self, id: DecisionId, sha: &str) -> Result<Plugin, HookError> {
        let installed = self.store.plugin_by_sha256(sha)?.ok_or_else(|| {
            HookError::NotReplayable(id, format!("plugin `{sha}` is not installed"))
        })?;
        self.engine
            .load_uncached(&installed.bytes)
            .map_err(|e| match e {
                EngineError::IncompatibleVersion { found } => HookError::NotReplayable(
                    id,
                    format!(
                        "it was made by a plugin for `crm:consent@{found}`, which this host \
                         cannot run; replay it with the crm-consent release of that contract"
                    ),
                ),
                other => other.into(),
            })
    }
}

/// The JSON of a replay (`decisions replay --json` and the API): the logged
/// and the replayed outcome and code side by side, spelled alike
/// (snake_case), as the decision log spells them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ReplayJson {
    /// The logged decision that was replayed.
    decision: DecisionId,
    /// `allow`, `deny`, `justify` or `justified`, as logged.
    logged_outcome: String,
    /// The reason code as logged, e.g. `no_consent`.
    logged_code: String,
    /// What the plugin answers now from the same bytes, config, contact
    /// state and time: `allow`, `deny` or `justify`.
    replayed_outcome: &'static str,
    /// The replayed reason code.
    replayed_code: &'static str,
    /// Each plugin's answer as logged and as replayed, when rule packs
    /// decided with the active plugin; empty otherwise.
    chain: Vec<ReplayedStep>,
    /// Whether outcome and code are the same (a justification counts as the
    /// justify it answered), and every plugin of a chain answers as logged:
    /// what an auditor checks.
    same: bool,
}

impl ReplayJson {
    pub(crate) fn of(r: &Replay) -> Self {
        ReplayJson {
            decision: r.decision,
            logged_outcome: r.logged_outcome.clone(),
            logged_code: r.logged_code.clone(),
            replayed_outcome: super::answer::outcome(&r.replayed),
            replayed_code: super::answer::code(&r.replayed).as_str(),
            chain: r.chain.clone(),
            same: r.same,
        }
    }
}
