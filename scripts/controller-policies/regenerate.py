#!/usr/bin/env python3
r"""Regenerate data/controllers/*.json: the IAM policies that known EKS controllers
publish, per release, for rule IRSA030 (controller-policy-outdated).

Maintainer tool only. Tests and builds never run it, and it never touches the
network: a maintainer fetches (or updates) git checkouts of the upstream
repositories by hand and passes their local paths. Each path may be a normal
work tree or a bare git directory; everything is read with `git show <tag>:<path>`,
so the work tree's checked-out state does not matter, only the tags and history.

Inputs (every one is optional; a source that is not given is skipped and its
output file is left untouched):

  --lbc            <checkout of kubernetes-sigs/aws-load-balancer-controller>
                   (policies: docs/install/*iam_policy*.json at each v2.x/v3.x tag;
                    chart: helm/aws-load-balancer-controller/Chart.yaml history)
  --eks-charts     <checkout of aws/eks-charts>
                   (chart: stable/aws-load-balancer-controller/Chart.yaml history)
  --external-dns   <checkout of kubernetes-sigs/external-dns>
                   (policy: JSON blocks in docs/tutorials/aws.md; chart: charts/external-dns)
  --autoscaler     <checkout of kubernetes/autoscaler>
                   (policy: JSON blocks in cluster-autoscaler/cloudprovider/aws/README.md at
                    each cluster-autoscaler-X.Y.Z tag; chart: charts/cluster-autoscaler)
  --ebs-csi        <checkout of kubernetes-sigs/aws-ebs-csi-driver>
                   (policy: docs/example-iam-policy.json; chart: charts/aws-ebs-csi-driver)
  --efs-csi        <checkout of kubernetes-sigs/aws-efs-csi-driver>
                   (policy: docs/iam-policy-example.json; chart: charts/aws-efs-csi-driver)
  --karpenter      <checkout of aws/karpenter-provider-aws>  (it carries the whole
                   aws/karpenter history and tags; policy: the KarpenterController*
                   managed policies in the getting-started cloudformation.yaml;
                   chart: charts/karpenter)
  --terraform-aws-iam <checkout of terraform-aws-modules/terraform-aws-iam>
                   (modules/iam-role-for-service-accounts-eks/policies.tf, and in v6
                    modules/iam-role-for-service-accounts/policies.tf, at each tag)
  --blueprints-addons <checkout of aws-ia/terraform-aws-eks-blueprints-addons>
                   (optional; the data "aws_iam_policy_document" blocks of the root
                    module's *.tf files at each tag, keyed by data source name)
  --out            output directory (default: data/controllers next to this repo's root)
  --snapshot-date  YYYY-MM-DD recorded as "snapshot_date" in every file. Default: the
                   newest commit date found in the given checkouts, so that two runs over
                   the same checkouts give byte-identical output. Each file also records,
                   per source repository, the newest tag and newest commit date seen.

Example (from the irsa-lint repository root):

  python3 scripts/controller-policies/regenerate.py \
      --lbc <checkout of kubernetes-sigs/aws-load-balancer-controller> \
      --eks-charts <checkout of aws/eks-charts> \
      --external-dns <checkout of kubernetes-sigs/external-dns> \
      --autoscaler <checkout of kubernetes/autoscaler> \
      --ebs-csi <checkout of kubernetes-sigs/aws-ebs-csi-driver> \
      --efs-csi <checkout of kubernetes-sigs/aws-efs-csi-driver> \
      --karpenter <checkout of aws/karpenter-provider-aws> \
      --terraform-aws-iam <checkout of terraform-aws-modules/terraform-aws-iam> \
      --blueprints-addons <checkout of aws-ia/terraform-aws-eks-blueprints-addons>

The checkouts must have their tags (`git fetch --tags`). Warnings about release tags
whose policy could not be found or parsed go to stderr; read them before committing.

Python 3.11, standard library only. The output is derived data only (action names,
condition shapes, versions, dates); no upstream file is copied.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from typing import Any, Iterable

FORMAT_VERSION = 1

# --------------------------------------------------------------------------
# Normalization (unit-tested in test_regenerate.py)
# --------------------------------------------------------------------------

VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def parse_version(v: str) -> tuple[int, int, int] | None:
    """'v2.4.7' or '2.4.7' -> (2, 4, 7); anything else (pre-releases, odd tags) -> None."""
    m = VERSION_RE.match(v.strip())
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)))


def canonical_version(v: str) -> str:
    """Release versions are stored as 'vX.Y.Z' whatever the tag spelling."""
    p = parse_version(v)
    if p is None:
        raise ValueError(f"not a release version: {v!r}")
    return "v%d.%d.%d" % p


def version_key(v: str) -> tuple[int, int, int]:
    p = parse_version(v)
    if p is None:
        raise ValueError(f"not a release version: {v!r}")
    return p


def normalize_action(action: str) -> str:
    """Lowercase the service prefix, keep the action name as published.

    Wildcards are kept as published (no expansion): 'EC2:Describe*' -> 'ec2:Describe*'.
    """
    a = action.strip()
    if ":" not in a:
        return a  # "*" or something odd; keep it verbatim
    service, name = a.split(":", 1)
    return f"{service.strip().lower()}:{name.strip()}"


def normalize_actions(actions: Iterable[str]) -> list[str]:
    """Normalize, dedupe (IAM action names are case-insensitive) and sort.

    When two spellings differ only in case, the one that sorts first is kept, so
    the result does not depend on input order.
    """
    by_key: dict[str, str] = {}
    for a in actions:
        if not isinstance(a, str) or not a.strip():
            continue
        n = normalize_action(a)
        k = n.casefold()
        if k not in by_key or n < by_key[k]:
            by_key[k] = n
    return sorted(by_key.values(), key=lambda s: (s.casefold(), s))


def as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def condition_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def normalize_condition(cond: Any) -> list[dict]:
    """IAM Condition block -> sorted [{operator, key, values}] with sorted string values."""
    out = []
    if not isinstance(cond, dict):
        return out
    for op, body in cond.items():
        if not isinstance(body, dict):
            continue
        for key, values in body.items():
            vals = sorted({condition_value(v) for v in as_list(values)})
            out.append({"operator": str(op), "key": str(key), "values": vals})
    out.sort(key=lambda c: (c["operator"], c["key"], c["values"]))
    return out


def normalize_statement(st: dict) -> dict:
    """Keep what IRSA030 needs: effect, actions, not_actions, conditions, sid.

    Resources are dropped on purpose (account/cluster specific placeholders).
    """
    out: dict[str, Any] = {
        "effect": str(st.get("Effect", "Allow")),
        "actions": normalize_actions(str(a) for a in as_list(st.get("Action"))),
    }
    na = normalize_actions(str(a) for a in as_list(st.get("NotAction")))
    if na:
        out["not_actions"] = na
    conds = normalize_condition(st.get("Condition"))
    if conds:
        out["conditions"] = conds
    if st.get("Sid"):
        out["sid"] = str(st["Sid"])
    return out


def stable_json(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def summarize_policy(doc: dict, parts: list[str] | None = None) -> dict:
    """A policy document -> {actions, conditioned_statements, [denied_actions], [parts]}.

    'actions' is what the policy grants: every action of an Allow statement, with or
    without a condition. Statements with a Condition are also listed whole (normalized).
    """
    stmts = [normalize_statement(s) for s in as_list(doc.get("Statement")) if isinstance(s, dict)]
    allowed: list[str] = []
    denied: list[str] = []
    conditioned = []
    not_action = []
    for s in stmts:
        if s["effect"].lower() == "allow":
            allowed.extend(s["actions"])
        else:
            denied.extend(s["actions"])
        if "conditions" in s:
            conditioned.append(s)
        if "not_actions" in s:
            not_action.append(s)
    out: dict[str, Any] = {
        "actions": normalize_actions(allowed),
        "conditioned_statements": sorted(conditioned, key=stable_json),
    }
    if denied:
        out["denied_actions"] = normalize_actions(denied)
    if not_action:
        out["not_action_statements"] = sorted(not_action, key=stable_json)
    if parts:
        out["parts"] = sorted(parts)
    return out


def is_permission_policy(doc: Any) -> bool:
    """A JSON document that is an identity policy (not a trust policy)."""
    if not isinstance(doc, dict) or "Statement" not in doc:
        return False
    for s in as_list(doc.get("Statement")):
        if not isinstance(s, dict) or "Principal" in s:
            return False
    return True


# --------------------------------------------------------------------------
# Markdown: fenced JSON policy blocks with their nearest heading
# --------------------------------------------------------------------------

def markdown_policy_blocks(text: str) -> list[dict]:
    """Every fenced code block whose content (or its {...} core) parses as a
    permission policy. Returns [{heading, context, doc}] in document order;
    'context' is the prose between the previous code block (or heading) and this one."""
    out = []
    lines = text.splitlines()
    heading = ""
    prose: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^\s*(```+|~~~+)", line)
        if fence:
            marker = fence.group(1)
            j = i + 1
            body = []
            while j < len(lines) and not lines[j].strip().startswith(marker):
                body.append(lines[j])
                j += 1
            doc = _parse_json_loose("\n".join(body))
            if is_permission_policy(doc):
                out.append({"heading": heading, "context": " ".join(prose), "doc": doc})
            prose = []
            i = j + 1
            continue
        if re.match(r"^#{1,6}\s", line):
            heading = line.lstrip("#").strip()
            prose = []
        elif line.strip():
            prose.append(line.strip())
        i += 1
    return out


def _parse_json_loose(s: str) -> Any:
    try:
        return json.loads(s)
    except ValueError:
        pass
    a, b = s.find("{"), s.rfind("}")
    if a < 0 or b <= a:
        return None
    try:
        return json.loads(s[a:b + 1])
    except ValueError:
        return None


def slug(s: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
    return s or "untitled"


# --------------------------------------------------------------------------
# A tiny YAML subset reader (CloudFormation templates of the Karpenter docs)
# --------------------------------------------------------------------------

class _Line:
    __slots__ = ("indent", "text", "raw")

    def __init__(self, indent: int, text: str, raw: str):
        self.indent, self.text, self.raw = indent, text, raw


def _strip_comment(s: str) -> str:
    quote = None
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


def _scalar(s: str) -> Any:
    s = s.strip()
    tag = None
    m = re.match(r"^(![A-Za-z:]+)\s*(.*)$", s)
    if m:
        tag, s = m.group(1), m.group(2)
    if s.startswith("[") and s.endswith("]"):
        inner = s[1:-1].strip()
        return [_scalar(x) for x in _split_flow(inner)] if inner else []
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1]
    elif tag and tag not in ("!Sub",):
        return f"{tag} {s}".strip()
    return s


def _split_flow(s: str) -> list[str]:
    parts, cur, quote, depth = [], "", None, 0
    for ch in s:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch in "[{":
            depth += 1
            cur += ch
        elif ch in "]}":
            depth -= 1
            cur += ch
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


_KEY_RE = re.compile(r"""^("[^"]*"|'[^']*'|[^\s'"][^:]*?)\s*:(?:\s+(.*))?$""")


def parse_yaml_subset(text: str) -> Any:
    """Block mappings, block sequences, flow sequences, quoted/plain scalars,
    CloudFormation short tags (kept as '!Tag value' except !Sub which yields its
    string) and literal/folded block scalars. Enough for the Karpenter templates."""
    raw_lines = text.splitlines()
    lines: list[_Line] = []
    i = 0
    while i < len(raw_lines):
        raw = raw_lines[i]
        stripped = _strip_comment(raw)
        if not stripped.strip() or stripped.strip() in ("---",):
            i += 1
            continue
        indent = len(stripped) - len(stripped.lstrip(" "))
        text_ = stripped.strip()
        # block scalar: "key: |", "key: !Sub |", "- |"
        if re.search(r"(^|:\s|^-\s)(![A-Za-z:]+\s+)?[|>][-+]?$", text_):
            block = []
            j = i + 1
            while j < len(raw_lines):
                r = raw_lines[j]
                if r.strip() and (len(r) - len(r.lstrip(" "))) <= indent:
                    break
                block.append(r)
                j += 1
            nonempty = [b for b in block if b.strip()]
            cut = min((len(b) - len(b.lstrip(" ")) for b in nonempty), default=0)
            content = "\n".join(b[cut:] for b in block).strip("\n") + "\n"
            head = re.sub(r"(![A-Za-z:]+\s+)?[|>][-+]?$", "", text_).rstrip()
            lines.append(_Line(indent, head, raw))
            lines[-1].raw = ("BLOCK", content)  # type: ignore[assignment]
            i = j
            continue
        lines.append(_Line(indent, text_, raw))
        i += 1
    value, _ = _parse_node(lines, 0, lines[0].indent if lines else 0)
    return value


def _parse_node(lines: list[_Line], i: int, indent: int) -> tuple[Any, int]:
    if i >= len(lines):
        return None, i
    if lines[i].text.startswith("- ") or lines[i].text == "-":
        return _parse_seq(lines, i, lines[i].indent)
    return _parse_map(lines, i, lines[i].indent)


def _block_value(line: _Line) -> Any:
    raw = line.raw
    if isinstance(raw, tuple) and raw[0] == "BLOCK":
        return raw[1]
    return None


def _parse_map(lines: list[_Line], i: int, indent: int) -> tuple[dict, int]:
    out: dict[str, Any] = {}
    while i < len(lines) and lines[i].indent == indent and not lines[i].text.startswith("- "):
        line = lines[i]
        m = _KEY_RE.match(line.text)
        if not m:
            i += 1
            continue
        key = m.group(1).strip().strip("\"'")
        rest = m.group(2)
        block = _block_value(line)
        i += 1
        if block is not None:
            out[key] = block
        elif rest is not None and rest.strip() and not re.fullmatch(r"![A-Za-z:]+", rest.strip()):
            out[key] = _scalar(rest)
        elif i < len(lines) and (lines[i].indent > indent or
                                 (lines[i].indent == indent and lines[i].text.startswith("- "))):
            out[key], i = _parse_node(lines, i, lines[i].indent)
        else:
            out[key] = None
    return out, i


def _parse_seq(lines: list[_Line], i: int, indent: int) -> tuple[list, int]:
    out: list[Any] = []
    while i < len(lines) and lines[i].indent == indent and (lines[i].text.startswith("- ") or lines[i].text == "-"):
        line = lines[i]
        content = line.text[1:].strip()
        block = _block_value(line)
        if block is not None and not _KEY_RE.match(content):
            out.append(block)
            i += 1
            continue
        if not content:
            i += 1
            if i < len(lines) and lines[i].indent > indent:
                v, i = _parse_node(lines, i, lines[i].indent)
                out.append(v)
            else:
                out.append(None)
            continue
        if _KEY_RE.match(content) and not content.startswith(("\"", "'", "!", "[")) or \
                (_KEY_RE.match(content) and re.match(r"^(\"[^\"]*\"|'[^']*')\s*:", content)):
            # "- key: value": a mapping whose keys sit at the column of 'key'
            col = indent + (len(line.text) - len(content))
            sub = _Line(col, content, line.raw)
            lines[i] = sub
            v, i = _parse_map(lines, i, col)
            out.append(v)
            continue
        out.append(_scalar(content))
        i += 1
    return out, i


# --------------------------------------------------------------------------
# A brace-aware HCL reader (aws_iam_policy_document data sources)
# --------------------------------------------------------------------------

def _hcl_skip_string(s: str, i: int) -> int:
    """s[i] == '"'; return the index just past the closing quote (handles ${...})."""
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if s.startswith("${", i) or s.startswith("%{", i):
            i = _hcl_match_brace(s, i + 1) + 1
            continue
        i += 1
    return i


def _hcl_skip_comment(s: str, i: int) -> int:
    if s.startswith("/*", i):
        j = s.find("*/", i + 2)
        return len(s) if j < 0 else j + 2
    if s[i] == "#" or s.startswith("//", i):
        j = s.find("\n", i)
        return len(s) if j < 0 else j
    return i


def _hcl_match_brace(s: str, i: int) -> int:
    """s[i] is '{' or '['; return the index of the matching closer."""
    opener = s[i]
    closer = "}" if opener == "{" else "]"
    depth = 0
    while i < len(s):
        c = s[i]
        if c == '"':
            i = _hcl_skip_string(s, i)
            continue
        if c == "#" or s.startswith("//", i) or s.startswith("/*", i):
            i = _hcl_skip_comment(s, i)
            continue
        if s.startswith("<<", i):
            m = re.match(r"<<-?([A-Za-z_]+)\n", s[i:])
            if m:
                end = re.compile(r"^\s*" + m.group(1) + r"\s*$", re.M).search(s, i + m.end())
                i = end.end() if end else len(s)
                continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(s) - 1


def hcl_strip_comments(s: str) -> str:
    """Drop comments and replace heredocs (<<EOT ... EOT) with "" so that brace
    matching never looks inside them."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if s.startswith("<<", i):
            m = re.match(r"<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n", s[i:])
            if m:
                end = re.compile(r"^[ \t]*" + m.group(1) + r"[ \t]*$", re.M).search(s, i + m.end())
                out.append('""')
                i = end.end() if end else len(s)
                continue
        if c == '"':
            j = _hcl_skip_string(s, i)
            out.append(s[i:j])
            i = j
            continue
        if c == "#" or s.startswith("//", i) or s.startswith("/*", i):
            i = _hcl_skip_comment(s, i)
            continue
        out.append(c)
        i += 1
    return "".join(out)


