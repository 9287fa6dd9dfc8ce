//! `irsa-lint lsp` driven over standard input and output as an editor drives it:
//! Content-Length framed JSON-RPC, one request or notification at a time.
//!
//! The workspace has a Terraform role trusting `payments:ledger-api` and a ServiceAccount
//! whose role-arn names `ledger-apii`, on a line with non-ASCII text (and a character
//! outside the Basic Multilingual Plane) before the value, so that a column counted in
//! bytes or in characters instead of UTF-16 units fails. Every read has a deadline: a
//! server that hangs fails the test instead of blocking it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

const ROLE_TF: &str = r#"resource "aws_iam_openid_connect_provider" "eks" {
  url            = "https://oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_role" "ledger_api" {
  name = "ledger-api"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.eks.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub" = "system:serviceaccount:payments:ledger-api"
          "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}
"#;

const TYPO_ARN: &str = "arn:aws:iam::482910375521:role/ledger-apii";
const FIXED_ARN: &str = "arn:aws:iam::482910375521:role/ledger-api";

fn service_account_yaml() -> String {
    format!(
        "# 台帳 API: the payments ledger\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
         name: ledger-api\n  namespace: payments\n  annotations: {{ledger.example.com/名前: \
         台帳😀, eks.amazonaws.com/role-arn: \"{TYPO_ARN}\"}}\n"
    )
}

/// The `file:` URI of a path, every byte but unreserved ones and `/` escaped.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_str().expect("temporary paths are UTF-8").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// A running `irsa-lint lsp` and the messages it has sent that no one has looked at yet.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    backlog: VecDeque<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
}

impl Client {
    fn start(cwd: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("irsa-lint starts");
        let (sender, incoming) = channel();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            while let Some(message) = read_frame(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().unwrap();
        let log = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = child_stderr.read(&mut buffer) {
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Client {
            stdin: child.stdin.take(),
            child,
            incoming,
            backlog: VecDeque::new(),
            stderr,
            next_id: 0,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    /// Bytes as they are, framed or not.
    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// The whole response to a request, an error included.
    fn response(&mut self, method: &str, id: Value, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response_to(&id, method)
    }

    fn response_to(&mut self, id: &Value, what: &str) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let message = self.receive(deadline, &format!("the response to {what}"));
            if message["id"] == *id && message.get("method").is_none() {
                return message;
            }
            self.backlog.push_back(message);
        }
    }

    /// How many times the server has linted so far, from its log.
    fn lint_runs(&self) -> usize {
        self.log().matches("irsa-lint: linted ").count()
    }

    /// Wait until the server has linted `runs` times.
    fn wait_for_lints(&self, runs: usize) {
        let deadline = Instant::now() + DEADLINE;
        while self.lint_runs() < runs {
            assert!(
                Instant::now() < deadline,
                "fewer than {runs} lints; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and return its result; what arrives meanwhile is kept for later.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + DEADLINE;
        loop {
            let message = self.receive(deadline, &format!("the response to {method}"));
            if message["id"] == id && message.get("method").is_none() {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
            self.backlog.push_back(message);
        }
    }

    /// The first diagnostics published for `uri` that `wanted` accepts; earlier messages are
    /// read and dropped, so a later call never sees what an earlier one skipped.
    fn diagnostics_for(
        &mut self,
        uri: &str,
        what: &str,
        wanted: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let message = match self.backlog.pop_front() {
                Some(message) => message,
                None => self.receive(deadline, what),
            };
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                let diagnostics = message["params"]["diagnostics"].as_array().unwrap();
                if wanted(diagnostics) {
                    return diagnostics.clone();
                }
            }
        }
    }

    fn receive(&mut self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no {what} within {DEADLINE:?}; server log:\n{}", self.log())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!(
                    "the server closed its output before {what}; log:\n{}",
                    self.log()
                )
            }
        }
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Wait for the process to end, at most until the deadline.
    fn exit_status(&mut self) -> i32 {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status
                    .code()
                    .expect("the server exited, not killed by a signal");
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit after `exit`; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    /// A failed test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `Content-Length` framed message, or `None` at the end of the stream.
fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn position(line: u64, character: u64) -> Value {
    json!({"line": line, "character": character})
}

fn open(client: &mut Client, uri: &str, language: &str, text: &str) {
    let document = json!({"uri": uri, "languageId": language, "version": 1, "text": text});
    client.notify("textDocument/didOpen", json!({"textDocument": document}));
}

fn change(client: &mut Client, uri: &str, version: i64, text: &str) {
    let params = json!({
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"text": text}],
    });
    client.notify("textDocument/didChange", params);
}

fn has_irsa001(diagnostics: &[Value]) -> bool {
    diagnostics.iter().any(|d| d["code"] == "IRSA001")
}

#[test]
fn edits_in_terraform_clear_and_restore_findings_in_a_manifest() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    let yaml = service_account_yaml();
    std::fs::create_dir_all(root.join("infra")).unwrap();
    std::fs::create_dir_all(root.join("k8s")).unwrap();
    std::fs::write(root.join("infra/main.tf"), ROLE_TF).unwrap();
    std::fs::write(root.join("k8s/sa.yaml"), &yaml).unwrap();
    let tf_uri = file_uri(&root.join("infra/main.tf"));
    let yaml_uri = file_uri(&root.join("k8s/sa.yaml"));

    // Run where an editor often does, in the workspace, so the engine's relative paths
    // have to be mapped back to the client's URIs.
    let mut client = Client::start(root);
    let init = client.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(root), "capabilities": {}}),
    );
    assert_eq!(init["capabilities"]["hoverProvider"], true, "{init}");
    client.notify("initialized", json!({}));

    // The workspace is linted on start, before any document is open.
    client.diagnostics_for(&yaml_uri, "findings on start", has_irsa001);

    open(&mut client, &tf_uri, "terraform", ROLE_TF);
    open(&mut client, &yaml_uri, "yaml", &yaml);
    let diagnostics = client.diagnostics_for(&yaml_uri, "IRSA001 for the yaml", has_irsa001);
    let [diagnostic] = &diagnostics[..] else {
        panic!("expected one diagnostic, got {diagnostics:#?}");
    };
    // The ARN starts on line 7 after 73 characters, 74 UTF-16 units (😀 is two), 84 bytes.
    let annotation_line = yaml.lines().nth(6).unwrap();
    let prefix = &annotation_line[..annotation_line.find(TYPO_ARN).unwrap()];
    let counts = (
        prefix.chars().count(),
        prefix.encode_utf16().count(),
        prefix.len(),
    );
    assert_eq!(counts, (73, 74, 84));
    assert_eq!(diagnostic["range"]["start"], position(6, 74));
    assert_eq!(
        diagnostic["range"]["end"],
        position(6, 74 + TYPO_ARN.len() as u64)
    );
    assert_eq!(diagnostic["severity"], 1, "an error: a close name is known");
    assert_eq!(diagnostic["source"], "irsa-lint");
    // The code links to the rule's page, the same one SARIF's helpUri names, and that page
    // is a file of this repository.
    assert_eq!(
        diagnostic["codeDescription"]["href"],
        "https://github.com/irsa-lint/irsa-lint/blob/main/rules/IRSA001.md"
    );
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("rules/IRSA001.md")
            .is_file()
    );
    let message = diagnostic["message"].as_str().unwrap();
    assert!(message.contains("ledger-apii"), "{message}");
    assert!(
        message.contains("help: did you mean `ledger-api`?"),
        "{message}"
    );
    let related = &diagnostic["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], tf_uri.as_str());
    // `  name = "ledger-api"` on line 7 of the .tf, quotes included.
    assert_eq!(related["location"]["range"]["start"], position(6, 9));
    assert_eq!(related["location"]["range"]["end"], position(6, 21));

    // Hover inside the finding: the rule's documentation.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": yaml_uri}, "position": position(6, 80)}),
    );
    let contents = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(contents.contains("IRSA001"), "{hover}");
    assert_eq!(hover["contents"]["kind"], "markdown");

    // The quick fix replaces the ARN with the defined role's.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": yaml_uri},
            "range": diagnostic["range"],
            "context": {"diagnostics": [diagnostic]},
        }),
    );
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix", "{actions}");
    let edits = &action["edit"]["changes"][yaml_uri.as_str()];
    assert_eq!(edits[0]["range"], diagnostic["range"], "{actions}");
    assert_eq!(edits[0]["newText"], FIXED_ARN, "{actions}");

    // Renaming the role in Terraform, unsaved, makes the annotation right: cleared.
    change(
        &mut client,
        &tf_uri,
        2,
        &ROLE_TF.replace("\"ledger-api\"", "\"ledger-apii\""),
    );
    client.diagnostics_for(&yaml_uri, "the cleared list", |d| d.is_empty());

    // And back: the finding returns.
    change(&mut client, &tf_uri, 3, ROLE_TF);
    client.diagnostics_for(&yaml_uri, "IRSA001 again", has_irsa001);

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown, Value::Null);
    client.notify("exit", Value::Null);
    drop(client.stdin.take());
    assert_eq!(client.exit_status(), 0, "log:\n{}", client.log());
}

