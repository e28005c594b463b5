"""The markdown of an audit report, rendered from its JSON (reviewer.audit), so a report
merged from shards reads like one made in one run. Paths and judge text come from the base
and are escaped as in a posted review."""

from __future__ import annotations

from typing import Any

from reviewer.findings import SEVERITIES
from reviewer.render.parts import count
from reviewer.render.safe import code, inline

LISTED = 20  # judge errors and left-out claims listed by name
PLURAL = {"error": "errors", "warning": "warnings", "info": "info"}


def headline(report: dict[str, Any], markup: bool = True) -> str:
    summary, by = report["summary"], report["summary"]["by_severity"]

    def many(n: int, noun: str, bold: bool = False) -> str:
        number = f"**{n:,}**" if bold and markup else f"{n:,}"
        return f"{number} {noun if n == 1 or noun == 'info' else noun + 's'}"

    return (f"{many(summary['claims'], 'claim', True)} reviewed "
            f"({many(summary['skipped'], 'other note')}), "
            f"{many(summary['findings'], 'finding', True)} in "
            f"{many(summary['files_with_findings'], 'file')}: {many(by['error'], 'error')}, "
            f"{many(by['warning'], 'warning')}, {many(by['info'], 'info')}")


def render_audit(report: dict[str, Any]) -> str:
    lines = ["# claim-review audit", "", headline(report) + ".", "", _provenance(report)]
    if report["incomplete"]:
        lines += ["", f"> **Incomplete:** {inline(report['incomplete'], 1000)}"]
    lines += ["", "## Findings per rule", ""] + _rules(report)
    lines += ["", "## Worst files", ""] + _worst(report)
    if report["trend"]:
        lines += ["", "## Trend", ""] + _trend(report["trend"])
    lines += ["", "## LLM judge", ""] + _judge(report["judge"])
    if report["notes"]:
        lines += ["", "## Notes", ""] + [f"- {inline(note, 1000)}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def _provenance(report: dict[str, Any]) -> str:
    names = [path.replace("\\", "/").rsplit("/", 1)[-1] for path in report["rubric"]["files"]]
    shards = report["shards"]
    if shards["count"] == 1:
        scope = "The whole base"
    elif len(shards["covered"]) == 1:
        scope = f"Shard {shards['covered'][0]} of {shards['count']}"
    else:
        scope = (f"Shards {', '.join(map(str, shards['covered']))} of {shards['count']}, "
                 "merged")
    return (f"{scope}, {report['date']}, claim-review {inline(report['version'])}; rubric "
            f"{' ← '.join(code(n) for n in names)} (digest "
            f"{code(report['rubric']['digest'][:12])}).")


def _rules(report: dict[str, Any]) -> list[str]:
    rules = sorted(report["by_rule"].items(), key=lambda item: (-item[1]["total"], item[0]))
    if not rules:
        return ["No findings."]
    lines = ["| rule | errors | warnings | info | total |", "|---|--:|--:|--:|--:|"]
    lines += [f"| {code(rule)} | " + " | ".join(f"{c[s]:,}" for s in SEVERITIES)
              + f" | {c['total']:,} |" for rule, c in rules]
    by = report["summary"]["by_severity"]
    lines.append("| **all rules** | " + " | ".join(f"{by[s]:,}" for s in SEVERITIES)
                 + f" | {report['summary']['findings']:,} |")
    return lines


def _worst(report: dict[str, Any]) -> list[str]:
    worst = report["worst_files"]
    if not worst:
        return ["No file has an error or a warning."]
    lines = [f"The {count(len(worst), 'file')} with the most errors, then warnings:", "",
             "| file | errors | warnings | info |", "|---|--:|--:|--:|"]
    lines += [f"| {code(f['path'], 1000)} | {f['error']} | {f['warning']} | {f['info']} |"
              for f in worst]
    return lines


def _signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"{n:,}" if n < 0 else "0"


def _trend(trend: dict[str, Any]) -> list[str]:
    previous = trend["previous"]
    against = (f"Against the report of {previous['date']} (claim-review "
               f"{inline(previous['version'])}).")
    if trend["rubric_changed"]:
        against += " The rubric changed since: some counts may move for that reason alone."
    moves = " ".join(f"{what.capitalize()}: {trend[what]['before']:,} → "
                     f"{trend[what]['now']:,} ({_signed(trend[what]['delta'])})."
                     for what in ("claims", "findings"))
    lines = [against, "", moves, ""]
    moved = [r for r in trend["rules"] if r["delta"]]
    if not moved:
        return [*lines, "No rule moved."]
    lines += ["| rule | before | now | delta |", "|---|--:|--:|--:|"]
    lines += [f"| {code(r['rule'])} | {r['before']:,} | {r['now']:,} | {_signed(r['delta'])} |"
              for r in moved]
    by = trend["by_severity"]
    lines += [f"| **all {PLURAL[s]}** | {by[s]['before']:,} | {by[s]['now']:,} | "
              f"{_signed(by[s]['delta'])} |" for s in SEVERITIES]
    still = len(trend["rules"]) - len(moved)
    if still:
        lines += ["", f"{count(still, 'other rule')} unchanged."]
    return lines


def _judge(judge: dict[str, Any]) -> list[str]:
    if not judge["ran"]:
        lines = [f"The judge did not run: {inline(judge['reason'] or 'no reason given', 500)}."]
    else:
        usage, price = judge["usage"], judge["cost_usd"]
        how = {"batch": "through the Message Batches API", "realtime": "through the Messages API"}
        lines = [f"{count(judge['judged'], 'claim')} judged by {code(judge['model'])} "
                 f"{how.get(judge['mode'], '')}: {count(judge['requests'], 'request')}, "
                 f"{count(judge['cache_hits'], 'answer')} from the local result cache, "
                 f"{usage['input_tokens']:,} input and {usage['output_tokens']:,} output tokens "
                 f"({usage['cache_read_input_tokens']:,} cache reads), "
                 + (f"~${price:.4f}" if price is not None else "cost unknown for this model")
                 + (f" (batch price, {judge['discount']:.0%})" if judge["discount"] else "")
                 + "."]
    if judge["batches"]:
        lines += ["", "Batches: " + ", ".join(f"{code(b['id'])} ({b['requests']} requests)"
                                             for b in judge["batches"]) + "."]
    lines += _listed("Judge errors (these claims rest on the deterministic checks alone)",
                     [(e["path"], e["error"]) for e in judge["errors"]])
    lines += _listed("Left out (not judged this time)",
                     [(e["path"], e["reason"]) for e in judge["left_out"]])
    return lines


def _listed(title: str, items: list[tuple[str, str]]) -> list[str]:
    if not items:
        return []
    lines = ["", f"{title}: {len(items)}.", ""]
    lines += [f"- {code(path, 1000)}: {inline(why, 300)}" for path, why in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(f"- and {len(items) - LISTED} more (the JSON report lists them all)")
    return lines
