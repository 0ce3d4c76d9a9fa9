"""What every report directory must hold: a report.json valid against the shipped schema,
a junit.xml with one testcase per step plus the RTO and RPO targets, and a report.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema

from dr.runbook import report


def validate(document: dict[str, Any]) -> None:
    schema = report.schema()
    jsonschema.validators.validator_for(schema).check_schema(schema)
    jsonschema.validate(document, schema,
                        format_checker=jsonschema.validators.validator_for(schema).FORMAT_CHECKER)


def junit_cases(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    assert root.tag in ("testsuite", "testsuites"), root.tag
    cases = [c for s in suites for c in s.findall("testcase")]
    for suite in suites:
        mine = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(mine)
        assert int(suite.get("failures", "0")) == sum(c.find("failure") is not None
                                                      for c in mine)
        assert int(suite.get("skipped", "0")) == sum(c.find("skipped") is not None
                                                     for c in mine)
    for case in cases:
        assert case.get("name") and case.get("classname")
        float(case.get("time", "x"))
    return cases


def check_report_dir(directory: Path) -> dict[str, Any]:
    document = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    validate(document)
    names = [c.get("name") for c in junit_cases(directory / "junit.xml")]
    assert names == [s["id"] for s in document["steps"]] + ["rto_target", "rpo_target"]
    markdown = (directory / "report.md").read_text(encoding="utf-8")
    assert document["run_id"] in markdown and document["outcome"] in markdown
    return document
