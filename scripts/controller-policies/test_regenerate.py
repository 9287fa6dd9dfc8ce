"""Unit tests for the normalization and extraction helpers of regenerate.py.

Run from the repository root:  python3 -m unittest discover -s scripts/controller-policies
(stdlib only; no network, no upstream checkout needed)
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import regenerate as r  # noqa: E402


class ActionNormalization(unittest.TestCase):
    def test_service_prefix_lowercased_name_kept(self):
        self.assertEqual(r.normalize_action("ElasticLoadBalancing:DescribeListenerAttributes"),
                         "elasticloadbalancing:DescribeListenerAttributes")
        self.assertEqual(r.normalize_action(" EC2:describeInstances "), "ec2:describeInstances")

    def test_wildcards_kept_verbatim(self):
        self.assertEqual(r.normalize_action("EC2:Describe*"), "ec2:Describe*")
        self.assertEqual(r.normalize_action("*"), "*")

    def test_dedupe_and_sort(self):
        got = r.normalize_actions(["ec2:DescribeVpcs", "EC2:DescribeVpcs", "acm:ListCertificates",
                                   "ec2:DescribeVpcs", "", "ec2:DescribeSubnets"])
        self.assertEqual(got, ["acm:ListCertificates", "ec2:DescribeSubnets", "ec2:DescribeVpcs"])

    def test_dedupe_is_case_insensitive_and_order_independent(self):
        a = r.normalize_actions(["ec2:describeVpcs", "ec2:DescribeVpcs"])
        b = r.normalize_actions(["ec2:DescribeVpcs", "ec2:describeVpcs"])
        self.assertEqual(a, b)
        self.assertEqual(len(a), 1)

    def test_sort_is_case_insensitive(self):
        self.assertEqual(r.normalize_actions(["s3:putObject", "s3:GetObject", "s3:ListBucket"]),
                         ["s3:GetObject", "s3:ListBucket", "s3:putObject"])


class Versions(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(r.parse_version("v2.4.7"), (2, 4, 7))
        self.assertEqual(r.parse_version("1.33.0"), (1, 33, 0))
        self.assertIsNone(r.parse_version("v2.13.1-zac"))
        self.assertIsNone(r.parse_version("v2.0.0-rc1"))

    def test_semver_order(self):
        vs = ["v2.10.0", "v2.9.0", "v2.4.7", "v3.0.0"]
        self.assertEqual(sorted(vs, key=r.version_key), ["v2.4.7", "v2.9.0", "v2.10.0", "v3.0.0"])

    def test_intervals(self):
        vs = ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"]
        self.assertEqual(r._intervals(vs, [False, True, True, True], closed=False), [["v1.1.0", None]])
        self.assertEqual(r._intervals(vs, [True, False, True, False], closed=False),
                         [["v1.0.0", "v1.1.0"], ["v1.2.0", "v1.3.0"]])
        self.assertEqual(r._intervals(vs, [True, True, False, False], closed=True), [["v1.0.0", "v1.1.0"]])


class Statements(unittest.TestCase):
    POLICY = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["elasticloadbalancing:AddTags"], "Resource": "*",
             "Condition": {"StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup",
                                                                                  "CreateLoadBalancer"]},
                           "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}},
            {"Effect": "Allow", "Action": "EC2:DescribeVpcs", "Resource": "*"},
            {"Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": False}}},
        ],
    }

    def test_summary(self):
        s = r.summarize_policy(self.POLICY)
        self.assertEqual(s["actions"], ["ec2:DescribeVpcs", "elasticloadbalancing:AddTags"])
        self.assertEqual(s["denied_actions"], ["sqs:*"])
        self.assertEqual(len(s["conditioned_statements"]), 2)
        add_tags = [c for c in s["conditioned_statements"] if c["effect"] == "Allow"][0]
        self.assertEqual(add_tags["conditions"], [
            {"operator": "Null", "key": "aws:RequestTag/elbv2.k8s.aws/cluster", "values": ["false"]},
            {"operator": "StringEquals", "key": "elasticloadbalancing:CreateAction",
             "values": ["CreateLoadBalancer", "CreateTargetGroup"]},
        ])
        deny = [c for c in s["conditioned_statements"] if c["effect"] == "Deny"][0]
        self.assertEqual(deny["conditions"][0]["values"], ["false"])

    def test_trust_policy_is_not_a_permission_policy(self):
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                "Action": "sts:AssumeRole"}]}
        self.assertFalse(r.is_permission_policy(trust))
        self.assertTrue(r.is_permission_policy(self.POLICY))


class Markdown(unittest.TestCase):
    def test_blocks_with_headings(self):
        md = "\n".join([
            "# Setting up", "## IAM Policy", "A minimum IAM policy would look like:", "```json",
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["route53:ListHostedZones"],
                                                               "Resource": "*"}]}),
            "```", "### Trust", "```bash", "cat <<EOF > trust.json",
            json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Federated": "x"},
                                       "Action": "sts:AssumeRoleWithWebIdentity"}]}),
            "EOF", "```",
        ])
        blocks = r.markdown_policy_blocks(md)
        self.assertEqual(len(blocks), 1)
        self.assertEqual(blocks[0]["heading"], "IAM Policy")
        self.assertEqual(r.autoscaler_label(0, blocks[0]), "minimal")


class Yaml(unittest.TestCase):
    def test_cloudformation_subset(self):
        text = "\n".join([
            "Resources:",
            "  KarpenterControllerPolicy:",
            "    Type: AWS::IAM::ManagedPolicy",
            "    Properties:",
            '      ManagedPolicyName: !Sub "KarpenterControllerPolicy-${ClusterName}"',
            "      PolicyDocument:",
            '        Version: "2012-10-17"',
            "        Statement:",
            "          - Effect: Allow",
            '            Resource: "*"',
            "            Action:",
            "              # Write Operations",
            "              - ec2:CreateFleet",
            "              - ec2:RunInstances",
            "          - Effect: Allow",
            "            Action: [iam:PassRole, 'eks:DescribeCluster']",
            "            Resource: !GetAtt Foo.Arn",
            "  Other:",
            "    Type: AWS::IAM::ManagedPolicy",
            "    Properties:",
            '      ManagedPolicyName: !Sub "KarpenterControllerZonalShiftPolicy-${ClusterName}"',
            "      PolicyDocument: !Sub |",
            "        {",
            '          "Statement": [{"Effect": "Allow", "Action": "arc-zonal-shift:GetManagedResource",',
            '            "Condition": {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": "${ClusterName}"}}}]',
            "        }",
        ])
        cfn = r.parse_yaml_subset(text)
        pols = r.karpenter_controller_policies(cfn)
        self.assertEqual([n for n, _ in pols], ["KarpenterControllerPolicy", "Other"])
        merged = {"Statement": [s for _, d in pols for s in d["Statement"]]}
        s = r.summarize_policy(merged)
        self.assertEqual(s["actions"], ["arc-zonal-shift:GetManagedResource", "ec2:CreateFleet",
                                        "ec2:RunInstances", "eks:DescribeCluster", "iam:PassRole"])
        self.assertEqual(len(s["conditioned_statements"]), 1)


class Hcl(unittest.TestCase):
    TF = '''
# comment with { brace
data "aws_iam_policy_document" "load_balancer_controller" {
  count = var.create_role && var.attach_load_balancer_controller_policy ? 1 : 0

  statement {
    actions = [
      "ec2:DescribeVpcs", # trailing comment }
      "elasticloadbalancing:DescribeListenerAttributes",
    ]
    resources = ["*"]
  }

  statement {
    actions   = ["elasticloadbalancing:AddTags"]
    resources = ["arn:${local.partition}:elasticloadbalancing:*:*:targetgroup/*/*"]
    condition {
      test     = "StringEquals"
      variable = "elasticloadbalancing:CreateAction"
      values   = ["CreateTargetGroup", "CreateLoadBalancer"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_extra ? [1] : []
    content {
      actions = ["iam:CreateInstanceProfile"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_policy" "x" {
  count = var.attach_load_balancer_controller_policy ? 1 : 0
  values = [
    <<-EOT
    unbalanced { brace and "quote
    EOT
  ]
}

data "aws_iam_policy_document" "after_heredoc" {
  count = var.attach_external_dns_policy ? 1 : 0
  statement {
    actions = ["route53:ListHostedZones"]
  }
}
'''

    def test_extract(self):
        docs = r.hcl_policy_documents(self.TF)
        self.assertEqual(sorted(docs), ["attach_external_dns_policy", "attach_load_balancer_controller_policy"])
        self.assertEqual(r.summarize_hcl_statements(docs["attach_external_dns_policy"]["statements"])["actions"],
                         ["route53:ListHostedZones"])
        s = r.summarize_hcl_statements(docs["attach_load_balancer_controller_policy"]["statements"])
        self.assertEqual(s["actions"], ["ec2:DescribeVpcs", "elasticloadbalancing:AddTags",
                                        "elasticloadbalancing:DescribeListenerAttributes"])
        self.assertEqual(s["optional_actions"], ["iam:CreateInstanceProfile"])
        cond = s["conditioned_statements"][0]["conditions"][0]
        self.assertEqual(cond, {"operator": "StringEquals", "key": "elasticloadbalancing:CreateAction",
                                "values": ["CreateLoadBalancer", "CreateTargetGroup"]})


class Output(unittest.TestCase):
    def test_to_json_is_valid_sorted_and_deterministic(self):
        data = {"b": {"x": ["v1.0.0", None]}, "a": ["ec2:" + "A" * 60, "ec2:" + "B" * 60]}
        text = r.to_json(data)
        self.assertEqual(json.loads(text), data)
        self.assertLess(text.index('"a"'), text.index('"b"'))
        self.assertIn('["v1.0.0", null]', text)
        self.assertEqual(text, r.to_json(json.loads(text)))


if __name__ == "__main__":
    unittest.main()
