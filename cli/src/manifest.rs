//! The app's `Cargo.toml`: its library's crate name, and the dependency lines the
//! generated code needs that it lacks.
//!
//! The generator never edits `Cargo.toml` (comments and layout are the user's); it
//! prints the lines to add instead.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;
use toml::{Table, Value};

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

/// Why the app's manifest cannot be used.
#[derive(Debug, Error)]
pub enum ManifestError {
    /// No `Cargo.toml` in the app directory.
    #[error(
        "{} has no Cargo.toml; run the command in the app's package directory, or give it \
         with --app DIR",
        dir.display()
    )]
    Missing {
        /// The app directory.
        dir: PathBuf,
    },
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The manifest.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("{} is not valid TOML: {source}", path.display())]
    Parse {
        /// The manifest.
        path: PathBuf,
        /// What the parser said.
        source: Box<toml::de::Error>,
    },
    /// A workspace root without a package.
    #[error(
        "{} has no [package] (a virtual workspace manifest?); give the app's package \
         directory with --app DIR",
        path.display()
    )]
    NotAPackage {
        /// The manifest.
        path: PathBuf,
    },
}

/// What the generator needs to know of the app's manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The library's crate name (`[lib] name`, else the package name with `_` for `-`).
    pub lib_name: String,
    table: Table,
    /// `[workspace.dependencies]` of the enclosing workspace, for `workspace = true`.
    workspace_deps: Option<Table>,
}

impl Manifest {
    /// Reads `dir/Cargo.toml`, and the workspace root's above it when there is one.
    pub fn read(dir: &Path) -> Result<Manifest, ManifestError> {
        let path = dir.join("Cargo.toml");
        if !path.is_file() {
            return Err(ManifestError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let table = read_table(&path)?;
        let manifest = Manifest::from_table(table, &path)?;
        Ok(Manifest {
            workspace_deps: find_workspace_deps(dir, &manifest.table),
            ..manifest
        })
    }

    /// A manifest from its parsed table (`path` is for messages).
    fn from_table(table: Table, path: &Path) -> Result<Manifest, ManifestError> {
        let package_name = table
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| ManifestError::NotAPackage {
                path: path.to_path_buf(),
            })?;
        let lib_name = table
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(package_name)
            .replace('-', "_");
        Ok(Manifest {
            lib_name,
            table,
            workspace_deps: None,
        })
    }

    /// The dependency lines the generated code and test need that the manifest lacks.
    pub fn missing_lines(&self) -> Vec<Line> {
        let mut lines = Vec::new();
        let deps = self.dep("dependencies", "switchboard");
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
        match self.dep("dependencies", "serde") {
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
        let dev = self.dep("dev-dependencies", "switchboard");
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
        let actix = self
            .dep("dependencies", "actix-web")
            .or_else(|| self.dep("dev-dependencies", "actix-web"));
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
        if self.dep("dependencies", "serde_json").is_none()
            && self.dep("dev-dependencies", "serde_json").is_none()
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

    /// `name` in `[section]`, with the features it gets (its own, and its workspace
    /// entry's when it inherits one).
    fn dep(&self, section: &str, name: &str) -> Option<Dep> {
        let spec = self.table.get(section)?.get(name)?.clone();
        let section = if section == "dependencies" {
            Section::Dependencies
        } else {
            Section::DevDependencies
        };
        let mut dep = Dep {
            name: name.to_owned(),
            section,
            features: string_list(spec.get("features")),
            default_features: spec
                .get("default-features")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            inherited: spec.get("workspace").and_then(Value::as_bool) == Some(true),
            unknown_features: false,
            spec,
        };
        if dep.inherited {
            // Inherited: the workspace entry gives the default features and more
            // features. Without the workspace's manifest, trust it has what it needs.
            match self.workspace_deps.as_ref().and_then(|w| w.get(name)) {
                Some(entry) => {
                    dep.features.extend(string_list(entry.get("features")));
                    dep.default_features = entry
                        .get("default-features")
                        .and_then(Value::as_bool)
                        .unwrap_or(true);
                }
                None => dep.unknown_features = true,
            }
        }
        Some(dep)
    }
}

fn read_table(path: &Path) -> Result<Table, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse::<Table>()
        .map_err(|source| ManifestError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
}

/// `[workspace.dependencies]` of the workspace `dir` belongs to: its own manifest's
/// when it is the root, else the first ancestor's with a `[workspace]`. A manifest
/// that cannot be read is skipped, as cargo would complain about it anyway.
fn find_workspace_deps(dir: &Path, own: &Table) -> Option<Table> {
    let deps_of = |t: &Table| -> Option<Table> {
        t.get("workspace")?.get("dependencies")?.as_table().cloned()
    };
    if own.contains_key("workspace") {
        return deps_of(own);
    }
    let dir = dir.canonicalize().ok()?;
    for ancestor in dir.ancestors().skip(1) {
        let path = ancestor.join("Cargo.toml");
        if let Ok(table) = read_table(&path)
            && table.contains_key("workspace")
        {
            return deps_of(&table);
        }
    }
    None
}

/// Where a line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `[dependencies]`.
    Dependencies,
    /// `[dev-dependencies]`.
    DevDependencies,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Dependencies => "[dependencies]",
            Section::DevDependencies => "[dev-dependencies]",
        })
    }
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

