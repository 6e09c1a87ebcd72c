//! The dependency lines the generated code and its test need, and the app's
//! `Cargo.toml` lacks.
//!
//! The generator never edits `Cargo.toml` (comments and layout are the user's); it
//! prints the lines to add instead, ready to paste.

use toml::{Table, Value};

use crate::manifest::{Dep, Manifest, Section};

/// The version of `switchboard` this generator writes code for (`0.1`): the generator
/// is released with the framework, so its own version says.
fn switchboard_requirement() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("0.{minor}"),
        (Some(major), _) => major.to_owned(),
        (None, _) => version.to_owned(),
    }
}

/// The dependency lines the generated code and test need that `manifest` lacks.
pub fn missing_lines(manifest: &Manifest) -> Vec<Line> {
    let mut lines = Vec::new();
    let deps = manifest.dep("dependencies", "switchboard");
    match &deps {
        None => lines.push(Line::new(
            Section::Dependencies,
            "switchboard",
            Value::String(switchboard_requirement()),
            false,
        )),
        // The derives are behind `macros`, a default feature.
        Some(dep) if !dep.has_default("macros") => {
            lines.push(dep.with_feature(Section::Dependencies, "macros"));
        }
        Some(_) => {}
    }
    match manifest.dep("dependencies", "serde") {
        None => lines.push(Line::new(
            Section::Dependencies,
            "serde",
            inline(&[("version", "1".into()), ("features", features(&["derive"]))]),
            false,
        )),
        Some(dep) if !dep.lists("derive") => {
            lines.push(dep.with_feature(Section::Dependencies, "derive"));
        }
        Some(_) => {}
    }

    // The test: `switchboard::testing`, `#[actix_web::test]`, `serde_json::json!`.
    let dev = manifest.dep("dev-dependencies", "switchboard");
    let has_testing = |d: &Option<Dep>| d.as_ref().is_some_and(|d| d.lists("testing"));
    if !has_testing(&deps) && !has_testing(&dev) {
        lines.push(match (&dev, &deps) {
            (Some(dev), _) => dev.with_feature(Section::DevDependencies, "testing"),
            // The same source as the normal dependency (a path stays a path), and
            // its `default-features = false` too: a dev-dependency without it would
            // turn the default features back on in tests.
            (None, Some(normal)) => normal.dev_copy_with("testing"),
            (None, None) => Line::new(
                Section::DevDependencies,
                "switchboard",
                inline(&[
                    ("version", switchboard_requirement().into()),
                    ("features", features(&["testing"])),
                ]),
                false,
            ),
        });
    }
    let actix = manifest
        .dep("dependencies", "actix-web")
        .or_else(|| manifest.dep("dev-dependencies", "actix-web"));
    match actix {
        None => lines.push(Line::new(
            Section::DevDependencies,
            "actix-web",
            inline(&[
                ("version", "4".into()),
                ("default-features", Value::Boolean(false)),
                ("features", features(&["macros"])),
            ]),
            false,
        )),
        Some(dep) if !dep.has_default("macros") => {
            lines.push(dep.with_feature(dep.section, "macros"));
        }
        Some(_) => {}
    }
    if manifest.dep("dependencies", "serde_json").is_none()
        && manifest.dep("dev-dependencies", "serde_json").is_none()
    {
        lines.push(Line::new(
            Section::DevDependencies,
            "serde_json",
            "1".into(),
            false,
        ));
    }
    lines
}

/// One dependency line to add, or to put in place of the app's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its section.
    pub section: Section,
    /// `switchboard = { … }`.
    pub text: String,
    /// Whether the app has a line for this dependency in that section, which this one
    /// replaces (with a feature added).
    pub replaces: bool,
}

impl Line {
    fn new(section: Section, name: &str, spec: Value, replaces: bool) -> Line {
        Line {
            section,
            text: format!("{name} = {}", render(&spec)),
            replaces,
        }
    }
}

impl Dep {
    /// This line with `feature` added, in `section`.
    fn with_feature(&self, section: Section, feature: &str) -> Line {
        let mut spec = match &self.spec {
            Value::String(version) => inline(&[("version", version.clone().into())]),
            other => other.clone(),
        };
        add_feature(&mut spec, feature);
        Line::new(section, &self.name, spec, section == self.section)
    }

    /// A `[dev-dependencies]` line for this normal dependency with only `feature`.
    fn dev_copy_with(&self, feature: &str) -> Line {
        const SOURCE_KEYS: [&str; 8] = [
            "workspace",
            "version",
            "path",
            "git",
            "branch",
            "tag",
            "rev",
            "registry",
        ];
        let mut spec = match &self.spec {
            Value::String(version) => inline(&[("version", version.clone().into())]),
            Value::Table(table) => {
                let mut copy = Table::new();
                for key in SOURCE_KEYS {
                    if let Some(value) = table.get(key) {
                        copy.insert(key.to_owned(), value.clone());
                    }
                }
                // An inherited dependency takes `default-features` from the workspace.
                if !self.inherited && !self.default_features {
                    copy.insert("default-features".to_owned(), Value::Boolean(false));
                }
                Value::Table(copy)
            }
            other => other.clone(),
        };
        add_feature(&mut spec, feature);
        Line::new(Section::DevDependencies, &self.name, spec, false)
    }
}

