//! The knowledge folder watcher: file-system changes (not reads) to the folder, once they settle,
//! refresh the engine off the async runtime; the engine rebuilds only when the folder's
//! fingerprint changed, and questions keep the old generation until the new one is swapped in.

use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::notify;
use tracing::{debug, error, info, warn};

use super::bot::log_refresh;
use super::uploads::Uploads;

/// How long the knowledge folder must be quiet after a change before the index is refreshed.
const SETTLE: Duration = Duration::from_secs(1);

/// Whether a file-system event can change what the folder holds. Reads are not changes: the
/// refresh itself opens and reads every file, and inotify reports each open and close, so
/// counting them made every refresh trigger the next, twice a second without end.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{EventKind, MetadataKind, ModifyKind};
    !matches!(kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)))
}

/// Watches the knowledge folder and refreshes the shared engine once changes settle
/// ([`SETTLE`]), then the servers' engines (which index the same folder); an engine rebuilds
/// only when its folders' fingerprint changed. The returned guard stops watching when dropped.
pub(super) fn watch_knowledge(uploads: Arc<Uploads>) -> Option<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let dir = uploads.shared().config().knowledge_dir.clone();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let handler = move |event: notify::Result<notify::Event>| match event {
        Ok(e) if is_change(&e.kind) => {
            let _ = tx.send(());
        }
        Ok(_) => {}
        Err(e) => warn!(error = %e, "watch error"),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            warn!(error = %e, "cannot watch the knowledge folder; use /reindex after changes");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::Recursive) {
        warn!(error = %e, dir = %dir.display(), "cannot watch the knowledge folder; use /reindex after changes");
        return None;
    }
    std::thread::Builder::new()
        .name("isnad-watch".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                // wait for the folder to be quiet: a copy of many files is one refresh
                loop {
                    match rx.recv_timeout(SETTLE) {
                        Ok(()) => continue,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                match uploads.shared().refresh(false, &|_, _| {}) {
                    Ok(report) if report.rebuilt => {
                        info!("knowledge folder changed");
                        log_refresh(&report);
                        uploads.refresh_servers(None);
                    }
                    Ok(_) => debug!("knowledge folder touched; its content is unchanged"),
                    Err(e) => error!(error = %e, "reindex after a change failed; the previous index stays live"),
                }
            }
        })
        .map_err(|e| warn!(error = %e, "cannot start the watcher thread"))
        .ok()?;
    info!(dir = %dir.display(), "watching the knowledge folder");
    Some(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_changes() {
        use notify::event::{AccessKind, CreateKind, EventKind, ModifyKind};
        assert!(!is_change(&EventKind::Access(AccessKind::Any)));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));
    }
}
