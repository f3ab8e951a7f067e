#!/usr/bin/python3
"""Real Heat's rows at 71 against the project's derived expectations (report only; fixes nothing).

usage: compare_expected.py END_71_TSV EXPECTED_71_JSON

END_71_TSV: test/fixtures/heat-takeover/<dialect>/end-71.tsv (canonical rows after Heat 6.0.0's own
db_sync from the takeover seed). EXPECTED_71_JSON: test/fixtures/heat-data/expected-71.json (derived
from MIGRATIONS.md by derive-expected.py for the golden dataset). Rows are matched by the fixture's
key; rows only one side has (the harness's extra rows, tables the dataset leaves empty) are listed
separately. Each differing cell is printed: table, key, column, real Heat, expected.
"""
import json
import sys


def unescape(cell):
    if cell == '\\N':
        return None
    if cell.startswith('\\x'):
        return {'$hex': cell[2:]}
    out, i = [], 0
    while i < len(cell):
        if cell[i] == '\\':
            out.append({'\\': '\\', 't': '\t', 'n': '\n', 'r': '\r'}[cell[i + 1]])
            i += 2
        else:
            out.append(cell[i])
            i += 1
    return ''.join(out)


def load_rows(path):
    columns, rows = {}, {}
    with open(path) as f:
        for line in f.read().split('\n')[1:]:
            cells = line.split('\t')
            if cells[0] == 'columns':
                columns[cells[1]] = cells[2:]
            elif cells[0] == 'row':
                rows.setdefault(cells[1], []).append([unescape(c) for c in cells[2:]])
    return {t: [dict(zip(columns[t], r)) for r in rows.get(t, [])] for t in columns}


def norm(v):
    """Both sides as text: booleans 0/1 (PostgreSQL true/false), numbers as decimal text."""
    if v is True or v == 'true':
        return '1'
    if v is False or v == 'false':
        return '0'
    if isinstance(v, (int, float)):
        return str(v)
    return v


def main(end_path, expected_path):
    heat = load_rows(end_path)
    expected = json.load(open(expected_path))['tables']
    diffs = 0
    for t, spec in sorted(expected.items()):
        key = spec['key']
        mine = {tuple(norm(r[k]) for k in key): r for r in heat.get(t, [])}
        theirs = {tuple(norm(r[k]) for k in key): r for r in spec['rows']}
        for k in sorted(set(theirs) - set(mine), key=str):
            print('%s %s: expected, real Heat has no such row' % (t, k))
            diffs += 1
        for k in sorted(set(mine) - set(theirs), key=str):
            print('%s %s: only real Heat (not in the golden dataset)' % (t, k))
        for k in sorted(set(mine) & set(theirs), key=str):
            for c in spec['columns']:
                if c in spec['ignore']:
                    continue
                a, b = norm(mine[k].get(c)), norm(theirs[k].get(c))
                if a != b:
                    diffs += 1
                    print('%s %s %s: real Heat %s | expected %s' % (t, k, c, json.dumps(a, ensure_ascii=False)[:300], json.dumps(b, ensure_ascii=False)[:300]))
    print('%d disagreement(s)' % diffs)


if __name__ == '__main__':
    main(*sys.argv[1:3])
