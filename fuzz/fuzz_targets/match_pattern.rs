//! Channel patterns: parsing never panics, and matching agrees with the regex the
//! runtime compiles from the same pattern (a differential check of two matchers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_pattern::{Pattern, validate_channel_name};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // "pattern\nname\nother-pattern"
    let mut parts = text.splitn(3, '\n');
    let (Some(source), Some(name)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(pattern) = Pattern::parse(source) else {
        return;
    };
    if validate_channel_name(name).is_err() {
        return;
    }
    let regex = regex::Regex::new(&pattern.to_regex()).expect("every parsed pattern compiles");
    let ours = pattern.matches(name);
    let theirs = regex.captures(name);
    assert_eq!(ours.is_some(), theirs.is_some(), "{source:?} vs {name:?}");
    if let (Some(ours), Some(theirs)) = (ours, theirs) {
        for i in 0..ours.len() {
            assert_eq!(ours.get_index(i), theirs.get(i + 1).map(|m| m.as_str()));
        }
    }
    // A name both patterns match means they overlap.
    if let Some(Ok(other)) = parts.next().map(Pattern::parse) {
        if pattern.matches(name).is_some() && other.matches(name).is_some() {
            assert!(pattern.overlaps(&other), "{source:?} and {:?} both match {name:?}", other.source());
        }
    }
});