/// An editor that watches files for the server (as VS Code does) reports what changes on
/// disk; the server trusts those reports instead of walking the workspace on every edit. A
/// file changed, a file created, a folder created with a file in it, and each deleted are all
/// seen from the reports alone.
#[test]
fn with_a_file_watcher_changes_on_disk_are_seen_from_its_reports() {
    let workspace = broken_pair();
    let root = workspace.path();
    let yaml_uri = file_uri(&root.join("k8s/sa.yaml"));
    let mut client = Client::start(root);
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    client.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(root), "capabilities": capabilities}),
    );
    client.notify("initialized", json!({}));
    // The server asks to be told of every file created, changed or deleted.
    let deadline = Instant::now() + DEADLINE;
    let registration = loop {
        let message = client.receive(deadline, "the request to watch files");
        if message["method"] == "client/registerCapability" {
            break message;
        }
        client.backlog.push_back(message);
    };
    let watch = &registration["params"]["registrations"][0];
    assert_eq!(
        watch["method"], "workspace/didChangeWatchedFiles",
        "{registration}"
    );
    assert_eq!(
        watch["registerOptions"]["watchers"][0]["globPattern"],
        "**/*"
    );
    client.send(json!({"jsonrpc": "2.0", "id": registration["id"], "result": null}));
    client.diagnostics_for(&yaml_uri, "findings on start", has_irsa001);
    // Once agreed, the server looks at every file once more (changes made before the watch
    // began are not reported); from then on it relies on the reports.
    client.wait_for_lints(2);
    let reported = |client: &mut Client, path: &Path, kind: u8| {
        let changes = json!([{"uri": file_uri(path), "type": kind}]);
        client.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": changes}),
        );
    };
    let (created, changed, deleted) = (1, 2, 3);

    // Fixed on disk (a `git pull`): the finding goes.
    let fixed = service_account_yaml().replace(TYPO_ARN, FIXED_ARN);
    std::fs::write(root.join("k8s/sa.yaml"), fixed).unwrap();
    reported(&mut client, &root.join("k8s/sa.yaml"), changed);
    client.diagnostics_for(&yaml_uri, "the cleared list", |d| d.is_empty());

    // A new file with the typo: found.
    let other = root.join("k8s/other.yaml");
    std::fs::write(&other, service_account_yaml()).unwrap();
    reported(&mut client, &other, created);
    client.diagnostics_for(&file_uri(&other), "IRSA001 in the new file", has_irsa001);
    std::fs::remove_file(&other).unwrap();
    reported(&mut client, &other, deleted);
    client.diagnostics_for(&file_uri(&other), "the deleted file cleared", |d| {
        d.is_empty()
    });

    // A folder moved in: only the folder is reported, and the file inside is found.
    let team = root.join("k8s/team-payments");
    std::fs::create_dir_all(&team).unwrap();
    std::fs::write(team.join("sa.yaml"), service_account_yaml()).unwrap();
    reported(&mut client, &team, created);
    let inside = file_uri(&team.join("sa.yaml"));
    client.diagnostics_for(&inside, "IRSA001 in the moved-in folder", has_irsa001);
    std::fs::remove_dir_all(&team).unwrap();
    reported(&mut client, &team, deleted);
    client.diagnostics_for(&inside, "the removed folder's file cleared", |d| {
        d.is_empty()
    });

    // The configuration changed on disk applies at once: the rule turned off, its finding goes.
    std::fs::write(&other, service_account_yaml()).unwrap();
    reported(&mut client, &other, created);
    client.diagnostics_for(&file_uri(&other), "IRSA001 again", has_irsa001);
    let config = root.join(".irsa-lint.toml");
    std::fs::write(&config, "[rules]\nrole-not-found = \"off\"\n").unwrap();
    reported(&mut client, &config, created);
    client.diagnostics_for(&file_uri(&other), "the rule turned off", |d| d.is_empty());

    client.request("shutdown", json!(null));
    client.notify("exit", json!(null));
    assert_eq!(client.exit_status(), 0);
}