def hcl_blocks(body: str, block_type: str) -> list[tuple[list[str], str]]:
    """Top-level blocks of `block_type` in body: [(labels, inner text)]."""
    out = []
    pat = re.compile(r'(?m)^[ \t]*' + re.escape(block_type) + r'((?:[ \t]+"[^"]*")*)[ \t]*\{')
    i = 0
    while True:
        m = pat.search(body, i)
        if not m:
            break
        # only blocks at depth 0 of body
        if _hcl_depth_at(body, m.start()) != 0:
            i = m.end()
            continue
        open_idx = m.end() - 1
        close_idx = _hcl_match_brace(body, open_idx)
        labels = re.findall(r'"([^"]*)"', m.group(1))
        out.append((labels, body[open_idx + 1:close_idx]))
        i = close_idx + 1
    return out


def _hcl_depth_at(s: str, pos: int) -> int:
    depth, i = 0, 0
    while i < pos:
        c = s[i]
        if c == '"':
            i = _hcl_skip_string(s, i)
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        i += 1
    return depth


def hcl_attr(body: str, name: str) -> str | None:
    """Raw expression text of a top-level attribute `name = ...` in body."""
    pat = re.compile(r'(?m)^[ \t]*' + re.escape(name) + r'[ \t]*=[ \t]*')
    for m in pat.finditer(body):
        if _hcl_depth_at(body, m.start()) != 0:
            continue
        j = m.end()
        if j < len(body) and body[j] in "[{":
            return body[j:_hcl_match_brace(body, j) + 1]
        if j < len(body) and body[j] == '"':
            return body[j:_hcl_skip_string(body, j)]
        end = body.find("\n", j)
        return body[j:end if end >= 0 else len(body)].strip()
    return None


