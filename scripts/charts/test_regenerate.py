"""Unit tests for the parsing and evaluation helpers of regenerate.py (stdlib unittest).

    python3 -m unittest discover -s scripts/charts -p 'test_*.py'
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import regenerate as r  # noqa: E402


class ParseValues(unittest.TestCase):
    def test_nested_mappings_scalars_and_comments(self):
        text = """
# top comment
nameOverride: ""
fullnameOverride: ~
cloudProvider: aws # trailing comment
rbac:
  create: true
  serviceAccount:
    # rbac.serviceAccount.name -- the name
    name: 'it''s'
    annotations: {}
    create: false
replicas: 2
"""
        v = r.parse_values(text)
        self.assertEqual(v["nameOverride"], "")
        self.assertIsNone(v["fullnameOverride"])
        self.assertEqual(v["cloudProvider"], "aws")
        self.assertIs(v["rbac.create"], True)
        self.assertEqual(v["rbac.serviceAccount.name"], "it's")
        self.assertEqual(v["rbac.serviceAccount.annotations"], r.MAP)
        self.assertIs(v["rbac.serviceAccount.create"], False)
        self.assertEqual(v["rbac.serviceAccount"], r.MAP)
        self.assertEqual(v["replicas"], 2)

    def test_lists_and_block_scalars_are_not_descended(self):
        text = """
tolerations:
- key: a
  value: b
extraArgs:
  - name: x
config: |
  name: not-a-key
  create: true
after:
  name: y
