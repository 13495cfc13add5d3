//! The database path: one client per file whatever spelling reaches it (`sub/../b.db`, a
//! symlink to the file or to its folder), and paths that would silently give up durability
//! (`:memory:`, `file:` URIs) refused with the field named.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::path::Path;
use std::sync::Arc;

use app_conversions::{ConversionsClient, ConversionsError};
use common::{app, config, device, privacy_with_id, GAID};

const UNUSED: &str = "http://127.0.0.1:9";

fn client_at(path: &Path) -> Result<Arc<ConversionsClient>, ConversionsError> {
    ConversionsClient::new(config(UNUSED, path), app(), device(), privacy_with_id(GAID))
}

#[test]
fn another_spelling_of_a_database_in_use_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("b.db");
    std::fs::create_dir(dir.path().join("sub")).expect("sub");
    std::fs::create_dir(dir.path().join("real")).expect("real");
    std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("folder-link"))
        .expect("folder link");
    let first = client_at(&db).expect("first client");
    first.flush(5_000).expect("the file exists now");
    std::os::unix::fs::symlink(&db, dir.path().join("link.db")).expect("file link");
    let second = client_at(&dir.path().join("real/c.db")).expect("another file");

    for other in [
        dir.path().join("sub/../b.db"),
        dir.path().join("./b.db"),
        dir.path().join("link.db"),
        dir.path().join("folder-link/c.db"),
    ] {
        match client_at(&other) {
            Err(ConversionsError::DatabaseInUse { .. }) => {}
            Ok(_) => panic!("{} opened a database in use", other.display()),
            Err(e) => panic!("{}: {e:?}", other.display()),
        }
    }
    first.shutdown(5_000).expect("shutdown");
    second.shutdown(5_000).expect("shutdown");
    // Released: the other spelling is fine now.
    let again = client_at(&dir.path().join("sub/../b.db")).expect("free again");
    again.shutdown(5_000).expect("shutdown");
}

#[test]
fn in_memory_and_uri_paths_are_refused_naming_the_field() {
    for path in [
        ":memory:",
        "file:buffer.db?mode=memory&cache=shared",
        "file::memory:",
        "file:/tmp/buffer.db",
    ] {
        match client_at(Path::new(path)) {
            Err(ConversionsError::InvalidConfig { field, rule }) => {
                assert_eq!(field, "database_path", "{path}");
                assert!(!rule.is_empty());
            }
            other => panic!("{path}: {:?}", other.map(|_| ())),
        }
    }
}
