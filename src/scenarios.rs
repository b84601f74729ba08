//! Reads a `--scenarios DIR`: the `*.toml` files that contract cases and load flows come from.

use crate::error::{Result, UsageError};
use std::path::Path;

/// The `*.toml` files of `dir`, sorted by path, with their text.
pub fn files(dir: &Path) -> Result<Vec<(String, String)>> {
    let read = |path: &Path, source| UsageError::Read { what: "--scenarios", path: path.to_path_buf(), source };
    let entries = std::fs::read_dir(dir).map_err(|e| read(dir, e))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            std::fs::read_to_string(&path)
                .map(|text| (path.display().to_string(), text))
                .map_err(|e| read(&path, e).into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_toml_files_in_order_and_names_a_missing_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.toml"), "b").unwrap();
        std::fs::write(dir.path().join("a.toml"), "a").unwrap();
        std::fs::write(dir.path().join("c.txt"), "c").unwrap();
        let texts: Vec<String> = files(dir.path()).unwrap().into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts, ["a", "b"]);
        let missing = dir.path().join("nope");
        let err = crate::error::chain(&files(&missing).unwrap_err());
        assert!(err.starts_with(&format!("could not read --scenarios {}: ", missing.display())), "{err}");
    }
}
