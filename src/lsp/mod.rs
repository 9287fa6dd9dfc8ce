//! `irsa-lint lsp`: a language server on standard input and output.
//!
//! The server runs the same engine as `check`, over the workspace folders, with the open
//! documents' unsaved texts in place of the files on disk. After every edit of a file
//! irsa-lint reads it lints the whole workspace again — a finding in a manifest can come
//! from a role in a `.tf` file — and publishes the findings of every file, clearing those
//! of files that no longer have any. A [`Cache`](crate::engine::Cache) kept across runs
//! spares re-reading and re-parsing the files that did not change; when the client watches
//! files for the server, its reports of changes on disk also spare walking the workspace and
//! looking at every file on each edit.
//!
//! This module is the only place LSP types appear; the engine, facts and rules know
//! nothing of it.

// lsp-types keys `WorkspaceEdit` by `Uri`, whose hash and equality are those of its string,
// which never changes: the interior mutability clippy sees is a parser cache inside.
#![allow(clippy::mutable_key_type)]

mod convert;
mod documents;
mod features;
mod server;
mod transport;
mod uri;

use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, TryRecvError};
use lsp_server::{Connection, ErrorCode, Message, Response};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, HoverProviderCapability,
    InitializeParams, OneOf, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};

use server::Server;

/// Serve one client until it asks to exit. `Err` when the connection broke or the client
/// exited without asking for shutdown first (the protocol's exit status 1).
pub fn run() -> Result<(), String> {
    let (connection, writer) = transport::stdio();
    let served = serve(&connection);
    // The writer thread ends only when every sender is gone: drop the connection before
    // joining, or the join waits forever.
    drop(connection);
    served.and(writer.join())
}

fn serve(connection: &Connection) -> Result<(), String> {
    let params = initialize(connection)?;
    let roots = server::workspace_roots(&params);
    let mut server = Server::new(connection, roots, server::can_watch_files(&params));
    server.relint();
    main_loop(connection, &mut server)
}

/// Wait for `initialize` and answer it. Until it comes, requests are answered "not
/// initialized" and notifications dropped, as the protocol asks; an `initialize` whose
/// parameters do not decode is answered with an error, and the client may try again.
fn initialize(connection: &Connection) -> Result<InitializeParams, String> {
    let closed = || "the client closed the connection before initialize".to_string();
    loop {
        let message = connection.receiver.recv().map_err(|_| closed())?;
        let response = match message {
            Message::Request(request) if request.method == "initialize" => {
                match serde_json::from_value::<InitializeParams>(request.params) {
                    Ok(params) => {
                        let result = serde_json::json!({
                            "capabilities": capabilities(),
                            "serverInfo": {
                                "name": "irsa-lint",
                                "version": env!("CARGO_PKG_VERSION"),
                            },
                        });
                        let _ = connection
                            .sender
                            .send(Response::new_ok(request.id, result).into());
                        return Ok(params);
                    }
                    Err(e) => Response::new_err(
                        request.id,
                        ErrorCode::InvalidParams as i32,
                        format!("bad initialize params: {e}"),
                    ),
                }
            }
            Message::Request(request) => Response::new_err(
                request.id,
                ErrorCode::ServerNotInitialized as i32,
                "the server is not initialized yet".to_string(),
            ),
            Message::Notification(n) if n.method == "exit" => return Err(closed()),
            Message::Notification(_) | Message::Response(_) => continue,
        };
        let _ = connection.sender.send(response.into());
    }
}

/// The longest a lint may hold back the next one: edits sent back to back are linted
/// together after at most this.
const QUIET_PERIOD: Duration = Duration::from_millis(150);

/// The shortest a lint holds back the next one after a stream: a lint patched in a
/// millisecond would otherwise publish findings to the editor every few milliseconds of a
/// stream, each shown and thrown away. At 20 ms, a stream of 10,000 edits was still linted
/// 5 to 13 times, by the machine's load; at 50 ms, 5 to 6 times.
const SHORTEST_QUIET_PERIOD: Duration = Duration::from_millis(50);

/// The longest a pending edit waits for the stream of edits to pause: a client that never
/// stops sending still gets findings this often.
const MAX_PENDING: Duration = Duration::from_secs(2);

/// How long after the last lint started the next may start. An edit that arrives when the
/// server is idle is linted at once. Edits that arrived while a lint ran, before its findings
/// were sent, are a stream (typing, a client replaying changes); one sent in answer to the
/// findings is not. After a stream, the next lint waits until twice the last one's duration
/// has passed since it started, at least [`SHORTEST_QUIET_PERIOD`] and at most
/// [`QUIET_PERIOD`], so that a stream is linted a few times, not once per edit, and linting
/// takes at most about half the time.
fn quiet_period(took: Duration, streaming: bool) -> Duration {
    match streaming {
        true => (took * 2).clamp(SHORTEST_QUIET_PERIOD, QUIET_PERIOD),
        false => Duration::ZERO,
    }
}

fn main_loop(connection: &Connection, server: &mut Server) -> Result<(), String> {
    let closed = || "the client closed the connection".to_string();
    // When the first edit not yet linted arrived, and when the last lint started and how
    // long it took.
    let mut pending_since: Option<Instant> = None;
    let mut last_lint: Option<(Instant, Duration, bool)> = None;
    let relint = |server: &mut Server,
                  pending: &mut Option<Instant>,
                  last: &mut Option<(Instant, Duration, bool)>| {
        let started = Instant::now();
        let streaming = server.relint();
        *last = Some((started, started.elapsed(), streaming));
        *pending = None;
    };
    loop {
        let message = match pending_since {
            None => connection.receiver.recv().map_err(|_| closed())?,
            Some(since) if since.elapsed() >= MAX_PENDING => {
                relint(server, &mut pending_since, &mut last_lint);
                continue;
            }
            // Messages already waiting are taken first: they may be more edits.
            Some(_) => match connection.receiver.try_recv() {
                Ok(message) => message,
                Err(TryRecvError::Disconnected) => return Err(closed()),
                Err(TryRecvError::Empty) => {
                    let wait = last_lint.map_or(Duration::ZERO, |(started, took, streaming)| {
                        quiet_period(took, streaming).saturating_sub(started.elapsed())
                    });
                    if wait.is_zero() {
                        relint(server, &mut pending_since, &mut last_lint);
                        continue;
                    }
                    match connection.receiver.recv_timeout(wait) {
                        Ok(message) => message,
                        Err(RecvTimeoutError::Timeout) => {
                            relint(server, &mut pending_since, &mut last_lint);
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return Err(closed()),
                    }
                }
            },
        };
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                server.on_request(request);
            }
            Message::Notification(n) if n.method == "exit" => {
                return Err("exit before shutdown".to_string());
            }
            Message::Notification(notification) => server.on_notification(notification),
            Message::Response(response) => server.on_response(response),
        }
        pending_since = match server.is_stale() {
            true => pending_since.or_else(|| Some(Instant::now())),
            false => None,
        };
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}
