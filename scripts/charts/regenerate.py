#!/usr/bin/env python3
"""Regenerate data/charts/charts.json from data/charts/curated.json and local chart checkouts.

Python 3.11, standard library only, no network. Each chart source that curated.json marks
`"checkout": true` must be given as a local git checkout (a work tree or a bare git
directory) that contains the pinned commit:

    scripts/charts/regenerate.py --source kubernetes/autoscaler=../src/autoscaler \
        --source aws/eks-charts=../src/eks-charts ...   [--check] [--examples-md]

The hand-curated part lives in data/charts/curated.json (not in this script): per chart,
eras of name rules and values keys, aliases, notes and worked examples; an era after the
first is a patch on the one before it. What is derived mechanically from the checkouts:

  * the published chart versions (Chart.yaml `version` over the git history of the chart
    directories, or release tags for charts whose Chart.yaml is stamped at release time);
  * per era: the chart name; which helper or expression each ServiceAccount template uses
    for metadata.name / metadata.namespace and the `if` around it; whether each values key
    the era relies on is declared in values.yaml; and the chart defaults of the values the
    name rules read. A default that changes inside an era is an error: split the era.

Every curated example is then evaluated with the reference evaluator below (the semantics
documented in data/charts/README.md) and must hold. Sources without a checkout
(`"checkout": false`: charts read file by file from stored copies) are copied from the
curated data as they are, with `"derived": null`.

The output depends only on the pinned commits, so the same checkouts give the same file.
--check compares with the committed charts.json (and the README's examples table with
--examples-md) instead of writing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CURATED = ROOT / "data" / "charts" / "curated.json"
OUTPUT = ROOT / "data" / "charts" / "charts.json"
FORMAT = 1

# --------------------------------------------------------------------------------------
# Minimal YAML reader for values.yaml / Chart.yaml: block mappings only.
# --------------------------------------------------------------------------------------

MAP = "<map>"
LIST = "<list>"
BLOCK = "<block>"


def _strip_comment(s: str) -> str:
    """Drop a trailing ` # comment` that is outside quotes."""
    quote = None
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


def parse_scalar(s: str):
    """A YAML 1.2 core-schema scalar as JSON: str, bool, int, float, None; {} / [] markers."""
    s = _strip_comment(s).strip()
    if s == "" or s in ("~", "null", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if len(s) >= 2 and s[0] == s[-1] == '"':
        return json.loads(s) if "\\" in s else s[1:-1]
    if len(s) >= 2 and s[0] == s[-1] == "'":
        return s[1:-1].replace("''", "'")
    if s.startswith("{"):
        return MAP
    if s.startswith("["):
        return LIST
    if s[0] in "|>":
        return BLOCK
    if re.fullmatch(r"[-+]?\d+", s):
        return int(s)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?", s):
        return float(s)
    return s


_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s'"#][^:#]*?)\s*:(?:\s+(?P<rest>.*)|\s*)$""")


def parse_values(text: str) -> dict:
    """Dotted key path -> scalar (or MAP / LIST / BLOCK) for every key of the block mappings.

    Lists are not descended into, block scalars are skipped, flow collections are leaves.
    Keys containing dots are kept as they are (so `a.b` may be ambiguous; values.yaml keys
    that name things irsa-lint reads never contain dots).
    """
    out: dict = {}
    stack: list[tuple[int, str]] = []  # (indent, path)
    skip_deeper_than: int | None = None
    for raw in text.splitlines():
        if raw.startswith(("---", "...")) and raw.strip() in ("---", "..."):
            stack.clear()
            skip_deeper_than = None
            continue
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if skip_deeper_than is not None:
            if indent > skip_deeper_than:
                continue
            skip_deeper_than = None
        if stripped.startswith("- ") or stripped == "-":
            # a list item: its content belongs to the list, whose key is already recorded
            skip_deeper_than = indent
            continue
        m = _KEY.match(stripped)
        if not m:
            continue
        key = m.group("key").strip()
        if key[:1] in "'\"":
            key = key[1:-1]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = f"{stack[-1][1]}.{key}" if stack else key
        rest = m.group("rest")
        value = parse_scalar(rest) if rest is not None else None
        if rest is None or _strip_comment(rest).strip() == "":
            # a mapping, a list, or null: decided by what follows
            out[path] = None
            stack.append((indent, path))
        else:
            out[path] = value
            if value == BLOCK:
                skip_deeper_than = indent
    # keys with children are mappings; keys followed by list items at any indent are lists
    children = {p.rsplit(".", 1)[0] for p in out if "." in p}
    for p in children:
        if p in out and out[p] is None:
            out[p] = MAP
    return out


