//! Reading vectors files: what a wrong one says.

use super::*;

fn minimal() -> serde_json::Value {
    serde_json::json!({
        "format": FORMAT,
        "contract": contract(),
        "about": "",
        "configs": {"c": crate::wit::Config::builtin()},
        "vectors": [{
            "id": "a", "pack": "gdpr-core", "tags": ["art18"], "config": "c",
            "contact": {"flags": {"restricted": true}, "consents": [], "bases": [], "preferences": []},
            "request": {"channel": "phone", "purpose": null, "subscription_type": null, "now": 0},
            "expect": {"outcome": "deny", "code": "restricted"}
        }]
    })
}

fn parse(value: &serde_json::Value) -> Result<Vectors, ConformanceError> {
    Vectors::parse(&value.to_string())
}

#[test]
fn a_well_formed_file_parses_and_selects_by_pack_or_tag() {
    let vectors = parse(&minimal()).unwrap();
    assert_eq!(vectors.select(&[]).unwrap().len(), 1);
    assert_eq!(vectors.select(&["art18".into()]).unwrap().len(), 1);
    assert_eq!(vectors.select(&["gdpr-core".into()]).unwrap().len(), 1);
    let err = vectors.select(&["sundays".into()]).unwrap_err();
    assert_eq!(err.code(), "unknown_tag");
    assert_eq!(
        err.to_string(),
        "no case has the tag `sundays`; the tags of this file are: art18, gdpr-core"
    );
}

#[test]
fn a_shape_error_names_its_json_path() {
    let mut v = minimal();
    v["vectors"][0]["expect"]["code"] = "maybe".into();
    let err = parse(&v).unwrap_err();
    assert_eq!(err.code(), "invalid_vectors");
    let text = err.to_string();
    assert!(text.contains("at `vectors[0].expect.code`"), "{text}");
    assert!(text.contains("unknown variant `maybe`"), "{text}");

    let mut v = minimal();
    v["vectors"][0]["surprise"] = 1.into();
    let text = parse(&v).unwrap_err().to_string();
    assert!(text.contains("unknown field `surprise`"), "{text}");

    let err = Vectors::parse("[1, 2").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the vectors file is not valid: not JSON"),
        "{err}"
    );
}

#[test]
fn duplicate_ids_and_missing_configs_are_refused() {
    let mut v = minimal();
    let case = v["vectors"][0].clone();
    v["vectors"].as_array_mut().unwrap().push(case);
    let text = parse(&v).unwrap_err().to_string();
    assert!(
        text.contains("at `vectors[1].id`: the id `a` is used twice"),
        "{text}"
    );

    let mut v = minimal();
    v["vectors"][0]["config"] = "gone".into();
    let text = parse(&v).unwrap_err().to_string();
    assert!(
        text.contains("no config named `gone`; the file has: c"),
        "{text}"
    );
}

#[test]
fn another_format_or_contract_is_named_before_the_shape() {
    let mut v = minimal();
    v["contract"] = "crm:consent@0.1.0".into();
    v["vectors"][0]["expect"]["code"] = "a code of 0.1".into();
    let err = parse(&v).unwrap_err();
    assert_eq!(err.code(), "unsupported_vectors");
    assert!(err.to_string().contains("`crm:consent@0.1.0`"), "{err}");

    let mut v = minimal();
    v["contract"] = "crm:consent@0.2.7".into();
    assert!(parse(&v).is_ok(), "a patch release reads the same vectors");

    let mut v = minimal();
    v["format"] = 2.into();
    assert_eq!(parse(&v).unwrap_err().code(), "unsupported_vectors");
}
