"""JUnit XML, the format CI systems show as test results: one suite per rule, one failing case per violation.

A rule with no violation is one passing case, so every rule that ran shows up. Warnings are cases with a
`<skipped>` note: visible, never failing. `failures` counts error-severity violations.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from framework.checks.violations import CheckReport


def render_junit(report: CheckReport) -> str:
    suites = ElementTree.Element(
        "testsuites",
        name="overclock check",
        tests="0",
        failures=str(len(report.errors)),
        errors="0",
        time=f"{report.duration_seconds:.3f}",
    )
    total = 0
    for rule in report.rules:
        violations = report.for_rule(rule.name)
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=rule.name,
            tests=str(max(len(violations), 1)),
            failures=str(sum(1 for v in violations if v.severity == "error")),
            errors="0",
            skipped=str(sum(1 for v in violations if v.severity == "warning")),
        )
        ElementTree.SubElement(
            ElementTree.SubElement(suite, "properties"),
            "property",
            name="description",
            value=rule.description,
        )
        if not violations:
            ElementTree.SubElement(
                suite, "testcase", classname=rule.name, name=f"{rule.checked} models", time="0"
            )
        for violation in violations:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=rule.name,
                name=violation.model,
                file=violation.path or "",
                line=str(violation.line or ""),
                time="0",
            )
            if violation.severity == "error":
                failure = ElementTree.SubElement(case, "failure", message=violation.message, type=rule.name)
                failure.text = f"{violation.location}: {violation.message}"
            else:
                ElementTree.SubElement(case, "skipped", message=f"warning: {violation.message}")
        total += max(len(violations), 1)
    suites.set("tests", str(total))
    ElementTree.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
    )
