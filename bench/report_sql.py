#!/usr/bin/env python3
"""Prints the SQL that GET /api/v1/reports/attendance?group_by=region runs, taken from
src/db/reports.rs (so the bare-SQL baseline follows the code), with $1 (election), $2
(region, NULL = national) and $3 (now) filled in, one statement per `;`:

  1. the rows       (SCOPED_MEETINGS + the GroupBy::Region body with FIGURES)
  2. the totals     (SCOPED_MEETINGS + SELECT FIGURES FROM m)
  3. the per-body figures (attendance_by_body)

    python3 bench/report_sql.py ELECTION_ID [--region REGION_ID] [--only rows|totals|by_body]
                                [--explain]

Fails loudly if reports.rs no longer has the shapes it parses.
"""
import argparse
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "db", "reports.rs")


def rust_str(body):
    """Decodes a Rust "..." literal body: `\\` + newline skips the newline and the
    indentation after it; \\n, \\t, \\", \\\\ as usual."""
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            n = body[i + 1]
            if n == "\n":
                i += 2
                while i < len(body) and body[i] in " \t\n":
                    i += 1
                continue
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def literal(src, pattern, what):
    m = re.search(pattern, src, re.S)
    if not m:
        sys.exit(f"report_sql.py: cannot find {what} in {SRC}; update bench/report_sql.py")
    return rust_str(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("election_id")
    ap.add_argument("--region")
    ap.add_argument("--only", choices=["rows", "totals", "by_body"])
    ap.add_argument("--explain", action="store_true")
    args = ap.parse_args()
    src = open(SRC, encoding="utf-8").read()
    scoped = literal(src, r'const SCOPED_MEETINGS: &str = "(.*?)";\n', "SCOPED_MEETINGS")
    figures = literal(src, r'const FIGURES: &str = "(.*?)";\n', "FIGURES")
    region = literal(src, r'GroupBy::Region => "(.*?)",\n', "the GroupBy::Region body")
    by_body_fmt = literal(src, r'fn attendance_by_body.*?format!\(\s*"(.*?)"\s*\)\)', "attendance_by_body")
    totals_fmt = literal(src, r'fn attendance_totals.*?format!\("(.*?)"\)', "attendance_totals")

    def fill(fmt):
        return fmt.replace("{SCOPED_MEETINGS}", scoped).replace("{FIGURES}", figures)

    statements = {
        "rows": scoped + "\n" + region.replace("{F}", figures),
        "totals": fill(totals_fmt),
        "by_body": fill(by_body_fmt),
    }
    e = f"'{args.election_id}'::uuid"
    r = f"'{args.region}'::uuid" if args.region else "NULL::uuid"
    for name, sql in statements.items():
        if args.only and name != args.only:
            continue
        # $3 is the service's clock reading (overdue reports); the database's will do.
        sql = sql.replace("$2::uuid", r).replace("$2", r).replace("$1", e).replace("$3", "now()")
        if args.explain:
            sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)\n" + sql
        print(f"-- {name}\n{sql};\n")


if __name__ == "__main__":
    main()
