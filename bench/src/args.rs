//! A minimal `--key value` command-line parser (the binaries take a handful of options).

use std::collections::HashMap;
use std::str::FromStr;

/// Options given as `--key value` (or `--key=value`), and positional words.
#[derive(Debug, Default)]
pub struct Args {
    options: HashMap<String, String>,
    /// Words that are not options, in order.
    pub positional: Vec<String>,
}

impl Args {
    /// Parses the process arguments (without the program name).
    pub fn from_env() -> Result<Self, String> {
        Self::parse(std::env::args().skip(1))
    }

    /// Parses `words`.
    pub fn parse(words: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = Self::default();
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            let Some(key) = word.strip_prefix("--") else {
                args.positional.push(word);
                continue;
            };
            let (key, value) = match key.split_once('=') {
                Some((key, value)) => (key.to_owned(), value.to_owned()),
                None => {
                    let value = words
                        .next()
                        .ok_or_else(|| format!("option --{key} needs a value"))?;
                    (key.to_owned(), value)
                }
            };
            args.options.insert(key, value);
        }
        Ok(args)
    }

    /// The value of `--key`, parsed; `None` when absent.
    pub fn get<T: FromStr>(&self, key: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        self.options
            .get(key)
            .map(|value| {
                value
                    .parse()
                    .map_err(|e| format!("option --{key} {value}: {e}"))
            })
            .transpose()
    }

    /// The value of `--key`, parsed, or `default`.
    pub fn get_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        Ok(self.get(key)?.unwrap_or(default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_positionals() {
        let args = Args::parse(
            ["run", "--n", "5", "--url=ws://x", "extra"]
                .into_iter()
                .map(String::from),
        )
        .expect("parses");
        assert_eq!(args.positional, ["run", "extra"]);
        assert_eq!(args.get::<usize>("n"), Ok(Some(5)));
        assert_eq!(args.get_or("url", String::new()), Ok("ws://x".to_owned()));
        assert_eq!(args.get_or("missing", 7u32), Ok(7));
        assert!(args.get::<usize>("url").is_err());
    }
}
