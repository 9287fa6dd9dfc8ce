//! The server's state between messages: workspace roots, open documents, the engine's cache
//! and the findings last published for each file.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidChangeWorkspaceFolders, DidCloseTextDocument,
    DidOpenTextDocument, DidSaveTextDocument, Initialized, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, RegisterCapability, Request as _};
use lsp_types::{
    CodeActionParams, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, FileChangeType, HoverParams, InitializeParams,
    PublishDiagnosticsParams, Uri,
};

use super::convert::{self, FileFindings};
use super::documents::{Document, Documents};
use super::features;
use crate::engine::{Cache, DiskChange, Session, Settings};

pub struct Server<'c> {
    connection: &'c Connection,
    roots: Vec<PathBuf>,
    documents: Documents,
    cache: Arc<Cache>,
    /// The last run, which an edit of plain manifest files patches.
    session: Session,
    /// The findings last published, only for files that had some.
    published: BTreeMap<PathBuf, FileFindings>,
    /// A lintable file changed since the last lint.
    stale: bool,
    /// The client can watch files for the server (`workspace/didChangeWatchedFiles` with
    /// dynamic registration).
    can_watch: bool,
    /// The id of the request that asked the client to watch the workspace, until answered.
    watch_request: Option<RequestId>,
}

/// The id of the server's one request to the client: to watch the workspace's files.
const WATCH_REQUEST: &str = "irsa-lint/watch-files";

/// What one run of the engine gave.
enum Linted {
    /// A report, in the session.
    Report,
    /// No workspace folder and no open document: every finding is cleared.
    Nothing,
    /// The run failed: the findings published before stay.
    Failed,
}

/// The folders to lint: the workspace folders, else the root URI of older clients.
pub fn workspace_roots(params: &InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = &params.workspace_folders
        && !folders.is_empty()
    {
        return folders
            .iter()
            .filter_map(|f| super::uri::to_path(&f.uri))
            .collect();
    }
    #[allow(deprecated)]
    let root = params.root_uri.as_ref();
    root.and_then(super::uri::to_path).into_iter().collect()
}

/// Whether the client can watch files for the server: then a lint need not walk the
/// workspace nor look at every file again after each edit.
pub fn can_watch_files(params: &InitializeParams) -> bool {
    (params.capabilities.workspace.as_ref())
        .and_then(|w| w.did_change_watched_files)
        .and_then(|w| w.dynamic_registration)
        .unwrap_or(false)
}

/// The path of a document irsa-lint reads (`.tf`, `.tfvars`, `.yaml`, `.yml`, `.json`, ...).
fn lintable(uri: &Uri) -> Option<PathBuf> {
    let path = super::uri::to_path(uri)?;
    crate::discover::classify(&path).map(|_| path)
}

impl<'c> Server<'c> {
    pub fn new(connection: &'c Connection, roots: Vec<PathBuf>, can_watch: bool) -> Self {
        Server {
            connection,
            roots,
            documents: Documents::default(),
            cache: Arc::new(Cache::default()),
            session: Session::default(),
            published: BTreeMap::new(),
            stale: true,
            can_watch,
            watch_request: None,
        }
    }

    /// Ask the client to report every file created, changed or deleted in the workspace.
    /// Until it agrees, each lint walks the folders and looks at every file's modification
    /// time, as without a watcher.
    fn watch_files(&mut self) {
        let id = RequestId::from(WATCH_REQUEST.to_string());
        let params = serde_json::json!({
            "registrations": [{
                "id": WATCH_REQUEST,
                "method": DidChangeWatchedFiles::METHOD,
                "registerOptions": { "watchers": [{ "globPattern": "**/*" }] },
            }],
        });
        let request = Request::new(id.clone(), RegisterCapability::METHOD.to_string(), params);
        self.watch_request = Some(id);
        self.send(request.into());
    }

    /// The client's answer to a request of the server's.
    pub fn on_response(&mut self, response: Response) {
        if self.watch_request.as_ref() != Some(&response.id) {
            return;
        }
        self.watch_request = None;
        match response.response_result {
            Ok(_) => {
                self.cache.watch();
                // The next lint looks at every file once, to see changes made before the watch.
                self.stale = true;
            }
            Err(e) => log(&format!(
                "the client does not watch files ({}); every lint walks the workspace",
                e.message
            )),
        }
    }

    pub fn is_stale(&self) -> bool {
        self.stale
    }

