//! Running the vectors against one plugin.

use std::collections::BTreeMap;

use serde::Serialize;

use super::vectors::{ConformanceError, Expected, Vector, Vectors};
use crate::engine::{Engine, Policy};
use crate::wit::ContactBatch;

/// Which call of the contract disagreed with a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// `policy.create` refused the case's config, or faulted.
    Create,
    /// `policy.decide` (with `reasons` for a justify).
    Decide,
    /// `policy.decide-batch` of a batch of this one contact: outcome and code.
    DecideBatch,
}

/// One case the plugin got wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The case's id.
    pub id: String,
    /// The call that disagreed.
    pub check: Check,
    /// What the vectors expect (for `decide_batch`, outcome and code only).
    pub expected: Expected,
    /// What the plugin answered, when it answered.
    pub got: Option<Expected>,
    /// Why it did not answer: the config refused, the batch refused.
    pub error: Option<String>,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// SHA-256 of the plugin checked.
    pub plugin_sha256: String,
    /// The contract of the vectors.
    pub contract: String,
    /// The tags asked for; empty for every case.
    pub tags: Vec<String>,
    /// Cases run.
    pub selected: usize,
    /// Cases whose every check matched.
    pub passed: usize,
    /// Cases with at least one mismatch.
    pub failed: usize,
    /// Every mismatch, in the file's order.
    pub mismatches: Vec<Mismatch>,
}

impl Report {
    /// Whether every selected case passed.
    pub fn passed_all(&self) -> bool {
        self.failed == 0
    }
}

/// Loads `bytes` as a plugin in `engine` and checks every case of `vectors`
/// whose pack or tags include one of `tags` (all when `tags` is empty).
///
/// Each config gets its own policy, created once and dropped before the
/// next, so a run needs a single instance of the engine's pool.
pub fn run(
    engine: &Engine,
    bytes: &[u8],
    vectors: &Vectors,
    tags: &[String],
) -> Result<Report, ConformanceError> {
    vectors.check()?;
    let selected = vectors.select(tags)?;
    let plugin = engine.load(bytes)?;

    // Cases by config, each group in file order.
    let mut groups: BTreeMap<&str, Vec<(usize, &Vector)>> = BTreeMap::new();
    for (i, v) in selected.iter().enumerate() {
        groups.entry(v.config.as_str()).or_default().push((i, v));
    }
    let mut found: Vec<(usize, Mismatch)> = Vec::new();
    for (name, cases) in groups {
        let config = &vectors.configs[name];
        match plugin.policy(config) {
            Ok(mut policy) => {
                for (i, case) in cases {
                    found.extend(check_case(&mut policy, case).into_iter().map(|m| (i, m)));
                }
            }
            Err(e) => found.extend(cases.into_iter().map(|(i, case)| {
                let error = format!("config `{name}` refused: {e}");
                (
                    i,
                    mismatch(case, Check::Create, case.expect.clone(), None, Some(error)),
                )
            })),
        }
    }
    found.sort_by_key(|(i, _)| *i);
    let mut failed_cases: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
    failed_cases.dedup();
    Ok(Report {
        plugin_sha256: plugin.sha256().to_owned(),
        contract: vectors.contract.clone(),
        tags: tags.to_vec(),
        selected: selected.len(),
        passed: selected.len() - failed_cases.len(),
        failed: failed_cases.len(),
        mismatches: found.into_iter().map(|(_, m)| m).collect(),
    })
}

/// The case through `decide`, then through a batch of one.
fn check_case(policy: &mut Policy, case: &Vector) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let got = Expected::of(&policy.decide(&case.contact, &case.request));
    if got != case.expect {
        out.push(mismatch(
            case,
            Check::Decide,
            case.expect.clone(),
            Some(got),
            None,
        ));
    }

    let verdict_only = |e: &Expected| Expected {
        consent_type: None,
        legal_basis: None,
        valid_until: None,
        reasons: Vec::new(),
        ..e.clone()
    };
    let expected = verdict_only(&case.expect);
    let batch = ContactBatch::from_contacts(std::slice::from_ref(&case.contact));
    match policy.decide_batch(&case.request, &batch) {
        Ok(verdicts) => {
            let got = verdicts.first().map(|v| Expected {
                outcome: v.outcome,
                code: v.code,
                ..expected.clone()
            });
            if got.as_ref() != Some(&expected) {
                out.push(mismatch(case, Check::DecideBatch, expected, got, None));
            }
        }
        Err(e) => out.push(mismatch(
            case,
            Check::DecideBatch,
            expected,
            None,
            Some(e.to_string()),
        )),
    }
    out
}

fn mismatch(
    case: &Vector,
    check: Check,
    expected: Expected,
    got: Option<Expected>,
    error: Option<String>,
) -> Mismatch {
    Mismatch {
        id: case.id.clone(),
        check,
        expected,
        got,
        error,
    }
}