fn add_feature(spec: &mut Value, feature: &str) {
    if let Value::Table(table) = spec {
        let list = table
            .entry("features")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list
            && !items.iter().any(|i| i.as_str() == Some(feature))
        {
            items.push(feature.into());
        }
    }
}

fn features(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|&n| n.into()).collect())
}

fn inline(pairs: &[(&str, Value)]) -> Value {
    Value::Table(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// A dependency spec as one line, keys in the order people write them (a `Table`
/// sorts its keys, or keeps the file's order, depending on toml's features).
fn render(spec: &Value) -> String {
    const ORDER: [&str; 12] = [
        "workspace",
        "version",
        "path",
        "git",
        "branch",
        "tag",
        "rev",
        "registry",
        "package",
        "default-features",
        "optional",
        "features",
    ];
    let Value::Table(table) = spec else {
        return spec.to_string();
    };
    let rank = |key: &str| ORDER.iter().position(|k| *k == key).unwrap_or(ORDER.len());
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    let fields: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{k} = {}", render(&table[k.as_str()])))
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::manifest::tests::manifest;

    fn texts(lines: &[Line]) -> Vec<(Section, &str, bool)> {
        lines
            .iter()
            .map(|l| (l.section, l.text.as_str(), l.replaces))
            .collect()
    }

    #[test]
    fn an_empty_app_needs_everything() {
        let lines = missing_lines(&manifest("[package]\nname = \"a\""));
        let version = switchboard_requirement();
        assert_eq!(
            texts(&lines),
            [
                (
                    Section::Dependencies,
                    format!("switchboard = \"{version}\"").as_str(),
                    false
                ),
                (
                    Section::Dependencies,
                    "serde = { version = \"1\", features = [\"derive\"] }",
                    false
                ),
                (
                    Section::DevDependencies,
                    format!(
                        "switchboard = {{ version = \"{version}\", features = [\"testing\"] }}"
                    )
                    .as_str(),
                    false
                ),
                (
                    Section::DevDependencies,
                    "actix-web = { version = \"4\", default-features = false, features = [\"macros\"] }",
                    false
                ),
                (Section::DevDependencies, "serde_json = \"1\"", false),
            ]
        );
    }

    #[test]
    fn a_complete_app_needs_nothing() {
        let text = r#"
            [package]
            name = "a"
            [dependencies]
            switchboard = "0.1"
            serde = { version = "1", features = ["derive"] }
            actix-web = "4"
            serde_json = "1"
            [dev-dependencies]
            switchboard = { version = "0.1", features = ["testing"] }
        "#;
        assert_eq!(missing_lines(&manifest(text)), []);
    }

    #[test]
    fn a_lean_path_dependency_is_copied_for_the_tests() {
        let text = r#"
            [package]
            name = "a"
            [dependencies]
            switchboard = { path = "../framework", default-features = false, features = ["macros"] }
            serde = "1"
            [dev-dependencies]
            actix-web = { version = "4", default-features = false }
            serde_json = "1"
        "#;
        assert_eq!(
            texts(&missing_lines(&manifest(text))),
            [
                (
                    Section::Dependencies,
                    "serde = { version = \"1\", features = [\"derive\"] }",
                    true
                ),
                (
                    Section::DevDependencies,
                    "switchboard = { path = \"../framework\", default-features = false, features = [\"testing\"] }",
                    false
                ),
                (
                    Section::DevDependencies,
                    "actix-web = { version = \"4\", default-features = false, features = [\"macros\"] }",
                    true
                ),
            ]
        );
    }

    #[test]
    fn macros_off_is_noticed() {
        let text = r#"
            [package]
            name = "a"
            [dependencies]
            switchboard = { version = "0.1", default-features = false }
        "#;
        assert_eq!(
            missing_lines(&manifest(text))[0].text,
            "switchboard = { version = \"0.1\", default-features = false, features = [\"macros\"] }"
        );
    }

    #[test]
    fn workspace_entries_count_with_their_features() {
        let text = r#"
            [package]
            name = "a"
            [dependencies]
            switchboard.workspace = true
            serde = { workspace = true }
            serde_json.workspace = true
            actix-web.workspace = true
            [dev-dependencies]
            switchboard = { workspace = true, features = ["testing"] }
        "#;
        let m = manifest(text);
        // Unknown workspace: trusted.
        assert_eq!(missing_lines(&m), []);
        let m = m.with_workspace_deps(
            r#"
                switchboard = { path = "framework", default-features = false }
                serde = { version = "1", features = ["derive"] }
                serde_json = "1"
                actix-web = { version = "4", default-features = false, features = ["macros"] }
            "#
            .parse()
            .unwrap(),
        );
        assert_eq!(
            texts(&missing_lines(&m)),
            [(
                Section::Dependencies,
                "switchboard = { workspace = true, features = [\"macros\"] }",
                true
            )]
        );
    }
}
