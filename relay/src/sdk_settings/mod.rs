//! Remote settings for the SDK (docs/remote-settings.md): `GET /v5/ad_accounts/{id}/sdk-settings`
//! answers a small versioned document per ad account, from `sdk_settings` in the configuration
//! or the JSON file `RELAY_SDK_SETTINGS_FILE` names.
//!
//! The design choice: the file is re-read when it changes, noticed by its modification time
//! and length at the next settings request (a device asks at most once per TTL, so a `stat`
//! per request costs nothing), or at once on SIGHUP ([`crate::RelayHandle::reload_sdk_settings`]).
//! A file that cannot be read or breaks a rule on a reload keeps the documents served so far,
//! and says why in the log; at start it is an error.

mod documents;
mod route;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use serde_json::Value;

use documents::{parse_file, Documents, Served};
pub(crate) use route::get_sdk_settings;

/// A settings file as last read: its modification time and length.
type Stamp = (Option<SystemTime>, u64);

/// The documents served, and where they come from.
#[derive(Debug)]
pub(crate) struct SdkSettings {
    /// `sdk_settings` from the configuration.
    inline: BTreeMap<String, Value>,
    /// `sdk_settings_file`, whose entries replace the inline ones of the same ad account.
    file: Option<PathBuf>,
    current: RwLock<Arc<Documents>>,
    /// The file's stamp when it was last read.
    read_stamp: Mutex<Option<Stamp>>,
}

impl SdkSettings {
    /// Builds the documents from the configuration and reads the file; the error names the
    /// file or the ad account and the rule.
    pub(crate) fn new(
        inline: &BTreeMap<String, Value>,
        file: Option<PathBuf>,
    ) -> Result<SdkSettings, String> {
        let settings = SdkSettings {
            inline: inline.clone(),
            file,
            current: RwLock::new(Arc::new(Documents::default())),
            read_stamp: Mutex::new(None),
        };
        settings.reload()?;
        Ok(settings)
    }

    /// Reads the file again (SIGHUP, or a change noticed); on an error the documents served
    /// so far stay.
    pub(crate) fn reload(&self) -> Result<(), String> {
        let stamp = self.file.as_ref().and_then(|path| stamp_of(path));
        let mut merged = self.inline.clone();
        if let Some(path) = &self.file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("sdk settings file {}: {e}", path.display()))?;
            let from_file = parse_file(&text)
                .map_err(|e| format!("sdk settings file {}: {e}", path.display()))?;
            merged.extend(from_file);
        }
        let documents = Documents::build(&merged)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(documents);
        *self.read_stamp.lock().unwrap_or_else(|e| e.into_inner()) = stamp;
        Ok(())
    }

    /// Reads the file again if it changed since it was last read; logs a failed reload.
    fn reload_if_changed(&self) {
        let Some(path) = &self.file else {
            return;
        };
        let now = stamp_of(path);
        let changed = *self.read_stamp.lock().unwrap_or_else(|e| e.into_inner()) != now;
        if changed {
            if let Err(e) = self.reload() {
                tracing::warn!(error = %e, "sdk settings not reloaded; the documents served so far stay");
                // Not read again until it changes again.
                *self.read_stamp.lock().unwrap_or_else(|e| e.into_inner()) = now;
            }
        }
    }

    /// The document for `account`, after noticing a changed file.
    fn document(&self, account: &str) -> Served {
        self.reload_if_changed();
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(account)
    }

    /// How many ad accounts have settings.
    pub(crate) fn accounts(&self) -> usize {
        self.current.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn stamp_of(path: &std::path::Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok(), meta.len()))
}
