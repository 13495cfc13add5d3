//! What the SDK keeps on disk for a buffer: the database and every file beside it that shares
//! its name (`-wal`, `-shm`, the install and click-id sidecars, the lock file), for tests that
//! check nothing sensitive is stored.

use std::path::Path;

/// The files of the buffer at `db`, each as (file name, bytes). Fails unless the database file
/// itself exists and holds data, so a check over them cannot pass by reading nothing.
pub fn buffer_files(db: &Path) -> Vec<(String, Vec<u8>)> {
    let name = db
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a database file name")
        .to_string();
    let folder = db.parent().expect("the database's folder");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
        .expect("read the database's folder")
        .map(|entry| entry.expect("folder entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&name))
        })
        .map(|path| {
            let file = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {file}: {e}"));
            (file.to_string(), bytes)
        })
        .collect();
    files.sort();
    let database = files.iter().find(|(file, _)| *file == name);
    assert!(
        database.is_some_and(|(_, bytes)| !bytes.is_empty()),
        "the database {} was not there to read: {:?}",
        db.display(),
        files.iter().map(|(file, _)| file).collect::<Vec<_>>()
    );
    files
}

/// True when `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