/// A dependency as the manifest declares it.
#[derive(Debug, Clone)]
struct Dep {
    name: String,
    section: Section,
    spec: Value,
    features: Vec<String>,
    default_features: bool,
    inherited: bool,
    /// Inherited from a workspace entry that could not be read: its features are
    /// unknown, and taken to be what is needed.
    unknown_features: bool,
}

impl Dep {
    /// Whether `feature` is listed (or may be, for an unknown workspace entry).
    fn lists(&self, feature: &str) -> bool {
        self.unknown_features || self.features.iter().any(|f| f == feature)
    }

    /// Whether the default feature `feature` is on: listed, or the defaults left on.
    /// (`macros` is a default feature of `switchboard` and of `actix-web`.)
    fn has_default(&self, feature: &str) -> bool {
        self.default_features || self.lists(feature)
    }

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

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
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

    fn manifest(text: &str) -> Manifest {
        Manifest::from_table(text.parse().unwrap(), Path::new("Cargo.toml")).unwrap()
    }

    fn texts(lines: &[Line]) -> Vec<(Section, &str, bool)> {
        lines
            .iter()
            .map(|l| (l.section, l.text.as_str(), l.replaces))
            .collect()
    }

    #[test]
    fn crate_names() {
        assert_eq!(manifest("[package]\nname = \"my-app\"").lib_name, "my_app");
        assert_eq!(
            manifest("[package]\nname = \"my-app\"\n[lib]\nname = \"core\"").lib_name,
            "core"
        );
        assert!(matches!(
            Manifest::from_table(
                "[workspace]\nmembers = []".parse().unwrap(),
                Path::new("Cargo.toml")
            ),
            Err(ManifestError::NotAPackage { .. })
        ));
    }

    #[test]
    fn an_empty_app_needs_everything() {
        let lines = manifest("[package]\nname = \"a\"").missing_lines();
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
        assert_eq!(manifest(text).missing_lines(), []);
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
            texts(&manifest(text).missing_lines()),
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
            manifest(text).missing_lines()[0].text,
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
        let mut m = manifest(text);
        // Unknown workspace: trusted.
        assert_eq!(m.missing_lines(), []);
        m.workspace_deps = Some(
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
            texts(&m.missing_lines()),
            [(
                Section::Dependencies,
                "switchboard = { workspace = true, features = [\"macros\"] }",
                true
            )]
        );
    }

    #[test]
    fn reads_the_workspace_above() {
        let dir = crate::test_dir::TestDir::new("manifest-workspace");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\n[workspace.dependencies]\nserde = \"1\"\n",
        )
        .unwrap();
        let app = dir.path().join("app");
        std::fs::create_dir(&app).unwrap();
        std::fs::write(
            app.join("Cargo.toml"),
            "[package]\nname = \"app\"\n[dependencies]\nserde.workspace = true\n",
        )
        .unwrap();
        let m = Manifest::read(&app).unwrap();
        assert!(m.workspace_deps.is_some());
        // The workspace's serde has no derive: the app's line gets it.
        assert!(m.missing_lines().iter().any(|l| l.text
            == "serde = { workspace = true, features = [\"derive\"] }"
            && l.replaces));

        assert!(matches!(
            Manifest::read(dir.path().join("nowhere").as_path()),
            Err(ManifestError::Missing { .. })
        ));
        std::fs::write(app.join("Cargo.toml"), "[package\n").unwrap();
        assert!(matches!(
            Manifest::read(&app),
            Err(ManifestError::Parse { .. })
        ));
    }
}
