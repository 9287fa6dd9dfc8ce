#!/usr/bin/env python3
"""Time from a one-file edit to its published diagnostics, with `irsa-lint lsp` driven over
stdio as an editor drives it, in a workspace made by irsa-lint-gen.

    scripts/lsp-bench.py [--no-watch] [--gitops] [--terraform] [SERVICES] [EDITS]
                                                            (defaults: 1000, 50)

With --gitops the workspace is the GitOps-shaped tree (`irsa-lint-gen --gitops`: Flux
Kustomizations with post-build substitution, HelmReleases of a chart of the repository,
Terraform roots rendering Helm values with templatefile()), and each edit renames one
ServiceAccount that a Flux Kustomization deploys away from what its role trusts and back.

With --terraform each edit is to a Terraform file instead: the trust policy of one role
(svc-00051's) admits a ServiceAccount of another name and back, and the time is to the
ServiceAccount's diagnostics (the finding is shown there). The server evaluates again only
that role's root.

IRSA_LINT_BIN names another build of `irsa-lint` to run as the server (the first lint is
compared with that build's `check`), to compare two builds on the same tree.

The client watches files for the server, as VS Code does; with --no-watch it does not (as
clients without dynamic `didChangeWatchedFiles` registration), and the server walks the
workspace and looks at every file on each lint.

Each edit moves one ServiceAccount's namespace away from what its role trusts and back, so
every edit changes that file's findings; the time is from sending didChange to receiving
publishDiagnostics for that file. The first lint is also shown against `irsa-lint check` on the
same tree: FIRST_LINTS times (default 3), `check` runs and then a new server lints the
workspace, and the median of these pairs' ratios is shown (with the lowest and highest), as
each pair meets the machine in the same state: on a virtual machine, how fast fresh memory
comes moved a single first lint by a third between runs. The edits go to the last server.
The server's resident memory is read (Linux) after the first lint and after the last edit: it
must not grow with the number of edits.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# As an editor that watches files for the server (VS Code does).
WATCHING = {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}}


def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def read_message(stream):
    length = None
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("the server closed its output")
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def resident_mb(pid):
    """The process's resident memory in MB, or None where /proc does not tell it."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def send(server, message):
    server.stdin.write(frame(message))
    server.stdin.flush()


def wait_for(server, predicate):
    while True:
        message = read_message(server.stdout)
        # The server's requests (to watch files) are answered as an editor does.
        if "id" in message and "method" in message:
            send(server, {"jsonrpc": "2.0", "id": message["id"], "result": None})
            continue
        if predicate(message):
            return message