"""
        v = r.parse_values(text)
        self.assertNotIn("tolerations.key", v)
        self.assertNotIn("extraArgs.name", v)
        self.assertNotIn("config.name", v)
        self.assertEqual(v["config"], r.BLOCK)
        self.assertEqual(v["after.name"], "y")

    def test_quoted_keys_and_hash_inside_quotes(self):
        v = r.parse_values('"quoted.key": 1\nurl: "http://x/#frag" # c\n')
        self.assertEqual(v["quoted.key"], 1)
        self.assertEqual(v["url"], "http://x/#frag")

    def test_chart_yaml_version(self):
        v = r.parse_values("apiVersion: v2\nname: karpenter\nversion: v0.2.6\n")
        self.assertEqual(v["version"], "v0.2.6")


class SemVer(unittest.TestCase):
    def test_order(self):
        vs = ["1.0.0", "1.0.0-rc.1", "1.0.0-beta", "v0.9.14", "1.0.0-rc.10", "0.10.0"]
        self.assertEqual(sorted(vs, key=r.semver_key), ["v0.9.14", "0.10.0", "1.0.0-beta", "1.0.0-rc.1", "1.0.0-rc.10", "1.0.0"])

    def test_not_semver(self):
        self.assertIsNone(r.semver_key("9.10.01"))
        self.assertIsNone(r.semver_key("0.6"))
        self.assertIsNone(r.semver_key("1.46."))

    def test_in_range(self):
        self.assertTrue(r.in_range("v1.5.0", {"min": "v1.5.0", "max": "v1.8.2"}))
        self.assertTrue(r.in_range("1.8.2", {"min": "v1.5.0", "max": "v1.8.2"}))
        self.assertFalse(r.in_range("2.0.0-rc.0", {"min": "2.0.0", "max": None}))
        self.assertTrue(r.in_range("99.0.0", {"min": None, "max": None}))


class Templates(unittest.TestCase):
    def test_parse(self):
        p = r.parse_template("{fullname:52}-cainjector")
        self.assertEqual(p[0].alternatives, ("fullname",))
        self.assertEqual(p[0].truncate, 52)
        self.assertEqual(p[1].literal, "-cainjector")
        p = r.parse_template("{values:alertmanager.namespaceOverride|values:namespaceOverride|namespace}")
        self.assertEqual(p[0].alternatives, ("values:alertmanager.namespaceOverride", "values:namespaceOverride", "namespace"))
        p = r.parse_template("{values:agent.name|'cloudwatch-agent'}")
        self.assertEqual(p[0].alternatives[1], "'cloudwatch-agent'")
        self.assertEqual(r.parse_template("default")[0].literal, "default")

    def test_rejects(self):
        for bad in ("{release", "{nope}", "{values:}", "a}b", "{values:a b}", "{'x:1'}"):
            with self.assertRaises(ValueError, msg=bad):
                r.parse_template(bad)

    def test_truncate_trims_one_dash(self):
        self.assertEqual(r.truncate("cluster01-kube-prometheus-stack", 26), "cluster01-kube-prometheus")
        self.assertEqual(r.truncate("ab--", 4), "ab-")
        self.assertEqual(r.truncate("abc", None), "abc")
        self.assertEqual(r.truncate("abc", 63), "abc")


def ctx(release, era, user=None, defaults=None, chart="c", namespace="ns"):
    return r.Ctx(release=release, namespace=namespace, chart=chart, user=r.nest(user or {}), defaults=defaults or {}, era=era)


FULL = {"override": "fullnameOverride", "base": "{values:nameOverride|chart}", "collapse": "contains", "truncate": 63}


class Evaluate(unittest.TestCase):
    def test_fullname_contains(self):
        era = {"fullname": FULL}
        self.assertEqual(r.eval_fullname(FULL, ctx("my-external-dns", era, chart="external-dns")), "my-external-dns")
        self.assertEqual(r.eval_fullname(FULL, ctx("dns", era, chart="external-dns")), "dns-external-dns")
        self.assertEqual(r.eval_fullname(FULL, ctx("dns", era, {"nameOverride": "d"}, chart="external-dns")), "dns")
        self.assertEqual(r.eval_fullname(FULL, ctx("dns", era, {"fullnameOverride": "x-"}, chart="external-dns")), "x")

    def test_fullname_equals_and_never(self):
        equals = {**FULL, "base": ["{values:nameOverride}", "{values:cloudProvider}-{chart}"], "collapse": "equals"}
        d = {"cloudProvider": "aws"}
        c = ctx("my-aws-cluster-autoscaler", {}, defaults=d, chart="cluster-autoscaler")
        self.assertEqual(r.eval_fullname(equals, c), "my-aws-cluster-autoscaler-aws-cluster-autoscaler")
        c = ctx("aws-cluster-autoscaler", {}, defaults=d, chart="cluster-autoscaler")
        self.assertEqual(r.eval_fullname(equals, c), "aws-cluster-autoscaler")
        never = {**FULL, "collapse": "never"}
        self.assertEqual(r.eval_fullname(never, ctx("x-c", {}, chart="c")), "x-c-c")

    def test_user_value_replaces_default_even_when_empty(self):
        sa = {"id": "a", "create": "sa.create", "name": ["sa.name"], "default": "{fullname}", "not_created": "default", "namespace": "{namespace}"}
        era = {"fullname": FULL, "service_accounts": [sa]}
        d = {"sa.create": True, "sa.name": "fixed-sa"}
        self.assertEqual(r.eval_service_account(sa, ctx("rel", era, defaults=d))["name"], "fixed-sa")
        self.assertEqual(r.eval_service_account(sa, ctx("rel", era, {"sa.name": ""}, defaults=d))["name"], "rel-c")
        got = r.eval_service_account(sa, ctx("rel", era, {"sa.name": "", "sa.create": False}, defaults=d))
        self.assertEqual(got, {"name": "default", "created": False, "namespace": "ns"})

    def test_required_name_is_unknown(self):
        sa = {"id": "a", "create": "sa.create", "name": ["sa.name"], "default": None, "not_created": None, "namespace": "kube-system"}
        got = r.eval_service_account(sa, ctx("rel", {"service_accounts": [sa]}, {"sa.name": ""}, defaults={"sa.create": True}))
        self.assertEqual(got, {"name": None, "created": True, "namespace": "kube-system"})

    def test_created_if_and_sa_reference(self):
        shared = {"id": "shared", "create": "serviceAccount.create", "name": ["serviceAccount.name"], "default": "{fullname}",
                  "not_created": "default", "namespace": "{namespace}"}
        ruler = {"id": "ruler", "create": "ruler.serviceAccount.create", "name": ["ruler.serviceAccount.name"],
                 "default": "{values:serviceAccount.name|fullname}-ruler", "not_created": "{sa:shared}", "namespace": "{namespace}",
                 "created_if": []}
        era = {"fullname": FULL, "service_accounts": [shared, ruler]}
        d = {"serviceAccount.create": True}
        self.assertEqual(r.eval_service_account(ruler, ctx("m", era, defaults=d, chart="mimir"))["name"], "m-mimir")
        got = r.eval_service_account(ruler, ctx("m", era, {"ruler.serviceAccount.create": True, "serviceAccount.name": "s"}, defaults=d, chart="mimir"))
        self.assertEqual(got["name"], "s-ruler")
        self.assertTrue(got["created"])

    def test_text_object_truncation(self):
        era = {"fullname": FULL}
        c = ctx("release-name-that-is-exactly-long-enough-to-be-cut", era, chart="cert-manager")
        got = r.eval_text({"template": "{fullname:52}-startupapicheck", "truncate": 63}, c)
        self.assertEqual(got, "release-name-that-is-exactly-long-enough-to-be-cut-c-startupapi")

    def test_nest(self):
        self.assertEqual(r.nest({"a.b": 1, "a.c": 2, "d": 3}), {"a": {"b": 1, "c": 2}, "d": 3})


class ServiceAccountDoc(unittest.TestCase):
    def test_first_service_account_document(self):
        text = """{{- if and .Values.rbac.create .Values.rbac.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  labels:
    app: x
  name: {{ template "ca.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}
---
kind: ClusterRoleBinding
subjects:
  - kind: ServiceAccount
    name: other
"""
        doc = r.service_account_doc(text)
        self.assertEqual(doc["name"], '{{ template "ca.serviceAccountName" . }}')
        self.assertEqual(doc["namespace"], "{{ .Release.Namespace }}")
        self.assertEqual(doc["if"], "and .Values.rbac.create .Values.rbac.serviceAccount.create")
        self.assertIsNone(r.service_account_doc("kind: ClusterRoleBinding\nsubjects:\n  - kind: ServiceAccount\n"))


class MergeEras(unittest.TestCase):
    def test_service_accounts_merge_by_id(self):
        prev = {"versions": {"min": "1.0.0", "max": "1.9.9"}, "fullname": FULL,
                "service_accounts": [{"id": "a", "namespace": "{namespace}", "default": "{fullname}"}, {"id": "b", "namespace": "x"}]}
        patch = {"versions": {"min": "2.0.0", "max": None},
                 "service_accounts": [{"id": "a", "namespace": "y"}, {"id": "b", "removed": True}, {"id": "c", "namespace": "z"}]}
        got = r.merge_era(prev, patch)
        self.assertEqual([s["id"] for s in got["service_accounts"]], ["a", "c"])
        self.assertEqual(got["service_accounts"][0], {"id": "a", "namespace": "y", "default": "{fullname}"})
        self.assertEqual(got["fullname"], FULL)


class GitHistory(unittest.TestCase):
    """chart_versions / tag_versions against a throwaway repository."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@invalid", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@invalid", "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z"}
        self.env = env

        def git(*a):
            subprocess.run(["git", "-C", d, *a], check=True, capture_output=True, env=env)

        git("init", "-q")
        os.makedirs(f"{d}/charts/x")
        for v in ("0.1.0", "0.2.0", "0.2.0", "0.10.0"):
            Path(f"{d}/charts/x/Chart.yaml").write_text(f"name: x\nversion: {v}\n# {os.urandom(4).hex()}\n")
            Path(f"{d}/charts/x/values.yaml").write_text("serviceAccount:\n  create: true\n")
            git("add", "-A")
            git("commit", "-q", "-m", v)
            git("tag", f"v{v}", "-f")
        self.head = subprocess.run(["git", "-C", d, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()

    def tearDown(self):
        self.dir.cleanup()

    def test_chart_versions_first_commit_wins(self):
        repo = r.Repo(self.dir.name)
        found = repo.chart_versions(self.head, ["charts/x"])
        self.assertEqual(sorted(found, key=r.semver_key), ["0.1.0", "0.2.0", "0.10.0"])
        first_020 = subprocess.run(["git", "-C", self.dir.name, "rev-list", "--reverse", "HEAD"], capture_output=True, text=True).stdout.split()[1]
        self.assertEqual(found["0.2.0"][0], first_020)
        self.assertIsNone(repo.show(self.head, "charts/x/missing.yaml"))
        self.assertIn("create: true", repo.show(self.head, "charts/x/values.yaml"))
        repo.close()

    def test_tag_versions(self):
        repo = r.Repo(self.dir.name)
        found = repo.tag_versions(self.head, r"v\d+\.\d+\.\d+", ["charts/x"])
        self.assertEqual(sorted(found, key=r.semver_key), ["v0.1.0", "v0.2.0", "v0.10.0"])
        repo.close()


class CommittedData(unittest.TestCase):
    """The committed charts.json: every example holds under the reference evaluator."""

    def test_examples(self):
        path = r.OUTPUT
        if not path.exists():
            self.skipTest("no charts.json")
        doc = json.loads(path.read_text())
        n = 0
        for chart in doc["charts"]:
            for ex in chart["examples"]:
                got = r.run_example(chart, ex)
                for sid, want in ex["expect"].items():
                    self.assertEqual(got[sid], want, f"{chart['id']} {ex['release']} {sid}")
                    n += 1
        self.assertGreater(n, 50)


if __name__ == "__main__":
    unittest.main()
