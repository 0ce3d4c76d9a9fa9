"""Each generated runbook holds what an operator needs, for every step of its graph: the AWS
CLI commands, how to verify and how to undo, in the place the graph gives it; plus the
Mermaid graph and the whole recovery by hand for when `dr` cannot run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dr import config as dr_config
from dr import docs
from dr.cli.main import main
from dr.config.placeholder import placeholder_config
from dr.runbooks import RUNBOOKS

EXAMPLE = Path(__file__).with_name("example.dr.yaml")
BY_HAND = "## If `dr` itself cannot run"
# `<PLACEHOLDER>`s standing for dr.yaml values (not the run-time ones such as <VPC_ID>).
CONFIG_PLACEHOLDERS = set(re.findall(r"<[A-Z_]+>", repr(placeholder_config())))


def section(text: str, heading: str) -> str:
    """From `heading` to the next heading of the same or a higher level."""
    start = text.index(heading)
    level = len(heading) - len(heading.lstrip("#"))
    rest = text[start + len(heading):]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{level}}} ", rest, re.M)
            if not _in_code(rest, m.start())]
    return rest[:ends[0]] if ends else rest


def _in_code(text: str, at: int) -> bool:
    return text[:at].count("```") % 2 == 1


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)


def prose(text: str) -> str:
    """The text outside code blocks and inline code."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))


def steps(config, name):  # type: ignore[no-untyped-def]
    """(number, node) of every step of the runbook, in the document's order."""
    phases = docs.runbook_phases(config, name)
    multi = len(phases) > 1
    return [(f"{p}.{n}" if multi else str(n), node)
            for p, (_, book) in enumerate(phases, 1) for n, node in enumerate(book.order(), 1)]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return docs.render()


@pytest.mark.parametrize("name", RUNBOOKS)
def test_every_step_has_commands_verification_and_undo(rendered: dict[str, str],
                                                       name: str) -> None:
    text = rendered[docs.GUIDES[name].file]
    listed = steps(placeholder_config(), name)
    assert listed
    for number, node in listed:
        body = section(text, f"### Step {number}: `{node.id}`")
        by_hand = section(body, "#### By hand")
        verify = section(body, "#### Verify")
        undo = section(body, "#### Undo")
        assert body.index("#### By hand") < body.index("#### Verify") < body.index("#### Undo")
        commands = [line for block in code_blocks(by_hand) for line in block.splitlines()]
        assert commands, f"{name} step {number} {node.id}: no commands"
        if node.step.iam_actions:  # a step that calls AWS is done by hand with the AWS CLI
            assert any(re.search(r"(^|\s|\$\()aws [a-z0-9-]+ [a-z]", line)
                       for line in commands if not line.lstrip().startswith("#")), node.id
        assert verify.strip() and undo.strip(), node.id
        for action in node.step.iam_actions:
            assert f"`{action}`" in body, f"{node.id}: IAM action {action} not listed"
        assert "| Typical duration | " + docs.duration(node.step.typical_seconds) in body


@pytest.mark.parametrize("name", RUNBOOKS)
def test_every_step_is_in_the_mermaid_graph(rendered: dict[str, str], name: str) -> None:
    text = rendered[docs.GUIDES[name].file]
    charts = re.findall(r"^```mermaid\n(flowchart TD\n.*?)^```", text, re.S | re.M)
    assert len(charts) == len(docs.runbook_phases(placeholder_config(), name))
    for number, node in steps(placeholder_config(), name):
        label = f"{number}. {node.id}".replace("<", "#lt;").replace(">", "#gt;")
        assert any(f'["{label}<br/>' in chart for chart in charts), node.id
    for chart in charts:  # every edge joins declared nodes
        declared = set(re.findall(r"^  (s[\d_]+)\[", chart, re.M))
        for a, b in re.findall(r"^  (s[\d_]+) --> (s[\d_]+)$", chart, re.M):
            assert {a, b} <= declared


@pytest.mark.parametrize("name", RUNBOOKS)
def test_the_recovery_by_hand_lists_every_procedure_in_graph_order(rendered: dict[str, str],
                                                                   name: str) -> None:
    text = rendered[docs.GUIDES[name].file]
    assert text.count(BY_HAND) == 1 and text.index(BY_HAND) > text.index("## Steps")
    by_hand = text[text.index(BY_HAND):]
    starts = [m.start() for m in re.finditer(r"^\*\*[\d.]+\.\*\* ", by_hand, re.M)]
    entries = [by_hand[a:b] for a, b in zip(starts, [*starts[1:], len(by_hand)], strict=True)]
    listed = steps(placeholder_config(), name)
    assert len(entries) == len(listed)
    for entry, (number, node) in zip(entries, listed, strict=True):
        assert entry.startswith(f"**{number}.** `{node.id}`"), entry[:80]
        for part in (node.step.manual.procedure, node.step.manual.verify):
            assert docs.protect_placeholders(docs.commands(node.step, part)) in entry, node.id


@pytest.mark.parametrize("name", RUNBOOKS)
def test_decision_readiness_and_anchors(rendered: dict[str, str], name: str) -> None:
    text = rendered[docs.GUIDES[name].file]
    for heading in ("## Purpose and when to use it", "## Who decides", "## Readiness checks",
                    "## Step graph", "## Steps"):
        assert heading in text
    assert "- [ ] " in section(text, "## Who decides")
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', text))
    links = set(re.findall(r"\]\(#([\w-]+)\)", text))
    assert links <= anchors


@pytest.mark.parametrize("file", ["README.md", *(docs.GUIDES[n].file for n in RUNBOOKS)])
def test_no_placeholder_would_vanish_as_an_html_tag(rendered: dict[str, str],
                                                    file: str) -> None:
    assert not re.findall(r"<[A-Za-z][\w-]*>", prose(rendered[file]))


def test_index_links_every_runbook_and_defines_rto_and_rpo(rendered: dict[str, str]) -> None:
    index = rendered["README.md"]
    for name in RUNBOOKS:
        assert f"]({docs.GUIDES[name].file})" in index
    rto_rpo = section(index, "## RTO and RPO")
    for term in ("--incident-start", "health check", "recovery path", "heartbeat",
                 "ReplicaLag", "`none`"):
        assert term in rto_rpo, term
    assert "](iam-policy.json)" in index


def test_with_a_config_the_commands_carry_its_values(tmp_path: Path) -> None:
    assert main(["docs", "--config", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    failover = (tmp_path / "failover.md").read_text()
    assert ("aws rds promote-read-replica --region us-west-2 --db-instance-identifier "
            "timeline-main-dr") in failover
    assert "aws ssm put-parameter --region us-west-2 --name /timeline/staging/db_host" in failover
    config = dr_config.load(EXAMPLE)
    for number, node in steps(config, "failover"):
        assert f"### Step {number}: `{node.id}`" in failover
    for path in tmp_path.glob("*.md"):
        left = CONFIG_PLACEHOLDERS & set(re.findall(r"<[A-Z_]+>", path.read_text()))
        assert not left, f"{path.name} still has {sorted(left)}"