/// The editor sees what `check` sees: the workspace's `.irsa-lint.toml` applies.
#[test]
fn the_workspace_configuration_applies_in_the_editor() {
    let workspace = broken_pair();
    let root = workspace.path();
    std::fs::write(
        root.join(".irsa-lint.toml"),
        "[rules]\nrole-not-found = \"note\"\n",
    )
    .unwrap();
    let yaml_uri = file_uri(&root.join("k8s/sa.yaml"));
    let mut client = Client::start(root);
    client.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(root), "capabilities": {}}),
    );
    client.notify("initialized", json!({}));
    let diagnostics =
        client.diagnostics_for(&yaml_uri, "IRSA001 at the configured level", has_irsa001);
    let [diagnostic] = &diagnostics[..] else {
        panic!("expected one diagnostic, got {diagnostics:#?}");
    };
    assert_eq!(
        diagnostic["severity"], 3,
        "a note (information), as configured"
    );
    client.request("shutdown", json!(null));
    client.notify("exit", json!(null));
    assert_eq!(client.exit_status(), 0);
}

/// A workspace with the role in `infra/main.tf` and, in `k8s/sa.yaml`, the ServiceAccount
/// that names it with a typo (IRSA001).
fn broken_pair() -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    std::fs::create_dir_all(root.join("infra")).unwrap();
    std::fs::create_dir_all(root.join("k8s")).unwrap();
    std::fs::write(root.join("infra/main.tf"), ROLE_TF).unwrap();
    std::fs::write(root.join("k8s/sa.yaml"), service_account_yaml()).unwrap();
    workspace
}

