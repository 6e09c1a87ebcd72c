//! The app's `Cargo.toml` as the generator reads it: its library's crate name, and
//! its dependencies with the features they get (a `workspace = true` entry's from the
//! workspace's manifest above). What they lack is `needs`' business.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;
use toml::{Table, Value};

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

    /// This manifest as if its workspace's `[workspace.dependencies]` were `deps`.
    #[cfg(test)]
    pub fn with_workspace_deps(self, deps: Table) -> Manifest {
        Manifest {
            workspace_deps: Some(deps),
            ..self
        }
    }

    /// `name` in `[section]`, with the features it gets (its own, and its workspace
    /// entry's when it inherits one).
    pub fn dep(&self, section: &str, name: &str) -> Option<Dep> {
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

/// A dependency as the manifest declares it.
#[derive(Debug, Clone)]
pub struct Dep {
    /// Its key.
    pub name: String,
    /// Its section.
    pub section: Section,
    /// Its entry as written.
    pub spec: Value,
    /// The features it lists (and its workspace entry's).
    pub features: Vec<String>,
    /// Whether its default features are on.
    pub default_features: bool,
    /// `workspace = true`.
    pub inherited: bool,
    /// Inherited from a workspace entry that could not be read: its features are
    /// unknown, and taken to be what is needed.
    pub unknown_features: bool,
}

impl Dep {
    /// Whether `feature` is listed (or may be, for an unknown workspace entry).
    pub fn lists(&self, feature: &str) -> bool {
        self.unknown_features || self.features.iter().any(|f| f == feature)
    }

    /// Whether the default feature `feature` is on: listed, or the defaults left on.
    /// (`macros` is a default feature of `switchboard` and of `actix-web`.)
    pub fn has_default(&self, feature: &str) -> bool {
        self.default_features || self.lists(feature)
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

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    pub(crate) fn manifest(text: &str) -> Manifest {
        Manifest::from_table(text.parse().unwrap(), Path::new("Cargo.toml")).unwrap()
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
    fn workspace_entries_bring_their_features() {
        let text = r#"
            [package]
            name = "a"
            [dependencies]
            switchboard.workspace = true
            serde = { workspace = true, features = ["rc"] }
        "#;
        let m = manifest(text);
        let serde = m.dep("dependencies", "serde").unwrap();
        assert!(serde.inherited && serde.unknown_features);
        assert!(
            serde.lists("derive"),
            "an unknown workspace entry is trusted"
        );
        let m = m.with_workspace_deps(
            r#"
                switchboard = { path = "framework", default-features = false }
                serde = { version = "1", features = ["derive"] }
            "#
            .parse()
            .unwrap(),
        );
        let serde = m.dep("dependencies", "serde").unwrap();
        assert_eq!(serde.features, ["rc", "derive"]);
        let switchboard = m.dep("dependencies", "switchboard").unwrap();
        assert!(!switchboard.default_features && !switchboard.has_default("macros"));
        assert!(m.dep("dev-dependencies", "serde").is_none());
    }

    #[test]
    fn reads_the_workspace_above() {
        let dir = crate::test_dir::TestDir::new("manifest-workspace");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\n[workspace.dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n",
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
        let serde = m.dep("dependencies", "serde").unwrap();
        assert!(!serde.unknown_features);
        assert_eq!(serde.features, ["derive"]);

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
