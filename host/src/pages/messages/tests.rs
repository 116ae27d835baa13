use std::collections::HashSet;

use super::*;

#[test]
fn every_message_has_a_text_in_every_language() {
    for m in Msg::ALL {
        for l in Language::ALL {
            assert!(!m.text(l).trim().is_empty(), "{m:?} in {l}");
        }
        // Translated, not copied: only names of things may read the same.
        let en = m.text(Language::En);
        assert!(
            m.text(Language::Pl) != en || en.len() < 8,
            "{m:?} is English in Polish"
        );
        assert!(
            m.text(Language::It) != en || en.len() < 8,
            "{m:?} is English in Italian"
        );
    }
}

#[test]
fn every_language_has_the_same_placeholders() {
    let placeholders = |text: &str| text.matches("{date}").count();
    for m in Msg::ALL {
        let en = placeholders(m.text(Language::En));
        for l in Language::ALL {
            assert_eq!(placeholders(m.text(l)), en, "{m:?} in {l}");
            assert!(
                !m.text(l).replace("{date}", "").contains(['{', '}']),
                "{m:?}"
            );
        }
    }
}

#[test]
fn keys_are_unique_snake_case_and_in_the_catalog() {
    let keys: HashSet<_> = Msg::ALL.iter().map(|m| m.key()).collect();
    assert_eq!(keys.len(), Msg::ALL.len());
    for k in &keys {
        assert!(
            k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{k}"
        );
    }
    for l in Language::ALL {
        assert_eq!(catalog(l).len(), Msg::ALL.len());
        assert_eq!(catalog(l)["form_submit"], Msg::FormSubmit.text(l));
    }
}

#[test]
fn the_language_with_the_highest_q_value_wins() {
    let pick = |h: &str| Language::negotiate(Some(h));
    assert_eq!(pick("pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7"), Language::Pl);
    assert_eq!(pick("en;q=0.5, it;q=0.8"), Language::It);
    assert_eq!(pick("de-DE, it-IT;q=0.4, pl;q=0.3"), Language::It);
    assert_eq!(pick("IT"), Language::It);
    // On a tie the first listed wins.
    assert_eq!(pick("pl;q=0.5, it;q=0.5"), Language::Pl);
    assert_eq!(pick("it, pl"), Language::It);
}

#[test]
fn q_zero_refuses_a_language_and_star_takes_any_other() {
    let pick = |h: &str| Language::negotiate(Some(h));
    assert_eq!(pick("pl;q=0, it;q=0.1"), Language::It);
    assert_eq!(pick("en;q=0, *"), Language::Pl);
    assert_eq!(pick("en;q=0, pl;q=0, *;q=0.3"), Language::It);
    assert_eq!(pick("*"), Language::En);
    assert_eq!(pick("de, fr;q=0.9"), Language::En);
}

#[test]
fn a_missing_or_malformed_header_gives_the_default() {
    assert_eq!(Language::negotiate(None), Language::En);
    for bad in [
        "",
        ",,,",
        ";q=1",
        "pl;q=2",
        "pl;q=abc",
        "pl;q=-1",
        "pl;q",
        "pl;q=0.12345",
    ] {
        assert_eq!(Language::negotiate(Some(bad)), Language::En, "{bad:?}");
    }
    // A malformed item is skipped, the others still count.
    assert_eq!(Language::negotiate(Some("pl;q=x, it;q=0.2")), Language::It);
    let long = "xx;q=0.1,".repeat(10_000) + "pl";
    assert_eq!(Language::negotiate(Some(&long)), Language::En);
}

#[test]
fn tags_are_matched_on_their_primary_subtag() {
    assert_eq!(Language::from_tag("pl-PL"), Some(Language::Pl));
    assert_eq!(Language::from_tag("it_CH"), Some(Language::It));
    assert_eq!(Language::from_tag("EN"), Some(Language::En));
    assert_eq!(Language::from_tag("de"), None);
    assert_eq!(Language::from_tag("plx"), None);
}