    pub fn on_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => self.with(n, |s, p: DidOpenTextDocumentParams| {
                let Some(path) = lintable(&p.text_document.uri) else {
                    return;
                };
                let item = p.text_document;
                let document = Document::new(item.uri, item.version, item.text);
                s.documents.open(path, document);
                s.stale = true;
            }),
            DidChangeTextDocument::METHOD => self.with(n, |s, p: DidChangeTextDocumentParams| {
                let Some(path) = lintable(&p.text_document.uri) else {
                    return;
                };
                let (version, changes) = (p.text_document.version, p.content_changes);
                s.stale |= s.documents.change(&path, version, changes);
            }),
            Initialized::METHOD if self.can_watch => self.watch_files(),
            DidSaveTextDocument::METHOD => self.with(n, |s, p: DidSaveTextDocumentParams| {
                if let Some(path) = lintable(&p.text_document.uri) {
                    s.cache.disk_changed(&path, DiskChange::Changed);
                    s.stale = true;
                }
            }),
            DidCloseTextDocument::METHOD => self.with(n, |s, p: DidCloseTextDocumentParams| {
                if let Some(path) = lintable(&p.text_document.uri) {
                    s.stale |= s.documents.close(&path);
                }
            }),
            DidChangeWorkspaceFolders::METHOD => {
                self.with(n, |s, p: DidChangeWorkspaceFoldersParams| {
                    let removed: Vec<PathBuf> = (p.event.removed.iter())
                        .filter_map(|f| super::uri::to_path(&f.uri))
                        .collect();
                    s.roots.retain(|r| !removed.contains(r));
                    let added = p.event.added.iter();
                    s.roots
                        .extend(added.filter_map(|f| super::uri::to_path(&f.uri)));
                    s.stale = true;
                })
            }
            // Files changed on disk behind the editor's back (a checkout, a generator).
            DidChangeWatchedFiles::METHOD => self.with(n, |s, p: DidChangeWatchedFilesParams| {
                for event in p.changes {
                    let Some(path) = super::uri::to_path(&event.uri) else {
                        continue;
                    };
                    let change = match event.typ {
                        FileChangeType::CREATED => DiskChange::Created,
                        FileChangeType::DELETED => DiskChange::Deleted,
                        _ => DiskChange::Changed,
                    };
                    s.stale |= s.cache.disk_changed(&path, change);
                }
            }),
            _ => {}
        }
    }

    /// Decode a notification's parameters and act on them; malformed ones are ignored, as
    /// the protocol has no way to answer a notification.
    fn with<P: serde::de::DeserializeOwned>(
        &mut self,
        n: Notification,
        act: impl FnOnce(&mut Self, P),
    ) {
        match serde_json::from_value::<P>(n.params) {
            Ok(params) => act(self, params),
            Err(e) => log(&format!("ignored {}: {e}", n.method)),
        }
    }

    pub fn on_request(&mut self, request: Request) {
        // Positions in a request refer to the text as edited so far.
        if self.stale {
            self.relint();
        }
        let id = request.id.clone();
        let response = match request.method.as_str() {
            HoverRequest::METHOD => self.answer(request, |s, p: HoverParams| {
                let at = p.text_document_position_params;
                let path = super::uri::to_path(&at.text_document.uri);
                let findings = s.findings_of(path.as_deref());
                let text = path.as_ref().and_then(|p| s.documents.get(p));
                features::hover(
                    findings,
                    text.and_then(Document::text).as_deref(),
                    at.position,
                )
            }),
            CodeActionRequest::METHOD => self.answer(request, |s, p: CodeActionParams| {
                let path = super::uri::to_path(&p.text_document.uri);
                let only = p.context.only.as_deref();
                features::code_actions(s.findings_of(path.as_deref()), p.range, only)
            }),
            method => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("irsa-lint does not answer {method}"),
            ),
        };
        self.send(response.into());
    }

    fn answer<P, R>(&self, request: Request, act: impl FnOnce(&Self, P) -> R) -> Response
    where
        P: serde::de::DeserializeOwned,
        R: serde::Serialize,
    {
        match serde_json::from_value::<P>(request.params) {
            Ok(params) => Response::new_ok(request.id, act(self, params)),
            Err(e) => Response::new_err(
                request.id,
                ErrorCode::InvalidParams as i32,
                format!("bad {} params: {e}", request.method),
            ),
        }
    }

    fn findings_of(&self, path: Option<&Path>) -> &[convert::Finding] {
        path.and_then(|p| self.published.get(p))
            .map_or(&[], |f| &f.findings)
    }

    /// Lint the workspace with the open texts and publish what changed: the findings of
    /// every file that has some, and an empty list for every file that had some before.
    /// Returns whether messages arrived while the lint ran, before its findings went out:
    /// what a client sends once it has them answers them, and is no stream of edits.
    pub fn relint(&mut self) -> bool {
        self.stale = false;
        let started = Instant::now();
        let linted = self.lint();
        let arrived_while_linting = !self.connection.receiver.is_empty();
        let (fresh, files_read) = match (linted, self.session.report()) {
            (Linted::Report, Some(report)) => {
                let fresh = convert::findings_by_file(report, &self.documents.uris());
                (fresh, report.files_read)
            }
            (Linted::Nothing, _) => (BTreeMap::new(), 0),
            (Linted::Failed, _) | (Linted::Report, None) => return arrived_while_linting,
        };
        // Only what changed goes out (a monorepo has thousands of files with findings), and
        // every open document, whose new version the editor waits to see confirmed.
        let diagnostics = |file: &convert::FileFindings| -> Vec<lsp_types::Diagnostic> {
            file.findings.iter().map(|f| f.diagnostic.clone()).collect()
        };
        for (path, file) in &fresh {
            let unchanged = self
                .published
                .get(path)
                .is_some_and(|old| old.uri == file.uri && diagnostics(old) == diagnostics(file));
            if !unchanged || self.documents.get(path).is_some() {
                self.publish(path, file.uri.clone(), diagnostics(file));
            }
        }
        let cleared: Vec<(PathBuf, Uri)> = (self.published.iter())
            .filter(|(path, _)| !fresh.contains_key(*path))
            .map(|(path, old)| (path.clone(), old.uri.clone()))
            .collect();
        for (path, uri) in cleared {
            self.publish(&path, uri, Vec::new());
        }
        self.published = fresh;
        log(&format!(
            "linted {} files in {:.1} ms",
            files_read,
            started.elapsed().as_secs_f64() * 1000.0
        ));
        arrived_while_linting
    }

    /// The workspace's `.irsa-lint.toml`, as `check` reads it from the first workspace folder:
    /// rule levels, excluded paths, roles managed elsewhere and variables. A file with a
    /// mistake is logged and left out, so the editor still gets findings.
    fn apply_configuration(&self, settings: &mut Settings) {
        let Some(root) = self.roots.first() else {
            return;
        };
        let Some((shown, folder)) = crate::config::find(root) else {
            return;
        };
        let file = folder.join(crate::config::FILE_NAME);
        match crate::config::load(&file, &shown, &folder, crate::config::Origin::Found) {
            Ok(config) => {
                settings.rule_levels = config.rules;
                settings.exclude = config.exclude;
                settings.external_roles = config.external_roles;
                settings.var_files = config.var_files;
                settings.vars = config.variables;
            }
            Err(err) => log(&format!("{err}")),
        }
    }

    fn lint(&mut self) -> Linted {
        let mut paths: Vec<PathBuf> = self.roots.iter().filter(|r| r.exists()).cloned().collect();
        // A document outside every workspace folder is linted too, on its own terms.
        let outside = (self.documents.paths())
            .filter(|p| !self.roots.iter().any(|r| p.starts_with(r)) && p.is_file());
        paths.extend(outside.cloned());
        if paths.is_empty() {
            return Linted::Nothing;
        }
        let mut settings = Settings {
            paths,
            overlays: self.documents.overlays(),
            too_large: self.documents.too_large(),
            cache: Some(self.cache.clone()),
            // An editor shows findings; what was checked is the CLI's summary.
            findings_only: true,
            ..Settings::default()
        };
        self.apply_configuration(&mut settings);
        // Half-typed text must never take the editor's linter down: a panic in the engine
        // costs this one run, and the findings published before stay.
        match catch_unwind(AssertUnwindSafe(|| self.session.lint(&settings))) {
            Ok(Ok(retired)) => {
                free_later(retired);
                Linted::Report
            }
            Ok(Err(e)) => {
                log(&format!("cannot lint: {e}"));
                Linted::Failed
            }
            Err(_) => {
                log("the engine panicked; keeping the findings of the last run");
                Linted::Failed
            }
        }
    }

    fn publish(&self, path: &Path, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) {
        let version = self.documents.get(path).map(|d| d.version);
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        let notification = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
        self.send(notification.into());
    }

    fn send(&self, message: Message) {
        // A client that went away ends the main loop on its next receive.
        let _ = self.connection.sender.send(message);
    }
}

/// Free a lint's facts or report on another thread: at 10,000 services that is tens of
/// milliseconds the next publish need not wait for. Freed where it is if no thread can start.
fn free_later<T: Send + 'static>(value: T) {
    // When no thread can start, the closure (and the value in it) is dropped right here.
    let spawned = std::thread::Builder::new()
        .name("irsa-lint-free".into())
        .spawn(move || drop(value));
    if let Err(e) = spawned {
        log(&format!("cannot start a thread to free memory: {e}"));
    }
}

/// Standard error is the server's log: editors show it in their output panel.
fn log(message: &str) {
    eprintln!("irsa-lint: {message}");
}