/// A workspace with the broken pair (IRSA001 on the ServiceAccount) and a client that has
/// initialized the server in it.
fn started() -> (tempfile::TempDir, Client, String) {
    let workspace = broken_pair();
    let root = workspace.path();
    let yaml_uri = file_uri(&root.join("k8s/sa.yaml"));
    let mut client = Client::start(root);
    client.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(root), "capabilities": {}}),
    );
    client.notify("initialized", json!({}));
    client.diagnostics_for(&yaml_uri, "findings on start", has_irsa001);
    (workspace, client, yaml_uri)
}

/// The server's peak resident memory in KiB (Linux), to show a message was not allocated.
fn peak_memory_kib(client: &Client) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", client.child.id())).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// An `initialize` whose parameters do not decode is answered with an error, not silence,
/// and the client can try again.
#[test]
fn an_initialize_that_does_not_decode_is_answered_with_an_error() {
    let workspace = tempfile::tempdir().unwrap();
    let mut client = Client::start(workspace.path());
    let hover = client.response("textDocument/hover", json!(1), json!({}));
    assert_eq!(
        hover["error"]["code"], -32002,
        "not initialized yet: {hover}"
    );
    let answer = client.response("initialize", json!(2), json!({"processId": "not a number"}));
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    let init = client.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(workspace.path()), "capabilities": {}}),
    );
    assert_eq!(init["capabilities"]["hoverProvider"], true, "{init}");
    client.request("shutdown", json!(null));
    client.notify("exit", json!(null));
    assert_eq!(client.exit_status(), 0, "log:\n{}", client.log());
}

/// Frames that are not messages do not end the connection: a body that is not JSON is
/// logged and dropped, a request that is not valid JSON-RPC is answered with an error, and
/// the server goes on answering.
#[test]
fn a_malformed_frame_after_initialize_does_not_end_the_connection() {
    let (_workspace, mut client, yaml_uri) = started();
    let junk = "{\"jsonrpc\": \"2.0\", \"method\": ";
    client.send_raw(format!("Content-Length: {}\r\n\r\n{junk}", junk.len()).as_bytes());
    client.send_raw(b"Content-Length: twelve\r\n\r\n");
    let answer = client.response("textDocument/hover", json!(41), json!("not params"));
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    let invalid = json!({"jsonrpc": "2.0", "id": 42, "method": 7}).to_string();
    client.send_raw(format!("Content-Length: {}\r\n\r\n{invalid}", invalid.len()).as_bytes());
    let answer = client.response_to(&json!(42), "the invalid request");
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": yaml_uri}, "position": position(6, 80)}),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .contains("IRSA001")
    );
    client.request("shutdown", json!(null));
    client.notify("exit", json!(null));
    assert_eq!(client.exit_status(), 0, "log:\n{}", client.log());
}