# --------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)


def semver_key(v: str):
    """SemVer 2.0 precedence; a leading `v` is ignored. None if not SemVer."""
    m = _SEMVER.match(v)
    if not m:
        return None
    pre = m.group(4)
    pre_key: tuple = ()
    if pre:
        pre_key = tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in pre.split("."))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre_key)


def in_range(v: str, vr: dict) -> bool:
    k = semver_key(v)
    if vr.get("min") is not None and k < semver_key(vr["min"]):
        return False
    if vr.get("max") is not None and k > semver_key(vr["max"]):
        return False
    return True


# --------------------------------------------------------------------------------------
# Name templates: grammar and reference evaluator (documented in data/charts/README.md)
# --------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PATH = r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*"
_ALT = re.compile(rf"^(?:release|chart|namespace|fullname|name|values:{_PATH}|sa:[A-Za-z0-9_\-]+|'[^'{{}}|:]*')$")


@dataclass(frozen=True)
class Piece:
    literal: str | None = None
    alternatives: tuple = ()  # sources tried in order: release, chart, namespace, fullname,
    # name, values:<path>, sa:<id>, or a quoted literal 'text'
    truncate: int | None = None


def parse_template(t: str) -> list[Piece]:
    """`literal{alt|alt...[:N]}literal...` -> pieces. Raises ValueError on anything else."""
    pieces: list[Piece] = []
    pos = 0
    for m in PLACEHOLDER.finditer(t):
        if m.start() > pos:
            pieces.append(Piece(literal=t[pos : m.start()]))
        body = m.group(1)
        n = None
        tm = re.search(r":(\d+)$", body)
        if tm and not body.endswith("'"):
            n = int(tm.group(1))
            body = body[: tm.start()]
        alts = tuple(body.split("|"))
        for a in alts:
            if not _ALT.match(a):
                raise ValueError(f"bad placeholder {m.group(0)!r} in {t!r}")
        pieces.append(Piece(alternatives=alts, truncate=n))
        pos = m.end()
    if pos < len(t):
        pieces.append(Piece(literal=t[pos:]))
    for p in pieces:
        if p.literal is not None and ("{" in p.literal or "}" in p.literal):
            raise ValueError(f"stray brace in {t!r}")
    return pieces


def template_sources(t: str) -> list[str]:
    return [a for p in parse_template(t) for a in p.alternatives]


def text_items(text) -> list:
    """A Text is a template string, an object {template, truncate}, or a list of those."""
    if text is None:
        return []
    if isinstance(text, list):
        return text
    return [text]


def text_values_paths(text) -> set[str]:
    out = set()
    for item in text_items(text):
        t = item["template"] if isinstance(item, dict) else item
        for a in template_sources(t):
            if a.startswith("values:"):
                out.add(a[7:])
    return out


def truncate(s: str, n: int | None) -> str:
    """Sprig `trunc n | trimSuffix "-"`: first n bytes, then one trailing '-' removed."""
    if n is None:
        return s
    b = s.encode()[:n].decode(errors="ignore")
    return b[:-1] if b.endswith("-") else b


def lookup(values: dict, path: str):
    """Nested-dict lookup of a dotted path; None when absent."""
    cur = values
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def effective(user: dict, defaults: dict, path: str):
    """The user's value when the user set the key (even to "" or false), else the chart default.

    A user null removes the key (Helm's coalescing), leaving it unset.
    """
    cur = user
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return defaults.get(path)
        cur = cur[part]
    return cur


