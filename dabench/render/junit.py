"""JUnit XML of a gate result: one ``testcase`` per task, a ``failure`` with its reason.

The JUnit/Ant layout CI systems read, built with ElementTree (which escapes everything; characters
XML 1.0 forbids are dropped), timestamped with the comparison's own ``created``: a pure function of
the comparison and the gate settings.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dabench.render import fmt, write_file

# characters outside XML 1.0's Char production
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: Any) -> str:
    return _INVALID_XML.sub("", str(text))


def _timestamp(created: str | None) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC (the form JUnit's schema allows), or a fixed epoch."""
    try:
        dt = datetime.fromisoformat(str(created))
    except (TypeError, ValueError):
        dt = datetime(1970, 1, 1, tzinfo=timezone.utc)
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.replace(microsecond=0).isoformat()


def _status(t: Any) -> str:
    """A task's JUnit status: ``fail`` (a ``failure``), ``skipped`` (an inconclusive task of a
    policy) or ``pass`` (an advisory task's failure is reported, not failed)."""
    outcome = getattr(t, "outcome", None)
    if outcome is None:
        return "pass" if t.passed else "fail"
    if outcome == "inconclusive":
        return "skipped"
    return "fail" if outcome == "fail" and t.tier != "advisory" else "pass"


def _suites(name: str, created: str | None, tests: int, failures: int, errors: int,
            skipped: int) -> tuple[ET.Element, ET.Element, ET.Element]:
    """(root, suite, its properties): the ``testsuites > testsuite > properties`` skeleton."""
    counts = dict(zip(("tests", "failures", "errors", "skipped", "time"),
                      map(str, (tests, failures, errors, skipped, 0))))
    root = ET.Element("testsuites", {"name": "dabench gate", **counts})
    suite = ET.SubElement(root, "testsuite", {
        "name": _clean(name), **counts, "timestamp": _timestamp(created), "hostname": "dabench", "id": "0",
        "package": "dabench.gate",
    })
    return root, suite, ET.SubElement(suite, "properties")


def _document(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_junit(result: Any, *, created: str | None = None) -> str:
    """The JUnit XML document of a :class:`~dabench.gate.GateResult` or a
    :class:`~dabench.gate_policy.PolicyResult`, timestamped with the comparison's ``created``."""
    tasks = list(result.tasks)
    status = [_status(t) for t in tasks]
    name = f"dabench gate: {result.candidate.get('name', 'candidate')} vs {result.baseline.get('name', 'baseline')}"
    root, suite, props = _suites(name, created, len(tasks), status.count("fail"), 0, status.count("skipped"))
    policy = getattr(result, "policy", None)
    settings = (("policy", policy), ("family", result.family)) if policy else (
        ("mode", result.mode), ("margin", f"{result.margin:g}"))
    for key, value in (
        *settings, ("alpha", f"{result.alpha:g}"),
        ("baseline", result.baseline.get("name", "")), ("baseline.fingerprint", result.baseline.get("fingerprint", "")),
        ("candidate", result.candidate.get("name", "")),
        ("candidate.fingerprint", result.candidate.get("fingerprint", "")),
        ("result", result.outcome if policy else "passed" if result.passed else "failed"),
    ):
        ET.SubElement(props, "property", {"name": key, "value": _clean(value)})
    for t, state in zip(tasks, status):
        group = f"{t.tier}.{t.category}" if policy else t.category
        case = ET.SubElement(suite, "testcase", {
            "name": _clean(t.task), "classname": _clean(f"dabench.gate.{group}"), "time": "0",
        })
        details = _clean(
            f"task {t.task} ({t.category}), metric {t.metric}, n = {t.n}\n"
            f"baseline {fmt.num(t.baseline)}, candidate {fmt.num(t.candidate)}, "
            f"delta {fmt.signed(t.delta)}, CI {fmt.interval(t.ci)}\n"
            + (f"{fmt.p_is(t.p_value)}, {fmt.p_is(t.p_holm, 'Holm-adjusted p')}\n" if t.p_holm is not None else "")
            + (f"lower CI bound = {fmt.signed(t.lower_bound)}\n" if t.lower_bound is not None else "")
            + (f"{t.tier} tier, {t.mode}, margin {t.margin_spec}: {t.outcome.upper()}: {t.reason}" if policy
               else f"{'PASS' if t.passed else 'FAIL'}: {t.reason}")
        )
        if state == "fail":
            ET.SubElement(case, "failure", {"message": _clean(f"{t.task}: {t.reason}"),
                                            "type": t.mode if policy else result.mode}).text = details
        elif state == "skipped":
            ET.SubElement(case, "skipped", {"message": _clean(f"{t.task}: inconclusive: {t.reason}")})
        if state != "fail":
            ET.SubElement(case, "system-out").text = details
    return _document(root)


def write_junit(result: Any, path: str | Path, *, created: str | None = None) -> Path:
    """Write :func:`render_junit` to ``path`` (UTF-8), creating parent folders."""
    return write_file(path, render_junit(result, created=created))


def render_junit_error(message: str) -> str:
    """A JUnit document for a gate that could not run: one ``testcase`` with an ``<error>``
    carrying ``message`` (the same one line the command printed), so CI shows why."""
    root, suite, _ = _suites("dabench gate", None, 1, 0, 1, 0)
    case = ET.SubElement(suite, "testcase", {"name": "gate", "classname": "dabench.gate", "time": "0"})
    ET.SubElement(case, "error", {"message": _clean(message.splitlines()[0] if message else "error"),
                                  "type": "dabench.error"}).text = _clean(message)
    return _document(root)


def write_junit_error(path: str | Path, message: str) -> Path:
    """Write :func:`render_junit_error` to ``path``, creating parent folders."""
    return write_file(path, render_junit_error(message))