/// A `Content-Length` far beyond what is sent is not allocated up front (a 41-byte message
/// claiming a gigabyte, then one claiming `u64::MAX`): the server neither aborts nor
/// panics, its memory stays small, and it ends when the client goes away.
#[test]
fn a_huge_content_length_is_not_allocated_up_front() {
    let (_workspace, mut client, _) = started();
    let body = r#"{"jsonrpc":"2.0","method":"initialized"}"#;
    client.send_raw(format!("Content-Length: 1073741824\r\n\r\n{body}").as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        client.child.try_wait().unwrap().is_none(),
        "{}",
        client.log()
    );
    if let Some(peak) = peak_memory_kib(&client) {
        assert!(peak < 512 * 1024, "peak memory {peak} KiB");
    }
    drop(client.stdin.take());
    assert_eq!(client.exit_status(), 1, "log:\n{}", client.log());
    assert!(!client.log().contains("panicked"), "{}", client.log());

    let (_workspace, mut client, _) = started();
    client.send_raw(format!("Content-Length: {}\r\n\r\n{body}", u64::MAX).as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        client.child.try_wait().unwrap().is_none(),
        "{}",
        client.log()
    );
    drop(client.stdin.take());
    assert_eq!(client.exit_status(), 1, "log:\n{}", client.log());
    assert!(!client.log().contains("panicked"), "{}", client.log());
}

/// 10,000 ranged edits sent back to back are linted a handful of times, not once each,
/// and the last state is linted and published.
#[test]
fn back_to_back_edits_are_linted_once_per_quiet_period() {
    let (_workspace, mut client, yaml_uri) = started();
    let yaml = service_account_yaml();
    open(&mut client, &yaml_uri, "yaml", &yaml);
    client.diagnostics_for(&yaml_uri, "IRSA001 once open", has_irsa001);
    // Type a comment line at the top, one character per edit, and end by fixing the ARN:
    // only the last state has no finding.
    let mut version = 1;
    let mut batch = String::new();
    for i in 0..10_000u32 {
        version += 1;
        // Inside the comment, after its `#`.
        let at = json!({"line": 0, "character": 1 + i});
        let params = json!({
            "textDocument": {"uri": yaml_uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}],
        });
        let body = json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": params})
            .to_string();
        batch.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        if batch.len() > 1 << 20 {
            client.send_raw(batch.as_bytes());
            batch.clear();
        }
    }
    client.send_raw(batch.as_bytes());
    let line = 7;
    let annotation = yaml.lines().nth(6).unwrap();
    let start = annotation.find(TYPO_ARN).unwrap();
    let start = annotation[..start].encode_utf16().count() as u64;
    let end = start + TYPO_ARN.len() as u64;
    let fix = json!({
        "textDocument": {"uri": yaml_uri, "version": version + 1},
        "contentChanges": [{
            "range": {"start": position(line - 1, start), "end": position(line - 1, end)},
            "text": FIXED_ARN,
        }],
    });
    client.notify("textDocument/didChange", fix);
    let published = client.diagnostics_for(&yaml_uri, "the cleared list", |d| d.is_empty());
    assert!(published.is_empty());
    client.request("shutdown", json!(null));
    client.notify("exit", json!(null));
    assert_eq!(client.exit_status(), 0, "log:\n{}", client.log());
    // The log is read on another thread: give it the time to reach the end.
    let deadline = Instant::now() + DEADLINE;
    while !client.log().contains("linted") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // On start, on open, then a handful for the edits: not one per edit.
    let runs = client.lint_runs();
    assert!(
        (3..=12).contains(&runs),
        "{runs} lint runs in all; log:\n{}",
        client.log()
    );
}

/// An open document larger than the 16 MiB the engine reads is one finding saying so,
/// not parsed and not kept.
#[test]
fn an_open_document_over_the_size_limit_is_reported_not_read() {
    let (workspace, mut client, _) = started();
    let big_path = workspace.path().join("k8s/big.yaml");
    std::fs::write(&big_path, "# small on disk\n").unwrap();
    let big_uri = file_uri(&big_path);
    let text = format!("# {}\n", "x".repeat(17 * 1024 * 1024));
    open(&mut client, &big_uri, "yaml", &text);
    let diagnostics = client.diagnostics_for(&big_uri, "the size finding", |d| !d.is_empty());
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "IRSA000");
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(message.contains("larger than 16 MiB"), "{message}");
    client.request("shutdown", json!(null));
    client.notify("exit", json!(null));
    assert_eq!(client.exit_status(), 0, "log:\n{}", client.log());
}