def as_text(v) -> str:
    if v is None or v is False or v == MAP or v == LIST:
        return ""
    if v is True:
        return "true"
    if isinstance(v, (dict, list)):
        return ""
    return str(v)


def truthy(v) -> bool:
    """Go template truthiness: false, 0, "", null, empty map or list are false."""
    if v is None or v is False or v == "" or v == 0 or v == MAP or v == LIST:
        return False
    if isinstance(v, (dict, list)) and not v:
        return False
    return True


@dataclass
class Ctx:
    release: str
    namespace: str
    chart: str
    user: dict
    defaults: dict
    era: dict
    depth: int = 0

    def source(self, src: str) -> str:
        if src.startswith("'"):
            return src[1:-1]
        if src == "release":
            return self.release
        if src == "chart":
            return self.chart
        if src == "namespace":
            return self.namespace
        if src == "fullname":
            return eval_fullname(self.era["fullname"], self)
        if src == "name":
            return eval_name(self.era["name"], self)
        if src.startswith("values:"):
            return as_text(effective(self.user, self.defaults, src[7:]))
        if src.startswith("sa:"):
            if self.depth > 8:
                raise ValueError("sa: references loop")
            sa = next(x for x in self.era["service_accounts"] if x["id"] == src[3:])
            self.depth += 1
            try:
                return eval_service_account(sa, self)["name"] or ""
            finally:
                self.depth -= 1
        raise ValueError(src)


def eval_template(t: str, ctx: Ctx) -> str:
    out = []
    for p in parse_template(t):
        if p.literal is not None:
            out.append(p.literal)
            continue
        value = ""
        for a in p.alternatives:
            value = ctx.source(a)
            if value != "":
                break
        out.append(truncate(value, p.truncate))
    return "".join(out)


def eval_text(text, ctx: Ctx) -> str | None:
    """First non-empty rendering of the Text's items; None if the Text is null."""
    if text is None:
        return None
    for item in text_items(text):
        if isinstance(item, dict):
            r = truncate(eval_template(item["template"], ctx), item.get("truncate"))
        else:
            r = eval_template(item, ctx)
        if r != "":
            return r
    return ""


def eval_name(rule: dict, ctx: Ctx) -> str:
    return truncate(eval_text(rule["base"], ctx), rule.get("truncate"))


def eval_fullname(rule: dict, ctx: Ctx) -> str:
    if rule.get("override"):
        o = as_text(effective(ctx.user, ctx.defaults, rule["override"]))
        if o:
            return truncate(o, rule.get("truncate"))
    base = eval_text(rule["base"], ctx)
    collapse = rule["collapse"]
    if collapse == "contains" and base in ctx.release:
        joined = ctx.release
    elif collapse == "equals" and base == ctx.release:
        joined = base
    else:
        joined = f"{ctx.release}-{base}"
    return truncate(joined, rule.get("truncate"))


def eval_service_account(sa: dict, ctx: Ctx) -> dict:
    """-> {"name": str | None, "created": bool, "namespace": str}; name None = unknown."""
    created_switch = truthy(effective(ctx.user, ctx.defaults, sa["create"])) if sa.get("create") else True
    gates = sa["created_if"] if "created_if" in sa else ([sa["create"]] if sa.get("create") else [])
    created = all(truthy(effective(ctx.user, ctx.defaults, p)) for p in gates)
    name = None
    for p in sa.get("name", []):
        v = as_text(effective(ctx.user, ctx.defaults, p))
        if v:
            name = v
            break
    if name is None:
        name = eval_text(sa["default"] if created_switch else sa["not_created"], ctx)
    if name == "":
        name = None
    return {"name": name, "created": created, "namespace": eval_text(sa["namespace"], ctx)}


