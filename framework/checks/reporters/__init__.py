"""Render a `CheckReport`: text (rich) for people, JSON for tools, JUnit XML for CI test tabs, GitHub annotations."""

from __future__ import annotations

from collections.abc import Callable

from framework.checks.violations import CheckReport


def render(report: CheckReport, fmt: str) -> str:
    """The report as text in `fmt`: text, json, junit, github or markdown."""
    return FORMATS[fmt]()(report)


def _text() -> Callable[[CheckReport], str]:
    from framework.checks.reporters.text import render_text

    return render_text


def _json() -> Callable[[CheckReport], str]:
    from framework.checks.reporters.json import render_json

    return render_json


def _junit() -> Callable[[CheckReport], str]:
    from framework.checks.reporters.junit import render_junit

    return render_junit


def _github() -> Callable[[CheckReport], str]:
    from framework.checks.reporters.github import render_github

    return render_github


def _markdown() -> Callable[[CheckReport], str]:
    from framework.checks.reporters.markdown import render_markdown

    return render_markdown


FORMATS: dict[str, Callable[[], Callable[[CheckReport], str]]] = {
    "text": _text,
    "json": _json,
    "junit": _junit,
    "github": _github,
    "markdown": _markdown,
}