def hcl_string_list(expr: str | None) -> tuple[list[str], list[str]]:
    """A list expression -> (string literals, non-literal element texts)."""
    if expr is None:
        return [], []
    expr = expr.strip()
    if expr.startswith('"'):
        return [expr[1:-1]], []
    if not (expr.startswith("[") and expr.endswith("]")):
        return [], [" ".join(expr.split())]
    inner = expr[1:-1]
    lits, other = [], []
    i, cur = 0, ""
    while i < len(inner):
        c = inner[i]
        if c == '"':
            j = _hcl_skip_string(inner, i)
            cur += inner[i:j]
            i = j
            continue
        if c in "[{(":
            j = _hcl_match_brace(inner, i) if c != "(" else _match_paren(inner, i)
            cur += inner[i:j + 1]
            i = j + 1
            continue
        if c == ",":
            _push_elem(cur, lits, other)
            cur = ""
        else:
            cur += c
        i += 1
    _push_elem(cur, lits, other)
    return lits, other


def _match_paren(s: str, i: int) -> int:
    depth = 0
    while i < len(s):
        if s[i] == '"':
            i = _hcl_skip_string(s, i)
            continue
        if s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(s) - 1


def _push_elem(cur: str, lits: list, other: list) -> None:
    e = cur.strip()
    if not e:
        return
    if re.fullmatch(r'"(?:[^"\\]|\\.)*"', e):
        # a template string ("...${var}...") is not a literal, but keep it unquoted
        (lits if "${" not in e else other).append(e[1:-1])
    else:
        other.append(" ".join(e.split()))