def nest(flat: dict) -> dict:
    """{"a.b": 1} -> {"a": {"b": 1}} (the shape of user values in examples)."""
    out: dict = {}
    for k, v in flat.items():
        cur = out
        parts = k.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = v
    return out


def run_example(chart: dict, ex: dict) -> dict:
    version = ex.get("version")
    era = select_era(chart, version)
    if era is None:
        raise ValueError(f"{chart['id']}: no era for version {version}")
    ctx = Ctx(
        release=ex["release"],
        namespace=ex.get("namespace", "default"),
        chart=era["chart_name"],
        user=nest(ex.get("values", {})),
        defaults=era["defaults"],
        era=era,
    )
    return {sa["id"]: eval_service_account(sa, ctx)["name"] for sa in era["service_accounts"]}


def select_era(chart: dict, version: str | None):
    eras = chart["eras"]
    if version is None:
        return eras[-1]
    if semver_key(version) is None:
        return None
    for era in eras:
        if in_range(version, era["versions"]):
            return era
    return None


# --------------------------------------------------------------------------------------
# Template inspection
# --------------------------------------------------------------------------------------

_SA_DOC = re.compile(r"^kind:\s*ServiceAccount\s*$", re.M)


def service_account_doc(text: str) -> dict | None:
    """The name / namespace expressions and the guarding `if` of the first ServiceAccount
    document of a template file; None if it has none."""
    m = _SA_DOC.search(text)
    if not m:
        return None
    start = text.rfind("\n---", 0, m.start())
    start = 0 if start < 0 else start + 4
    end = text.find("\n---", m.end())
    doc = text[start : len(text) if end < 0 else end]
    after = text[m.end() : len(text) if end < 0 else end]

    def field(name):
        fm = re.search(rf"^  {name}:\s*(.+?)\s*$", after, re.M)
        return fm.group(1) if fm else None

    cond = re.search(r"\{\{-?\s*if\s+(.+?)\s*-?\}\}", doc[: doc.find("kind:")] if "kind:" in doc else doc)
    return {
        "name": field("name"),
        "namespace": field("namespace"),
        "if": cond.group(1) if cond else None,
    }


# --------------------------------------------------------------------------------------
# Git access
# --------------------------------------------------------------------------------------