def stop(server):
    send(server, {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    wait_for(server, lambda m: m.get("id") == 2)
    send(server, {"jsonrpc": "2.0", "method": "exit", "params": None})
    server.wait(timeout=30)


def main():
    args = sys.argv[1:]
    capabilities = {} if "--no-watch" in args else WATCHING
    gitops = "--gitops" in args
    terraform = "--terraform" in args
    args = [a for a in args if a not in ("--no-watch", "--gitops", "--terraform")]
    services = int(args[0]) if len(args) > 0 else 1000
    edits = int(args[1]) if len(args) > 1 else 50
    subprocess.run(["cargo", "build", "--release", "--quiet", "--workspace", "--bins"], cwd=ROOT, check=True)
    binary = os.environ.get("IRSA_LINT_BIN") or os.path.join(ROOT, "target", "release", "irsa-lint")
    with tempfile.TemporaryDirectory() as tmp:
        workspace = os.path.join(tmp, "repo")
        generate = [os.path.join(ROOT, "target", "release", "irsa-lint-gen")]
        subprocess.run(generate + (["--gitops"] if gitops else []) + [str(services), workspace],
                       check=True, stdout=subprocess.DEVNULL)
        if terraform:
            # The role's own file, and the ServiceAccount its finding is shown on.
            if gitops:
                path = os.path.join(workspace, "terraform", "teams", "team-0001", "svc-00051.tf")
                shown = os.path.join(workspace, "apps", "team-0001", "svc-00051", "serviceaccount.yaml")
            else:
                path = os.path.join(workspace, "team-0001", "infra", "svc-00051-iam.tf")
                shown = os.path.join(workspace, "team-0001", "k8s", "svc-00051.yaml")
            text = open(path).read()
            moved = re.sub(r'(system:serviceaccount:[^:"]+:svc-00051)"', r'\1-moved"', text, count=1)
        elif gitops:
            team = os.path.join(workspace, "apps", "team-0001")
            path = next(os.path.join(team, d, "serviceaccount.yaml") for d in sorted(os.listdir(team))
                        if os.path.exists(os.path.join(team, d, "serviceaccount.yaml")))
            text = open(path).read()
            name = text.split("  name: ", 1)[1].split("\n", 1)[0]
            moved = text.replace(f"  name: {name}\n", f"  name: {name}-moved\n", 1)
        else:
            path = os.path.join(workspace, "team-0001", "k8s", "svc-00051.yaml")
            text = open(path).read()
            namespace = text.split("namespace: ", 1)[1].split("\n", 1)[0]
            moved = text.replace(f"namespace: {namespace}\n", f"namespace: {namespace}-moved\n", 1)
        uri = "file://" + path
        shown_uri = "file://" + shown if terraform else uri
        assert moved != text, "the generated file has the expected name and namespace"

        def check():
            before = time.perf_counter()
            subprocess.run([binary, "check", "--format", "compact", "--fail-on", "never", workspace],
                           check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - before

        def start_server():
            """A new server with the workspace linted once, and the time that took."""
            server = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL)
            started = time.perf_counter()
            send(server, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                          "params": {"processId": None, "rootUri": "file://" + workspace,
                                     "capabilities": capabilities}})
            wait_for(server, lambda m: m.get("id") == 1)
            send(server, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
            wait_for(server, lambda m: m.get("method") == "textDocument/publishDiagnostics")
            return server, time.perf_counter() - started

        # Each first lint right after the CLI on the same tree, which it is compared with.
        pairs = []
        for n in range(max(1, int(os.environ.get("FIRST_LINTS", "3")))):
            if n > 0:
                stop(server)
            cli = check()
            server, first = start_server()
            pairs.append((first, cli))
        rss_first = resident_mb(server.pid)
        send(server, {"jsonrpc": "2.0", "method": "textDocument/didOpen",
                      "params": {"textDocument": {"uri": uri, "languageId": "terraform" if terraform else "yaml",
                                                  "version": 1, "text": text}}})
        is_ours = lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == shown_uri
        timings = []
        for version in range(2, edits + 2):
            body = moved if version % 2 == 0 else text
            before = time.perf_counter()
            send(server, {"jsonrpc": "2.0", "method": "textDocument/didChange",
                          "params": {"textDocument": {"uri": uri, "version": version},
                                     "contentChanges": [{"text": body}]}})
            # The shown file's diagnostics for this version (a finding when moved, none when back).
            wait_for(server, lambda m: is_ours(m) and (len(m["params"]["diagnostics"]) > 0) == (body is moved))
            timings.append((time.perf_counter() - before) * 1000)
        rss_last = resident_mb(server.pid)
        stop(server)
        ratios = sorted(first / cli for first, cli in pairs)
        files = sum(len(f) for _, _, f in os.walk(workspace))
        print(f"{'gitops ' if gitops else ''}{'terraform ' if terraform else ''}services={services} files={files} watching={capabilities is WATCHING} first_lint={statistics.median(f for f, _ in pairs) * 1000:.0f} ms "
              f"({statistics.median(ratios):.2f}x the CLI's {statistics.median(c for _, c in pairs) * 1000:.0f} ms, "
              f"{ratios[0]:.2f}-{ratios[-1]:.2f}x over {len(pairs)}) "
              f"edit_to_diagnostics median={statistics.median(timings):.1f} ms "
              f"p90={sorted(timings)[int(len(timings) * 0.9)]:.1f} ms over {edits} edits "
              f"rss_after_first_lint={rss_first} MB rss_after_edits={rss_last} MB")


if __name__ == "__main__":
    main()