def hcl_statement(body: str, optional_when: str | None) -> dict:
    actions, unresolved = hcl_string_list(hcl_attr(body, "actions"))
    not_actions, _ = hcl_string_list(hcl_attr(body, "not_actions"))
    effect = hcl_attr(body, "effect")
    out: dict[str, Any] = {
        "effect": (effect or '"Allow"').strip('"'),
        "actions": normalize_actions(actions),
    }
    if unresolved:
        out["unresolved_actions"] = sorted(unresolved)
    if not_actions:
        out["not_actions"] = normalize_actions(not_actions)
    conds = []
    for _, cbody in hcl_blocks(body, "condition"):
        test = (hcl_attr(cbody, "test") or "").strip('"')
        var = (hcl_attr(cbody, "variable") or "").strip('"')
        vals, vother = hcl_string_list(hcl_attr(cbody, "values"))
        conds.append({"operator": test, "key": var, "values": sorted(set(vals) | set(vother))})
    if conds:
        out["conditions"] = sorted(conds, key=lambda c: (c["operator"], c["key"], c["values"]))
    sid = hcl_attr(body, "sid")
    if sid:
        out["sid"] = sid.strip('"')
    if optional_when is not None:
        out["only_when"] = " ".join(optional_when.split())
    return out


def hcl_policy_documents(tf: str, key: str = "attach_flag") -> dict[str, dict]:
    """Terraform text -> {key: {document, count, statements}} for every
    data "aws_iam_policy_document".

    key="attach_flag": keyed by each var.attach_*_policy its count mentions (documents
    without such a flag are skipped) - terraform-aws-iam's IRSA module.
    key="document": keyed by the data source name - eks-blueprints-addons."""
    tf = hcl_strip_comments(tf)
    out: dict[str, dict] = {}
    for labels, body in hcl_blocks(tf, "data"):
        if len(labels) != 2 or labels[0] != "aws_iam_policy_document":
            continue
        count = " ".join((hcl_attr(body, "count") or "").split())
        if key == "attach_flag":
            keys = re.findall(r"var\.(attach_\w+?_policy)\b", count)
        else:
            keys = [labels[1]]
        if not keys:
            continue
        stmts = []
        for _, sbody in hcl_blocks(body, "statement"):
            stmts.append(hcl_statement(sbody, None))
        for dlabels, dbody in hcl_blocks(body, "dynamic"):
            if dlabels != ["statement"]:
                continue
            for_each = hcl_attr(dbody, "for_each") or "?"
            for _, cbody in hcl_blocks(dbody, "content"):
                stmts.append(hcl_statement(cbody, for_each))
        for k in keys:
            out[k] = {"document": labels[1], "count": count, "statements": stmts}
    return out


def summarize_hcl_statements(stmts: list[dict]) -> dict:
    always, optional, denied = [], [], []
    conditioned, unresolved = [], []
    for s in stmts:
        if s["effect"].lower() != "allow":
            denied.extend(s["actions"])
        elif "only_when" in s:
            optional.extend(s["actions"])
        else:
            always.extend(s["actions"])
        if "conditions" in s:
            conditioned.append(s)
        unresolved.extend(s.get("unresolved_actions", []))
    always_n = normalize_actions(always)
    out: dict[str, Any] = {
        "actions": always_n,
        "conditioned_statements": sorted(conditioned, key=stable_json),
    }
    opt = [a for a in normalize_actions(optional) if a.casefold() not in {x.casefold() for x in always_n}]
    if opt:
        out["optional_actions"] = opt
    if denied:
        out["denied_actions"] = normalize_actions(denied)
    if unresolved:
        out["unresolved_actions"] = sorted(set(unresolved))
    return out


# --------------------------------------------------------------------------
# Git access (bare git dir or work tree)
# --------------------------------------------------------------------------