class Repo:
    def __init__(self, path: str):
        self.path = path
        self._cache: dict = {}
        self._batch: subprocess.Popen | None = None

    def git(self, *args: str) -> str:
        r = subprocess.run(["git", "-C", self.path, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def show(self, commit: str, path: str) -> str | None:
        """The file at commit:path, None if absent (one long-lived `git cat-file --batch`)."""
        key = (commit, path)
        if key not in self._cache:
            if self._batch is None:
                self._batch = subprocess.Popen(
                    ["git", "-C", self.path, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
            self._batch.stdin.write(f"{commit}:{path}\n".encode())
            self._batch.stdin.flush()
            header = self._batch.stdout.readline().decode().split()
            if len(header) == 3 and header[1] == "blob":
                data = self._batch.stdout.read(int(header[2]))
                self._batch.stdout.read(1)
                self._cache[key] = data.decode("utf-8", errors="replace")
            else:
                if len(header) == 3:  # a tree or other object: skip its content
                    self._batch.stdout.read(int(header[2]) + 1)
                self._cache[key] = None
        return self._cache[key]

    def close(self):
        if self._batch is not None:
            self._batch.stdin.close()
            self._batch.wait()
            self._batch.stdout.close()
            self._batch = None

    def commit_date(self, commit: str) -> str:
        return self.git("log", "-1", "--format=%cs", commit).strip()

    def chart_versions(self, commit: str, paths: list[str]) -> dict[str, tuple[str, str]]:
        """version -> (first commit carrying it, chart path), walking Chart.yaml history."""
        out: dict[str, tuple[str, str]] = {}
        log = self.git("log", "--reverse", "--topo-order", "--format=%H", commit, "--", *[f"{p}/Chart.yaml" for p in paths])
        for c in log.split():
            for p in paths:
                t = self.show(c, f"{p}/Chart.yaml")
                if t is None:
                    continue
                v = parse_values(t).get("version")
                if isinstance(v, (int, float)):
                    v = str(v)
                if isinstance(v, str) and v not in out:
                    out[v] = (c, p)
        return out

    def tag_versions(self, commit: str, pattern: str, paths: list[str]) -> dict[str, tuple[str, str]]:
        """version (= tag) -> (tagged commit, chart path) for the tags matching pattern that
        carry the chart. Release tags sit on release branches, so all tags count, not only
        ancestors of commit; to stay reproducible only tags created no later than commit
        (tagger date, or committer date of a lightweight tag) are read."""
        limit = int(self.git("log", "-1", "--format=%ct", commit).strip())
        out: dict[str, tuple[str, str]] = {}
        fmt = "--format=%(refname:short) %(creatordate:unix) %(objectname) %(*objectname)"
        for line in self.git("tag", "--list", fmt).splitlines():
            parts = line.split()
            if len(parts) < 3 or not re.fullmatch(pattern, parts[0]) or int(parts[1]) > limit:
                continue
            c = parts[3] if len(parts) > 3 else parts[2]
            for p in paths:
                if self.show(c, f"{p}/values.yaml") is not None:
                    out[parts[0]] = (c, p)
                    break
        return out


# --------------------------------------------------------------------------------------
# Curated -> expanded
# --------------------------------------------------------------------------------------


def merge_era(prev: dict, patch: dict) -> dict:
    """An era is the previous era with the patch applied: objects merge key by key,
    service_accounts merge by id (`"removed": true` drops one), everything else replaces."""
    out = json.loads(json.dumps(prev))
    for k, v in patch.items():
        if k == "service_accounts":
            sas = {sa["id"]: sa for sa in out.get("service_accounts", [])}
            order = [sa["id"] for sa in out.get("service_accounts", [])]
            for sa in v:
                if sa.get("removed"):
                    sas.pop(sa["id"], None)
                    order.remove(sa["id"])
                elif sa["id"] in sas:
                    sas[sa["id"]] = {**sas[sa["id"]], **sa}
                else:
                    sas[sa["id"]] = sa
                    order.append(sa["id"])
            out["service_accounts"] = [sas[i] for i in order]
        elif isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("versions",):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    out.pop("removed", None)
    return out


SA_KEYS = ["id", "component", "template", "create", "created_if", "name", "annotations", "default", "not_created", "namespace", "unverified", "notes"]
ERA_KEYS = ["versions", "source", "chart_name", "name", "fullname", "defaults", "service_accounts", "notes"]


def text_sources(text) -> list[str]:
    out = []
    for item in text_items(text):
        out += template_sources(item["template"] if isinstance(item, dict) else item)
    return out


def era_values_paths(era: dict) -> list[str]:
    paths: set[str] = set()
    if era.get("fullname"):
        if era["fullname"].get("override"):
            paths.add(era["fullname"]["override"])
        paths |= text_values_paths(era["fullname"]["base"])
    if era.get("name"):
        paths |= text_values_paths(era["name"]["base"])
    for sa in era["service_accounts"]:
        if sa.get("create"):
            paths.add(sa["create"])
        paths.update(sa.get("created_if", []))
        paths.update(sa.get("name", []))
        for k in ("default", "not_created", "namespace"):
            paths |= text_values_paths(sa.get(k))
    return sorted(paths)


def validate_era(chart_id: str, era: dict):
    for k in era:
        if k not in ERA_KEYS:
            raise ValueError(f"{chart_id}: unknown era key {k}")
    used: set[str] = set()
    ids = [sa["id"] for sa in era["service_accounts"]]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{chart_id}: duplicate service account ids")
    for sa in era["service_accounts"]:
        for k in sa:
            if k not in SA_KEYS:
                raise ValueError(f"{chart_id}/{sa['id']}: unknown key {k}")
        for k in ("template", "name", "namespace", "default", "not_created"):
            if k not in sa:
                raise ValueError(f"{chart_id}/{sa['id']}: {k} missing")
        if not isinstance(sa["name"], list) or not isinstance(sa["template"], list):
            raise ValueError(f"{chart_id}/{sa['id']}: name and template are lists")
        for k in ("default", "not_created", "namespace"):
            srcs = text_sources(sa.get(k))
            used |= set(srcs)
            for s in srcs:
                if s.startswith("sa:") and s[3:] not in ids:
                    raise ValueError(f"{chart_id}/{sa['id']}: unknown {s}")
                if s == f"sa:{sa['id']}":
                    raise ValueError(f"{chart_id}/{sa['id']}: refers to itself")
    if era.get("fullname"):
        fsrc = text_sources(era["fullname"]["base"])
        if "fullname" in fsrc or any(x.startswith("sa:") for x in fsrc):
            raise ValueError(f"{chart_id}: fullname base may not use fullname or sa:")
        used |= set(fsrc)
        if era["fullname"]["collapse"] not in ("contains", "equals", "never"):
            raise ValueError(f"{chart_id}: bad collapse")
    if era.get("name"):
        nsrc = text_sources(era["name"]["base"])
        if {"fullname", "name"} & set(nsrc) or any(x.startswith("sa:") for x in nsrc):
            raise ValueError(f"{chart_id}: name base may not use fullname, name or sa:")
    if "fullname" in used and not era.get("fullname"):
        raise ValueError(f"{chart_id}: {{fullname}} used without a fullname rule")
    if "name" in used and not era.get("name"):
        raise ValueError(f"{chart_id}: {{name}} used without a name rule")


def expand_eras(chart: dict) -> list[dict]:
    eras: list[dict] = []
    prev: dict = {}
    for patch in chart["eras"]:
        era = merge_era(prev, patch) if prev else json.loads(json.dumps(patch))
        era["versions"] = patch["versions"]
        era["source"] = {**chart["source"], **patch.get("source", {})}
        if "defaults" not in patch:
            era.pop("defaults", None)
        validate_era(chart["id"], era)
        eras.append(era)
        prev = era
    return eras


def derive_chart(chart: dict, sources: dict, repos: dict) -> dict:
    """Expand the curated chart: eras fully written out, plus what the checkouts show."""
    eras = expand_eras(chart)
    out = {k: chart[k] for k in chart if k not in ("eras", "examples", "source")}
    out["source"] = chart["source"]
    found_by_source: dict[str, dict] = {}
    all_versions: dict[str, None] = {}
    skipped: set[str] = set()
    for era in eras:
        src = era["source"]
        repo = repos.get(src["repo"])
        if repo is None:
            era.setdefault("chart_name", chart["chart"])
            if "defaults" not in era:
                era["defaults"] = {}
            era["derived"] = None
            continue
        if "defaults" in era:
            raise ValueError(f"{chart['id']}: defaults are derived for sources with a checkout")
        key = json.dumps([src["repo"], src["paths"], src.get("versions_from", "chart_yaml")])
        if key not in found_by_source:
            commit = sources[src["repo"]]["commit"]
            vf = src.get("versions_from", "chart_yaml")
            if vf == "chart_yaml":
                found_by_source[key] = repo.chart_versions(commit, src["paths"])
            elif vf.startswith("tags:"):
                found_by_source[key] = repo.tag_versions(commit, vf[5:], src["paths"])
            else:
                raise ValueError(vf)
            for v in found_by_source[key]:
                if semver_key(v) is None:
                    skipped.add(v)
                else:
                    all_versions[v] = None
        found = found_by_source[key]
        versions = sorted((v for v in found if semver_key(v) is not None), key=semver_key)
        derive_era(chart["id"], era, repo, found, versions)
    versions = sorted(all_versions, key=semver_key)
    out["versions"] = versions if found_by_source else None
    if skipped:
        out["versions_not_semver"] = sorted(skipped)
    overlap = [v for v in versions if sum(in_range(v, e["versions"]) for e in eras) > 1]
    if overlap:
        raise ValueError(f"{chart['id']}: eras overlap at {overlap[:5]}")
    if found_by_source:
        out["uncovered_versions"] = [v for v in versions if not any(in_range(v, e["versions"]) for e in eras)]
    out["eras"] = [order_era(e) for e in eras]
    out["examples"] = chart.get("examples", [])
    return out


def derive_era(chart_id: str, era: dict, repo: Repo, found: dict, versions: list[str]):
    in_era = [v for v in versions if in_range(v, era["versions"])]
    if not in_era:
        raise ValueError(f"{chart_id}: era {era['versions']} holds no published version")
    where = f"{chart_id} era {era['versions']}"
    vpaths = era_values_paths(era)
    declared: dict[str, list[bool]] = {p: [] for p in vpaths}
    annotations_declared: dict[str, list[bool]] = {}
    defaults_seen: dict[str, dict] = {p: {} for p in vpaths}
    chart_names: dict[str, str] = {}
    observed = {sa["id"]: {"template": set(), "name": set(), "namespace": set(), "if": set()} for sa in era["service_accounts"]}
    for v in in_era:
        c, p = found[v]
        cy = repo.show(c, f"{p}/Chart.yaml") or repo.show(c, f"{p}/Chart.template.yaml") or ""
        chart_names.setdefault(str(parse_values(cy).get("name")), v)
        vals = parse_values(repo.show(c, f"{p}/values.yaml") or "")
        for vp in vpaths:
            declared[vp].append(vp in vals)
            raw = vals.get(vp)
            seen = defaults_seen[vp]
            k = json.dumps(None if raw in (None, "", False, MAP, LIST, BLOCK) else raw)
            if k not in seen:
                seen[k] = (v, raw)
        for sa in era["service_accounts"]:
            if sa.get("annotations"):
                annotations_declared.setdefault(sa["annotations"], []).append(sa["annotations"] in vals)
            doc = None
            for tp in sa["template"]:
                t = repo.show(c, f"{p}/{tp}")
                if t is not None:
                    doc = service_account_doc(t)
                    if doc:
                        observed[sa["id"]]["template"].add(tp)
                        break
            if doc is None:
                raise ValueError(f"{where} {v}: no ServiceAccount in {sa['template']} for {sa['id']}")
            for k in ("name", "namespace", "if"):
                observed[sa["id"]][k].add(doc[k])
    if len(chart_names) != 1:
        raise ValueError(f"{where}: chart names {chart_names}")
    name = next(iter(chart_names))
    if era.get("chart_name") not in (None, name):
        raise ValueError(f"{where}: curated chart_name {era['chart_name']} but Chart.yaml says {name}")
    era["chart_name"] = name
    defaults = {}
    for vp, seen in defaults_seen.items():
        if len(seen) != 1:
            changes = {ver: raw for ver, raw in seen.values()}
            raise ValueError(f"{where}: default of {vp} changes: {changes}")
        val = next(iter(seen.values()))[1]
        if val not in (None, "", MAP, LIST, BLOCK):
            defaults[vp] = val
    era["defaults"] = defaults
    for ap, d in annotations_declared.items():
        declared.setdefault(ap, d)
    era["derived"] = {
        "first": in_era[0],
        "last": in_era[-1],
        "count": len(in_era),
        "values_declared": {vp: summarize(d, in_era) for vp, d in sorted(declared.items())},
        "templates": {sid: {k: sorted(x for x in s if x is not None) for k, s in o.items()} for sid, o in observed.items()},
    }


def summarize(flags: list[bool], versions: list[str]) -> str:
    if all(flags):
        return "all"
    if not any(flags):
        return "none"
    first = flags.index(True)
    if all(flags[first:]):
        return f"since {versions[first]}"
    return "some"


def order_era(era: dict) -> dict:
    keys = ["versions", "source", "chart_name", "name", "fullname", "defaults", "service_accounts", "notes", "derived"]
    out = {k: era[k] for k in keys if k in era and (era[k] is not None or k == "derived")}
    out["service_accounts"] = [{k: sa[k] for k in SA_KEYS if k in sa} for sa in era["service_accounts"]]
    return out


def build(curated: dict, checkouts: dict[str, str]) -> dict:
    sources = curated["sources"]
    repos = {}
    for name, s in sources.items():
        if s.get("checkout", True):
            if name not in checkouts:
                raise SystemExit(f"no --source for {name} (needed at commit {s['commit']})")
            repos[name] = Repo(checkouts[name])
    out_sources = {}
    for name, s in sources.items():
        o = dict(s)
        if name in repos:
            o["date"] = repos[name].commit_date(s["commit"])
        out_sources[name] = o
    charts = []
    ids = set()
    errors = []
    for chart in curated["charts"]:
        if chart["id"] in ids:
            raise SystemExit(f"duplicate chart id {chart['id']}")
        ids.add(chart["id"])
        try:
            charts.append(derive_chart(chart, sources, repos))
        except ValueError as e:
            errors.append(f"{chart['id']}: {e}")
    for repo in repos.values():
        repo.close()
    if errors:
        raise SystemExit("the curated data does not fit the checkouts:\n" + "\n".join(errors))
    doc = {"format": FORMAT, "generated_by": "scripts/charts/regenerate.py", "sources": out_sources, "charts": charts}
    failures = []
    for chart in charts:
        for ex in chart["examples"]:
            got = run_example(chart, ex)
            for sid, want in ex["expect"].items():
                if got.get(sid) != want:
                    failures.append(f"{chart['id']} {ex}: {sid} = {got.get(sid)!r}, want {want!r}")
    if failures:
        raise SystemExit("examples that do not hold:\n" + "\n".join(failures))
    return doc


def dump(doc: dict) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def examples_markdown(doc: dict) -> str:
    rows = ["| chart (version) | release | values | ServiceAccount → name |", "| --- | --- | --- | --- |"]
    for chart in doc["charts"]:
        for ex in chart["examples"]:
            if not ex.get("readme"):
                continue
            vals = ", ".join(f"`{k}={json.dumps(v)}`" for k, v in ex.get("values", {}).items()) or "—"
            exp = "<br>".join(f"{sid} → `{n}`" if n is not None else f"{sid} → unknown" for sid, n in ex["expect"].items())
            ver = ex.get("version") or "latest"
            rows.append(f"| {chart['id']} ({ver}) | `{ex['release']}` | {vals} | {exp} |")
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", action="append", default=[], metavar="OWNER/NAME=PATH", help="a local checkout of a chart source")
    ap.add_argument("--check", action="store_true", help="compare with the committed charts.json instead of writing it")
    ap.add_argument("--examples-md", action="store_true", help="print the README examples table")
    ap.add_argument("--curated", default=str(CURATED))
    ap.add_argument("--output", default=str(OUTPUT))
    args = ap.parse_args(argv)
    checkouts = {}
    for s in args.source:
        name, _, path = s.partition("=")
        if not path or not os.path.isdir(path):
            ap.error(f"--source {s}: not a directory")
        checkouts[name] = path
    curated = json.loads(Path(args.curated).read_text())
    doc = build(curated, checkouts)
    text = dump(doc)
    if args.examples_md:
        sys.stdout.write(examples_markdown(doc))
    if args.check:
        old = Path(args.output).read_text() if Path(args.output).exists() else ""
        if old != text:
            print(f"{args.output} is not what the checkouts give", file=sys.stderr)
            return 1
        readme = Path(args.output).with_name("README.md")
        if readme.exists() and examples_markdown(doc) not in readme.read_text():
            print(f"{readme}: the worked examples table is not what --examples-md gives", file=sys.stderr)
            return 1
        print("up to date")
        return 0
    Path(args.output).write_text(text)
    print(f"wrote {args.output}: {len(doc['charts'])} charts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
