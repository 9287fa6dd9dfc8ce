//! `irsa-lint lsp`: a language server on standard input and output.
//!
//! The server runs the same engine as `check`, over the workspace folders, with the open
//! documents' unsaved texts in place of the files on disk. After every edit of a file
//! irsa-lint reads it lints the whole workspace again — a finding in a manifest can come
//! from a role in a `.tf` file — and publishes the findings of every file, clearing those
//! of files that no longer have any. A [`Cache`](crate::engine::Cache) kept across runs
//! spares re-reading and re-parsing the files that did not change.
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
mod uri;

use crossbeam_channel::TryRecvError;
use lsp_server::{Connection, Message};
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
    let (connection, io_threads) = Connection::stdio();
    let served = serve(&connection);
    // The writer thread ends only when every sender is gone: drop the connection before
    // joining, or the join waits forever.
    drop(connection);
    let joined = io_threads.join().map_err(|e| e.to_string());
    served.and(joined)
}

fn serve(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("bad initialize params: {e}"))?;
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": { "name": "irsa-lint", "version": env!("CARGO_PKG_VERSION") },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server::new(connection, server::workspace_roots(&params));
    server.relint();
    main_loop(connection, &mut server)
}

fn main_loop(connection: &Connection, server: &mut Server) -> Result<(), String> {
    let mut next: Option<Message> = None;
    loop {
        let message = match next.take() {
            Some(message) => message,
            None => match connection.receiver.recv() {
                Ok(message) => message,
                Err(_) => return Err("the client closed the connection".to_string()),
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
            Message::Response(_) => {}
        }
        // Edits that arrive back to back are linted once, after the last of them.
        if server.is_stale() {
            match connection.receiver.try_recv() {
                Ok(message) => next = Some(message),
                Err(TryRecvError::Empty) => server.relint(),
                Err(TryRecvError::Disconnected) => {
                    return Err("the client closed the connection".to_string());
                }
            }
        }
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
