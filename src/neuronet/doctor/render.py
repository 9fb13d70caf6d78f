"""The report as text: for the terminal (``print(report)``) and as Markdown (``doctor.md``)."""

from __future__ import annotations

import textwrap

_WIDTH = 100


def _headline(report) -> str:
    meta = report.meta
    parts = []
    if meta.get("model"):
        parts.append(
            f"{meta['model']}"
            + (f", {meta['parameters']:,} parameters" if meta.get("parameters") is not None else "")
        )
    if meta.get("rows") is not None:
        parts.append(f"{meta['rows']:,} training rows")
    if meta.get("budget"):
        parts.append(f"budget {meta['budget']}")
    if meta.get("seconds") is not None:
        parts.append(f"{meta['seconds']:.1f} s")
    if meta.get("source") and not parts:
        parts.append(meta["source"])
    return "neuronet doctor: " + ", ".join(parts)


def _counts(report) -> str:
    e, w = len(report.errors), len(report.warnings)
    return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=indent)


def terminal(report) -> str:
    """The terminal report: headline, findings most likely cause first, then every stage."""
    lines = [_headline(report), ""]
    shown = [f for f in report.findings if f.severity != "info"]
    info = [f for f in report.findings if f.severity == "info"]
    if shown:
        lines.append(f"Findings, most likely cause first ({_counts(report)}):")
        for i, f in enumerate(shown, 1):
            where = f"  [{f.module}]" if f.module else ""
            lines.append(f"{i:>3}. {f.severity.upper():<8}{f.code}{where}")
            lines.append(_wrap(f.message, "       "))
            if f.explains:
                lines.append(_wrap(f"likely cause of: {', '.join(f.explains)}", "       "))
            lines.append(_wrap(f"fix: {f.prescription}", "       "))
    else:
        lines.append("No problems found.")
    for f in info:
        lines.append(_wrap(f"note ({f.code}): {f.message}", "  "))
    if report.stages:
        lines += ["", "Stages:"]
        for s in report.stages:
            took = f" ({s.seconds:.1f} s)" if s.seconds else ""
            lines.append(f"  {s.title}{took}")
            if s.skipped:
                lines.append(_wrap(f"skipped: {s.skipped}", "     "))
            for line in s.lines:
                lines.append(_wrap(line, "     "))
    return "\n".join(lines)


def _table(rows: list) -> list:
    if not rows:
        return []
    keys = list(rows[0].keys())
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        out.append(
            "| " + " | ".join("" if r.get(k) is None else str(r.get(k)) for k in keys) + " |"
        )
    return out


def markdown(report, images=(), note=None) -> str:
    """``doctor.md``: the same content with per-layer tables and the PNGs."""
    lines = ["# " + _headline(report), ""]
    shown = [f for f in report.findings if f.severity != "info"]
    if shown:
        lines += [f"## Findings, most likely cause first ({_counts(report)})", ""]
        for i, f in enumerate(shown, 1):
            where = f" — `{f.module}`" if f.module else ""
            lines.append(f"{i}. **{f.severity}** `{f.code}`{where}: {f.message}  ")
            if f.explains:
                lines.append(f"   *Likely cause of:* {', '.join(f.explains)}  ")
            lines.append(f"   *Fix:* {f.prescription}")
        lines.append("")
    else:
        lines += ["No problems found.", ""]
    for f in report.findings:
        if f.severity == "info":
            lines.append(f"*Note (`{f.code}`):* {f.message}")
    if any(f.severity == "info" for f in report.findings):
        lines.append("")
    pictures = {
        "samples.png": "Samples with their labels",
        "lr_find.png": "Learning-rate range test",
        "grad_flow.png": "Gradient flow",
        "loss.png": "Loss during the short run",
    }
    for s in report.stages:
        took = f" ({s.seconds:.1f} s)" if s.seconds else ""
        lines += [f"## {s.title}{took}", ""]
        if s.skipped:
            lines += [f"Skipped: {s.skipped}", ""]
        lines += [f"- {line}" for line in s.lines]
        lines.append("")
        if s.table:
            lines += _table(s.table)
            lines.append("")
    for name in images:
        lines += [f"### {pictures.get(name, name)}", "", f"![{name}]({name})", ""]
    if note:
        lines += [f"*{note}*", ""]
    return "\n".join(lines)