class Repo:
    def __init__(self, path: str, name: str):
        self.path = path
        self.name = name
        self.git("rev-parse", "--git-dir")

    def git(self, *args: str, check: bool = True) -> str:
        r = subprocess.run(["git", "-C", self.path, *args], capture_output=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed in {self.name}: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode("utf-8", errors="replace") if r.returncode == 0 else ""

    def default_ref(self) -> str:
        """The full name of the branch HEAD points to: a bare 'HEAD' can be ambiguous
        in mirrors that also carry refs named like .../HEAD."""
        ref = self.git("symbolic-ref", "-q", "HEAD", check=False).strip()
        return ref or "HEAD"

    def tags(self) -> list[str]:
        return [t for t in self.git("tag", "--list").splitlines() if t]

    def show(self, ref: str, path: str) -> str | None:
        r = subprocess.run(["git", "-C", self.path, "show", f"{ref}:{path}"], capture_output=True)
        if r.returncode != 0:
            return None
        return r.stdout.decode("utf-8", errors="replace")

    def ls(self, ref: str, directory: str) -> list[str]:
        out = self.git("ls-tree", "--name-only", f"{ref}:{directory}", check=False)
        return [x for x in out.splitlines() if x]

    def ls_recursive(self, ref: str) -> list[str]:
        return [x for x in self.git("ls-tree", "-r", "--name-only", ref, check=False).splitlines() if x]

    def commit_dates(self, refs: list[str]) -> dict[str, str]:
        """ref -> committer date (YYYY-MM-DD) of the commit it points to."""
        out = {}
        for ref in refs:
            d = self.git("log", "-1", "--format=%cs", f"{ref}^{{commit}}", check=False).strip()
            if d:
                out[ref] = d
        return out

    def newest_commit_date(self) -> str:
        return self.git("log", "-1", "--format=%cs", self.default_ref(), "--tags", check=False).strip()


def source_info(repo: Repo, releases: list[str]) -> dict:
    return {
        "repository": repo.name,
        "newest_commit_date": repo.newest_commit_date(),
        "newest_release": releases[-1] if releases else None,
    }


def release_tags(repo: Repo, pattern: str, minimum: str | None = None) -> list[tuple[str, str]]:
    """[(tag, canonical version)] for tags matching pattern (group 1 = X.Y.Z), semver order."""
    rx = re.compile(pattern)
    out = []
    for t in repo.tags():
        m = rx.match(t)
        if not m or parse_version(m.group(1)) is None:
            continue
        v = canonical_version(m.group(1))
        if minimum and version_key(v) < version_key(minimum):
            continue
        out.append((t, v))
    out.sort(key=lambda tv: version_key(tv[1]))
    return out


def warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


# --------------------------------------------------------------------------
# Building per-controller data from {version: {variant: summary}}
# --------------------------------------------------------------------------

def build_controller(per_version: dict[str, dict[str, dict]], variant_meta: dict[str, dict],
                     release_dates: dict[str, str]) -> dict:
    versions = sorted(per_version, key=version_key)
    # Distinct documents, named after their first (version, variant).
    doc_ids: dict[str, str] = {}
    documents: dict[str, dict] = {}
    variant_order = sorted({v for pv in per_version.values() for v in pv},
                           key=lambda n: (n != "default", n))
    for ver in versions:
        for var in variant_order:
            summ = per_version[ver].get(var)
            if summ is None:
                continue
            k = stable_json(summ)
            if k not in doc_ids:
                doc_ids[k] = f"{ver}/{var}"
                documents[doc_ids[k]] = summ
    revisions = []
    for ver in versions:
        ids = {var: doc_ids[stable_json(s)] for var, s in per_version[ver].items()}
        if revisions and revisions[-1]["documents"] == ids:
            revisions[-1]["last"] = ver
        else:
            revisions.append({"since": ver, "last": ver, "documents": ids})
    # variant presence intervals and action/statement histories
    variants = {}
    action_history: dict[str, dict] = {}
    statement_history: dict[str, list] = {}
    for var in variant_order:
        present = [ver in per_version and var in per_version[ver] for ver in versions]
        meta = dict(variant_meta.get(var, {}))
        meta["present"] = _intervals(versions, present, closed=True)
        variants[var] = meta
        actions = sorted({a for ver in versions for a in per_version[ver].get(var, {}).get("actions", [])},
                         key=lambda s: (s.casefold(), s))
        hist = {}
        for a in actions:
            flags = [a in per_version[ver].get(var, {}).get("actions", []) for ver in versions]
            hist[a] = _intervals(versions, flags, closed=False)
        action_history[var] = hist
        shapes: dict[str, dict] = {}
        for ver in versions:
            for st in per_version[ver].get(var, {}).get("conditioned_statements", []):
                shapes.setdefault(stable_json(st), st)
        sh = []
        for k, st in shapes.items():
            flags = [k in {stable_json(x) for x in per_version[ver].get(var, {}).get("conditioned_statements", [])}
                     for ver in versions]
            sh.append({"statement": st, "present": _intervals(versions, flags, closed=False)})
        sh.sort(key=lambda e: (version_key(e["present"][0][0]), stable_json(e["statement"])))
        statement_history[var] = sh
    return {
        "releases": {v: release_dates.get(v) for v in versions},
        "newest_version": versions[-1] if versions else None,
        "variants": variants,
        "revisions": revisions,
        "documents": documents,
        "action_history": action_history,
        "conditioned_statement_history": statement_history,
    }


def _intervals(versions: list[str], flags: list[bool], closed: bool) -> list[list]:
    """Runs of True over semver-ordered versions.

    closed=True: [[first, last], ...] (last = last version where present).
    closed=False: [[since, removed_in or None], ...] (removed_in = first version
    where absent again; None = still present in the newest release).
    """
    out = []
    start = None
    for i, (v, f) in enumerate(zip(versions, flags)):
        if f and start is None:
            start = i
        if not f and start is not None:
            out.append([versions[start], versions[i - 1] if closed else v])
            start = None
    if start is not None:
        out.append([versions[start], versions[-1] if closed else None])
    return out


# --------------------------------------------------------------------------
# Per-controller readers
# --------------------------------------------------------------------------

LBC_VARIANT_RE = re.compile(r"^iam_policy(?:_(.+))?\.json$")
# iam_policy_<partition>.json; any other iam_policy_<x>.json (v1_to_v2_additional,
# acm_certs, ...) or <x>_iam_policy.json (aga_controller) is an add-on policy for an
# optional feature, recorded as kind "supplementary".
LBC_PARTITIONS = {"default", "cn", "us-gov", "iso", "isob", "isoe", "isof", "eusc"}


def read_lbc(repo: Repo) -> tuple[dict, dict, list[str]]:
    per_version: dict[str, dict] = {}
    meta: dict[str, dict] = {}
    tags = release_tags(repo, r"^v(\d+\.\d+\.\d+)$", minimum="v2.0.0")
    for tag, ver in tags:
        files = repo.ls(tag, "docs/install")
        found = {}
        for f in files:
            if not f.endswith(".json"):
                continue
            m = LBC_VARIANT_RE.match(f)
            if m:
                var = m.group(1) or "default"
                kind = "partition" if var in LBC_PARTITIONS else "supplementary"
            elif f.endswith("_iam_policy.json"):
                var = f[: -len("_iam_policy.json")]
                kind = "supplementary"
            else:
                continue
            text = repo.show(tag, f"docs/install/{f}")
            doc = _parse_json_loose(text or "")
            if not is_permission_policy(doc):
                warn(f"lbc {tag}: cannot parse docs/install/{f}")
                continue
            found[var] = summarize_policy(doc)
            meta.setdefault(var, {"file": f"docs/install/{f}", "kind": kind})
        if "default" not in found:
            warn(f"lbc {tag}: no docs/install/iam_policy.json")
            continue
        per_version[ver] = found
    return per_version, meta, [t for t, _ in tags]


def read_markdown_policy(repo: Repo, tags: list[tuple[str, str]], path: str, label) -> tuple[dict, dict]:
    per_version: dict[str, dict] = {}
    meta: dict[str, dict] = {}
    for tag, ver in tags:
        text = repo.show(tag, path)
        if text is None:
            warn(f"{repo.name} {tag}: no {path}")
            continue
        blocks = markdown_policy_blocks(text)
        if not blocks:
            warn(f"{repo.name} {tag}: no policy block in {path}")
            continue
        found: dict[str, dict] = {}
        for idx, b in enumerate(blocks):
            name = label(idx, b)
            if name in found:
                n = 2
                while f"{name}-{n}" in found:
                    n += 1
                name = f"{name}-{n}"
            found[name] = summarize_policy(b["doc"])
            meta.setdefault(name, {"file": path, "heading": b["heading"]})
        per_version[ver] = found
    return per_version, meta


def external_dns_label(idx: int, block: dict) -> str:
    if idx == 0:
        return "default"
    if "abac" in block["heading"].lower():
        return "abac"
    return slug(block["heading"])


def autoscaler_label(idx: int, block: dict) -> str:
    """The README's policies over time: one block (v0.5), 'minimum' + 'auto-discover'
    (+ 'scale from 0') blocks (v0.6 - v1.18), one 'minimum privileges' block with prose
    (v1.19 - v1.23), then 'Full ... (Recommended)' and 'Minimal' headings (v1.24+).
    'full' = the auto-discovery policy, 'minimal' = the fixed-ASG-list policy."""
    h = block["heading"].lower()
    ctx = block["context"].lower()
    if "full" in h:
        return "full"
    if "minimal" in h:
        return "minimal"
    if "auto-discover" in ctx or "autodiscover" in ctx:
        return "full"
    if "from 0" in ctx or "to 0" in h:
        return "scale-from-zero"
    if idx == 0 or "minimum" in ctx:
        return "minimal"
    return slug(block["heading"])


def read_json_file_policy(repo: Repo, tags: list[tuple[str, str]], path: str) -> tuple[dict, dict]:
    per_version, meta = {}, {}
    for tag, ver in tags:
        text = repo.show(tag, path)
        if text is None:
            continue
        doc = _parse_json_loose(text)
        if not is_permission_policy(doc):
            warn(f"{repo.name} {tag}: cannot parse {path}")
            continue
        per_version[ver] = {"default": summarize_policy(doc)}
        meta.setdefault("default", {"file": path})
    return per_version, meta


KARPENTER_CFN_CANDIDATES = [
    "website/content/en/{full}/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    "website/content/en/{minor}/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    "website/content/en/{full}/getting-started/getting-started-with-eksctl/cloudformation.yaml",
    "website/content/en/{full}/getting-started/cloudformation.yaml",
    "website/content/en/preview/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    "website/content/en/preview/getting-started/getting-started-with-eksctl/cloudformation.yaml",
    "website/content/en/pre-docs/getting-started/cloudformation.yaml",
    "website/content/en/docs/getting-started/cloudformation.yaml",
]


def karpenter_controller_policies(cfn: dict) -> list[tuple[str, dict]]:
    out = []
    res = (cfn or {}).get("Resources") or {}
    for name, r in res.items():
        if not isinstance(r, dict) or r.get("Type") not in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            continue
        props = r.get("Properties") or {}
        pname = str(props.get("ManagedPolicyName") or props.get("PolicyName") or "")
        if "KarpenterController" not in pname and "Controller" not in name:
            continue
        doc = props.get("PolicyDocument")
        if isinstance(doc, str):
            doc = _parse_json_loose(doc)
        if is_permission_policy(doc):
            out.append((name, doc))
    return out


def read_karpenter(repo: Repo) -> tuple[dict, dict, list[str]]:
    per_version, meta = {}, {}
    tags = release_tags(repo, r"^v(\d+\.\d+\.\d+)$")
    for tag, ver in tags:
        major, minor, patch = version_key(ver)
        found = None
        for cand in KARPENTER_CFN_CANDIDATES:
            path = cand.format(full=f"v{major}.{minor}.{patch}", minor=f"v{major}.{minor}")
            text = repo.show(tag, path)
            if text is None:
                continue
            try:
                cfn = parse_yaml_subset(text)
            except Exception as e:  # noqa: BLE001 - report and try the next candidate
                warn(f"karpenter {tag}: cannot parse {path}: {e}")
                continue
            pols = karpenter_controller_policies(cfn)
            if not pols:
                warn(f"karpenter {tag}: no controller policy in {path}")
                continue
            merged = {"Statement": [s for _, d in pols for s in as_list(d.get("Statement"))]}
            found = summarize_policy(merged, parts=[n for n, _ in pols])
            meta.setdefault("default", {"file": "website/content/en/<docs version>/getting-started/.../cloudformation.yaml",
                                        "kind": "union of the KarpenterController* managed policies"})
            per_version[ver] = {"default": found}
            per_version[ver]["default"]["source_path"] = path.replace(f"v{major}.{minor}.{patch}", "<version>") \
                .replace(f"v{major}.{minor}", "<minor>")
            break
        if found is None:
            warn(f"karpenter {tag}: no cloudformation.yaml with a controller policy")
    # source_path is provenance, not policy content: move it out of the documents
    paths = {}
    for ver, d in per_version.items():
        paths[ver] = d["default"].pop("source_path")
    meta.setdefault("default", {})["source_paths"] = _runs(sorted(per_version, key=version_key), paths)
    return per_version, meta, [t for t, _ in tags]


def _runs(versions: list[str], value: dict[str, str]) -> list[dict]:
    out: list[dict] = []
    for v in versions:
        if out and out[-1]["value"] == value[v]:
            out[-1]["last"] = v
        else:
            out.append({"since": v, "last": v, "value": value[v]})
    return out


# --------------------------------------------------------------------------
# Charts: version -> appVersion at every commit that touched Chart.yaml
# --------------------------------------------------------------------------

CHART_SPECS = {
    # chart: [(repo key, [Chart.yaml paths, old locations included], chart release tag pattern)]
    # Sources are in order of authority: a later source only fills chart versions the
    # earlier ones lack (eks-charts is the published Helm repository of the LBC chart;
    # the LBC repo's helm/ copy is synced into it and sometimes bumps appVersion first).
    "aws-load-balancer-controller": [
        ("eks_charts", ["stable/aws-load-balancer-controller/Chart.yaml",
                        "stable/aws-loadbalancer-controller/Chart.yaml"], None),
        ("lbc", ["helm/aws-load-balancer-controller/Chart.yaml"], None)],
    "external-dns": [("external_dns", ["charts/external-dns/Chart.yaml"], r"^external-dns-helm-chart-(.+)$")],
    "cluster-autoscaler": [("autoscaler", ["charts/cluster-autoscaler/Chart.yaml",
                                           "cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml"],
                            r"^cluster-autoscaler-chart-(.+)$")],
    "aws-ebs-csi-driver": [("ebs_csi", ["charts/aws-ebs-csi-driver/Chart.yaml", "aws-ebs-csi-driver/Chart.yaml"],
                            r"^helm-chart-aws-ebs-csi-driver-(.+)$")],
    "aws-efs-csi-driver": [("efs_csi", ["charts/aws-efs-csi-driver/Chart.yaml", "helm/Chart.yaml"],
                            r"^helm-chart-aws-efs-csi-driver-(.+)$")],
    "karpenter": [("karpenter", ["charts/karpenter/Chart.yaml"], r"^v(\d+\.\d+\.\d+)$")],
}
# Karpenter's Chart.yaml in git lags the release: since v0.17 the release script
# (hack/release*.sh) rewrites version and appVersion from the release tag before
# `helm package`. When a tag's hack/ tree has that rewrite, the tag's version is
# recorded as chart version = app version, with basis "release-script".
RELEASE_SCRIPT_REWRITE = r'yq e -i "\.version = '
RELEASE_SCRIPT_CHARTS = {"karpenter"}


def chart_fields(text: str) -> tuple[str | None, str | None]:
    version = app = None
    for line in text.splitlines():
        m = re.match(r"^(version|appVersion):\s*(.*?)\s*(?:#.*)?$", line)
        if m:
            val = m.group(2).strip().strip("\"'")
            if m.group(1) == "version":
                version = val
            else:
                app = val
    return version, app


def read_chart_history(repo: Repo, paths: list[str], tag_pattern: str | None,
                       release_script: bool = False) -> dict[str, dict]:
    """chart version -> {app_version, first_seen, [release_tag], [other_app_versions]}.

    Walks the default branch and every tag (not all branches: unmerged PR branches
    would add versions that were never released), oldest first. The app version of a
    chart version is the one in the chart release tag's Chart.yaml when the project
    tags chart releases; otherwise the one at the first commit that set that chart
    version (chart-releaser publishes a version once, when it first appears). Other
    appVersion values seen under the same chart version are listed."""
    log = repo.git("log", "--format=%H %cs", "--date-order", "--reverse", repo.default_ref(), "--tags",
                   "--", *paths, check=False)
    out: dict[str, dict] = {}
    for line in log.splitlines():
        commit, date = line.split()
        for path in paths:
            text = repo.show(commit, path)
            if text is not None:
                break
        else:
            continue
        ver, app = chart_fields(text)
        if not ver or not app:
            continue
        e = out.get(ver)
        if e is None:
            out[ver] = {"app_version": app, "first_seen": date, "_seen": {app}}
        else:
            e["_seen"].add(app)
            if date < e["first_seen"]:
                e["first_seen"] = date
    if tag_pattern:
        rx = re.compile(tag_pattern)
        for tag in repo.tags():
            m = rx.match(tag)
            if not m:
                continue
            for path in paths:
                text = repo.show(tag, path)
                if text is not None:
                    break
            else:
                continue
            ver, app = chart_fields(text)
            tagged = m.group(1).lstrip("v")
            basis = None
            if ver != tagged:
                if not release_script:
                    continue
                grep = repo.git("grep", "-l", "-E", RELEASE_SCRIPT_REWRITE, tag, "--", "hack", check=False)
                if not grep.strip():
                    continue
                ver, app, basis = tagged, tagged, "release-script"
            if not ver or not app:
                continue
            e = out.setdefault(ver, {"app_version": app, "first_seen": repo.commit_dates([tag]).get(tag, ""),
                                     "_seen": set()})
            e["app_version"] = app
            e["release_tag"] = True
            if basis:
                e["basis"] = basis
            e["_seen"].add(app)
    for e in out.values():
        others = sorted(e.pop("_seen") - {e["app_version"]})
        if others:
            e["other_app_versions"] = others
    return out


def chart_sort_key(v: str):
    p = re.findall(r"\d+", v)
    return tuple(int(x) for x in p[:3]) + (v,)


# --------------------------------------------------------------------------
# terraform-aws-modules/terraform-aws-iam
# --------------------------------------------------------------------------

TF_MODULE_PATHS = ["modules/iam-role-for-service-accounts-eks/policies.tf",
                   "modules/iam-role-for-service-accounts/policies.tf"]


def read_terraform_iam(repo: Repo) -> dict:
    def files(tag: str) -> tuple[str | None, list[str]]:
        for path in TF_MODULE_PATHS:
            text = repo.show(tag, path)
            if text is not None:
                return path.split("/")[1], [text]
        return None, []
    return read_terraform_module(repo, files, "attach_flag", "flags")


def read_blueprints_addons(repo: Repo) -> dict:
    """aws-ia/terraform-aws-eks-blueprints-addons: every root *.tf file at each tag."""
    def files(tag: str) -> tuple[str | None, list[str]]:
        texts = []
        for name in repo.ls(tag, ""):
            if name.endswith(".tf"):
                t = repo.show(tag, name)
                if t and "aws_iam_policy_document" in t:
                    texts.append(t)
        return ("root module" if texts else None), texts
    return read_terraform_module(repo, files, "document", "documents")


def read_terraform_module(repo: Repo, files, key: str, out_key: str) -> dict:
    tags = release_tags(repo, r"^v(\d+\.\d+\.\d+)$")
    per_key: dict[str, dict[str, dict]] = {}
    counts: dict[str, dict[str, str]] = {}
    module_of: dict[str, str] = {}
    for tag, ver in tags:
        module, texts = files(tag)
        if module is None:
            continue
        module_of[ver] = module
        for text in texts:
            for k, d in hcl_policy_documents(text, key).items():
                per_key.setdefault(k, {})[ver] = summarize_hcl_statements(d["statements"])
                counts.setdefault(k, {})[ver] = d["count"] if key == "document" else d["document"]
    dates = repo.commit_dates([t for t, _ in tags])
    versions = [v for _, v in tags if v in module_of]
    entries = {}
    for k, pv in sorted(per_key.items()):
        revs = []
        prev = None
        for v in versions:
            s = pv.get(v)
            sk = stable_json(s) if s is not None else None
            if revs and sk == prev:
                revs[-1]["last"] = v
                continue
            prev = sk
            revs.append({"since": v, "last": v, "policy": s})
        present = [v in pv for v in versions]
        hist = {}
        all_actions = sorted({a for s in pv.values() for a in s["actions"] + s.get("optional_actions", [])},
                             key=lambda x: (x.casefold(), x))
        for a in all_actions:
            hist[a] = _intervals(versions, [a in (pv.get(v, {}).get("actions", []) +
                                                   pv.get(v, {}).get("optional_actions", [])) for v in versions],
                                 closed=False)
        pv_versions = [v for v in versions if v in pv]
        entries[k] = {
            "present": _intervals(versions, present, closed=True),
            ("count" if key == "document" else "document"): _runs(pv_versions, counts[k]),
            "revisions": revs,
            "action_history": hist,
        }
    tag_of = {v: t for t, v in tags}
    return {
        "module_by_version": _runs(versions, module_of),
        "releases": {v: dates.get(tag_of[v]) for v in versions},
        "newest_version": versions[-1] if versions else None,
        out_key: entries,
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

WIDTH = 120


def to_json(value: Any, level: int = 0, used: int = 0) -> str:
    """Deterministic JSON: sorted keys, one-space indent; a list, or a dict holding
    no dict, is written on one line when that line fits in WIDTH columns (so chart table rows,
    [since, until] pairs and condition shapes stay on one line, while long action
    lists stay one action per line for review). `used` = columns already taken on
    the current line."""
    flat = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (list, dict)) or not value:
        return flat
    nested_dict = isinstance(value, dict) and any(isinstance(v, dict) for v in value.values())
    if not nested_dict and max(used, level) + len(flat) <= WIDTH:
        return flat
    pad = " " * (level + 1)
    if isinstance(value, list):
        items = [pad + to_json(v, level + 1, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * level + "]"
    items = []
    for k in sorted(value):
        head = pad + json.dumps(k, ensure_ascii=False) + ": "
        items.append(head + to_json(value[k], level + 1, len(head)))
    return "{\n" + ",\n".join(items) + "\n" + " " * level + "}"


def dump(path: str, data: dict) -> None:
    text = to_json(data)
    json.loads(text)  # self-check
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "data", "controllers"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for opt in ("lbc", "eks-charts", "external-dns", "autoscaler", "ebs-csi", "efs-csi", "karpenter",
                "terraform-aws-iam", "blueprints-addons"):
        ap.add_argument(f"--{opt}", metavar="PATH")
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--snapshot-date", metavar="YYYY-MM-DD")
    args = ap.parse_args(argv)

    names = {
        "lbc": "kubernetes-sigs/aws-load-balancer-controller",
        "eks_charts": "aws/eks-charts",
        "external_dns": "kubernetes-sigs/external-dns",
        "autoscaler": "kubernetes/autoscaler",
        "ebs_csi": "kubernetes-sigs/aws-ebs-csi-driver",
        "efs_csi": "kubernetes-sigs/aws-efs-csi-driver",
        "karpenter": "aws/karpenter-provider-aws",
        "terraform_aws_iam": "terraform-aws-modules/terraform-aws-iam",
        "blueprints_addons": "aws-ia/terraform-aws-eks-blueprints-addons",
    }
    repos: dict[str, Repo] = {}
    for key, name in names.items():
        p = getattr(args, key)
        if p:
            repos[key] = Repo(p, name)
    if not repos:
        ap.error("give at least one checkout")
    snapshot = args.snapshot_date or max(r.newest_commit_date() for r in repos.values())
    os.makedirs(args.out, exist_ok=True)

    def header(controller: str, repo: Repo, releases: list[str], extra: dict | None = None) -> dict:
        h = {"format": FORMAT_VERSION, "controller": controller, "snapshot_date": snapshot,
             "source": source_info(repo, releases)}
        h.update(extra or {})
        return h

    def emit(controller: str, repo: Repo, per_version: dict, meta: dict, tag_of: dict[str, str], extra: dict):
        dates = repo.commit_dates([tag_of[v] for v in per_version])
        rel_dates = {v: dates.get(tag_of[v]) for v in per_version}
        body = build_controller(per_version, meta, rel_dates)
        data = header(controller, repo, sorted(per_version, key=version_key), extra)
        data.update(body)
        dump(os.path.join(args.out, f"{controller}.json"), data)
        print(f"{controller}: {len(per_version)} releases, {len(body['revisions'])} revisions, "
              f"{len(body['documents'])} distinct documents", file=sys.stderr)

    if "lbc" in repos:
        r = repos["lbc"]
        pv, meta, _ = read_lbc(r)
        tag_of = {canonical_version(t): t for t, _ in release_tags(r, r"^v(\d+\.\d+\.\d+)$")}
        emit("aws-load-balancer-controller", r, pv, meta, tag_of,
             {"tag_format": "vX.Y.Z", "policy_paths": ["docs/install/iam_policy*.json",
                                                        "docs/install/*_iam_policy.json"]})
    if "external_dns" in repos:
        r = repos["external_dns"]
        tags = release_tags(r, r"^v(\d+\.\d+\.\d+)$")
        pv, meta = read_markdown_policy(r, tags, "docs/tutorials/aws.md", external_dns_label)
        emit("external-dns", r, pv, meta, {v: t for t, v in tags},
             {"tag_format": "vX.Y.Z", "policy_paths": ["docs/tutorials/aws.md (fenced JSON blocks)"]})
    if "autoscaler" in repos:
        r = repos["autoscaler"]
        tags = release_tags(r, r"^cluster-autoscaler-(\d+\.\d+\.\d+)$")
        pv, meta = read_markdown_policy(r, tags, "cluster-autoscaler/cloudprovider/aws/README.md", autoscaler_label)
        emit("cluster-autoscaler", r, pv, meta, {v: t for t, v in tags},
             {"tag_format": "cluster-autoscaler-X.Y.Z (image tag vX.Y.Z)",
              "policy_paths": ["cluster-autoscaler/cloudprovider/aws/README.md (fenced JSON blocks)"]})
    if "ebs_csi" in repos:
        r = repos["ebs_csi"]
        tags = release_tags(r, r"^v(\d+\.\d+\.\d+)$")
        pv, meta = read_json_file_policy(r, tags, "docs/example-iam-policy.json")
        emit("aws-ebs-csi-driver", r, pv, meta, {v: t for t, v in tags},
             {"tag_format": "vX.Y.Z", "policy_paths": ["docs/example-iam-policy.json"],
              "managed_policy": "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"})
    if "efs_csi" in repos:
        r = repos["efs_csi"]
        tags = release_tags(r, r"^v(\d+\.\d+\.\d+)$")
        pv, meta = read_json_file_policy(r, tags, "docs/iam-policy-example.json")
        emit("aws-efs-csi-driver", r, pv, meta, {v: t for t, v in tags},
             {"tag_format": "vX.Y.Z", "policy_paths": ["docs/iam-policy-example.json"],
              "managed_policy": "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"})
    if "karpenter" in repos:
        r = repos["karpenter"]
        pv, meta, _ = read_karpenter(r)
        tags = release_tags(r, r"^v(\d+\.\d+\.\d+)$")
        emit("karpenter", r, pv, meta, {v: t for t, v in tags},
             {"tag_format": "vX.Y.Z", "policy_paths": KARPENTER_CFN_CANDIDATES})

    chart_repos = {k for specs in CHART_SPECS.values() for k, _, _ in specs}
    if chart_repos & set(repos):
        charts = {}
        for chart, specs in CHART_SPECS.items():
            sources = []
            merged: dict[str, dict] = {}
            for key, paths, tag_pattern in specs:
                if key not in repos:
                    continue
                hist = read_chart_history(repos[key], paths, tag_pattern, chart in RELEASE_SCRIPT_CHARTS)
                if not hist:
                    continue
                name = repos[key].name
                sources.append({"repository": name, "paths": paths, "release_tags": tag_pattern,
                                "chart_versions": [min(hist, key=chart_sort_key), max(hist, key=chart_sort_key)]})
                for ver, e in hist.items():
                    prev = merged.get(ver)
                    if prev is None:
                        merged[ver] = dict(e, chart_version=ver)
                        if sources[0]["repository"] != name:
                            merged[ver]["source"] = name
                        continue
                    if e["app_version"] != prev["app_version"]:
                        warn(f"chart {chart} {ver}: {prev.get('source', sources[0]['repository'])} has "
                             f"{prev['app_version']}, {name} has {e['app_version']}; keeping the former")
                    others = set(prev.get("other_app_versions", [])) | set(e.get("other_app_versions", []))
                    others |= {e["app_version"]}
                    others.discard(prev["app_version"])
                    if others:
                        prev["other_app_versions"] = sorted(others)
            if not merged:
                continue
            rows = [merged[v] for v in sorted(merged, key=chart_sort_key)]
            charts[chart] = {"sources": sources, "versions": rows,
                             "newest_chart_version": rows[-1]["chart_version"]}
        dump(os.path.join(args.out, "charts.json"),
             {"format": FORMAT_VERSION, "snapshot_date": snapshot, "charts": charts})

    if "terraform_aws_iam" in repos:
        r = repos["terraform_aws_iam"]
        body = read_terraform_iam(r)
        data = {"format": FORMAT_VERSION, "snapshot_date": snapshot,
                "source": source_info(r, list(body["releases"])),
                "module_paths": TF_MODULE_PATHS}
        data.update(body)
        dump(os.path.join(args.out, "terraform-aws-iam.json"), data)
    if "blueprints_addons" in repos:
        r = repos["blueprints_addons"]
        body = read_blueprints_addons(r)
        data = {"format": FORMAT_VERSION, "snapshot_date": snapshot,
                "source": source_info(r, list(body["releases"])),
                "module_paths": ["*.tf (root module)"]}
        data.update(body)
        dump(os.path.join(args.out, "terraform-aws-eks-blueprints-addons.json"), data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
