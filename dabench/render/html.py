"""Self-contained HTML report of a comparison: one file, no network assets, safe to open.

Jinja2 autoescapes every string from the comparison; the forest plot is an SVG in an ``<img>``
data URI, where scripts never run; a Content-Security-Policy admits only the page's own script
and style (by SHA-256 hash) and ``data:`` images. The output is a pure function of the
comparison. The leaderboard builds its pages from the same :func:`environment` and partials.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from dabench._version import __version__
from dabench.example_rows import TEXT_FIELDS
from dabench.render import fmt, write_file
from dabench.render.forest import forest_svg
from dabench.comparison import as_dict
from dabench.render.protocol import protocol
from dabench.render.regime_fmt import run_rows, score


def _static(name: str) -> str:
    return resources.files("dabench.render").joinpath("static", name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@lru_cache(maxsize=1)
def page_assets() -> dict[str, Any]:
    """The inline CSS and JS every page carries, and the CSP that admits exactly them."""
    css, js = _static("style.css"), _static("tables.js")
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src '{_sha256(css)}'; script-src '{_sha256(js)}'; "
        "base-uri 'none'; form-action 'none'"
    )
    return {"css": Markup(css), "js": Markup(js), "csp": csp, "generator_version": __version__}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment: autoescape on for every template, undefined names are errors."""
    return Environment(loader=PackageLoader("dabench.render", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def svg_data_uri(svg: str) -> str:
    """An SVG as a ``data:`` URI for an ``<img>`` (where its scripts, if any, never run)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def sort_key(x: Any) -> str:
    """A sort key for ``data-value``: ``repr`` of a float is exact and locale-free."""
    return "" if x is None else repr(float(x))


def task_row(t: Mapping[str, Any]) -> dict[str, Any]:
    """A task's row of a results table, formatted, with a ``*_value`` sort key beside each number."""
    tmpl = t.get("templates") or {}
    return {
        "task": t["task"], "category": t["category"], "metric": t["metric"], "n": t["n"],
        "base": score(t, "base"), "base_value": sort_key(t["base"]),
        "adapted": score(t, "adapted"), "adapted_value": sort_key(t["adapted"]),
        "delta": fmt.signed(t["delta"]), "delta_value": sort_key(t["delta"]),
        "ci": fmt.interval(t["ci"]), "ci_lo_value": sort_key(t["ci"][0]),
        "p": fmt.pval(t["p_value"]), "p_value": sort_key(t["p_value"]),
        "p_adjusted": fmt.pval(t["p_adjusted"]), "p_adjusted_value": sort_key(t["p_adjusted"]),
        "verdict": t["verdict"],
        "mde": fmt.num(t.get("mde")), "mde_value": sort_key(t.get("mde")),
        "flags": fmt.flags(t),
        "template_base": str(tmpl.get("base", "")), "template_adapted": str(tmpl.get("adapted", "")),
    }


def comparison_view(comparison: Any) -> dict[str, Any]:
    """Everything the templates show, formatted; strings stay raw here and are escaped by Jinja."""
    data = as_dict(comparison)
    cfg = data.get("config", {})
    ordered = [t for _, group in fmt.grouped_tasks(data["tasks"]) for t in group]
    secondary = [
        {"task": t["task"], "metric": name, "base": fmt.num(s.get("base")), "adapted": fmt.num(s.get("adapted")),
         "delta": fmt.signed(s.get("delta")), "delta_value": sort_key(s.get("delta"))}
        for t in ordered for name, s in sorted((t.get("secondary") or {}).items())
    ]
    disagreements = [
        {"task": t["task"], "category": t["category"],
         "rows": [{k: str(d.get(k, "")) for k in TEXT_FIELDS} for d in t["disagreements"]]}
        for t in ordered if t.get("disagreements")
    ]
    by_category = [{"category": cat, **fmt.verdict_counts(group)} for cat, group in fmt.grouped_tasks(ordered)]
    return {
        "base": data["base"], "adapted": data["adapted"],
        "created": str(data.get("created", "")), "dabench_version": str(data.get("dabench_version", "")),
        "protocol": protocol(data),
        "alpha": cfg.get("alpha", 0.05),
        "correction_name": fmt.CORRECTION_NAMES.get(cfg.get("correction", "holm"), str(cfg.get("correction"))),
        "level": fmt.pct(fmt.ci_level(data)),
        "counts": fmt.verdict_counts(ordered),
        "by_category": by_category,
        "categories": fmt.categories_of(ordered),
        "tasks": [task_row(t) for t in ordered],
        "any_underpowered": any(t.get("underpowered") for t in ordered),
        "secondary": secondary,
        "runs": run_rows(data),
        "disagreements": disagreements,
        "forest_src": svg_data_uri(forest_svg(data)),
        "signature_json": json.dumps(data.get("signature", {}), indent=2, sort_keys=True, ensure_ascii=False),
        "config_json": json.dumps(cfg, indent=2, sort_keys=True, ensure_ascii=False),
    }


def render_html(comparison: Any) -> str:
    """The self-contained HTML report of a comparison (dict or ``Comparison``)."""
    view = comparison_view(comparison)
    return environment().get_template("report.html.j2").render(c=view, **page_assets())


def write_html_report(comparison: Any, path: str | Path) -> Path:
    """Write the HTML report to ``path`` (UTF-8, ``\\n`` line ends, parents created)."""
    return write_file(path, render_html(comparison))
