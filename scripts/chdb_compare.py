"""Replays, in order, every request the ClickHouse store made to the test
server (ClickHouse 18.16), as recorded by `server/tests/clickhouse_engines.rs`,
through chDB (a current ClickHouse engine as a library), and compares each
answer with 18.16's.

- Inserts: the recorded RowBinary rows go in through `file()` with the
  table's column types, so chDB stores exactly the rows 18.16 got.
- Statements that answer rows: the column types must be the same (the store
  reads RowBinary with fixed types, so a changed type is a changed answer),
  and so must the rows, read with those types: sorted when the statement has
  no ORDER BY of its own, the parallel arrays of a `groupArray` compared as a
  set of tuples (their order is not defined), floats within a relative 1e-9.
- Waits for deletes (`system.mutations`): the answers depend on timing, so a
  poll that found deletes pending is only run; one that found none is
  repeated on chDB until it finds none too.
- Everything else (DDL, `ALTER ... DELETE`, `DROP PARTITION`) must run.

Prints each statement that differs or fails, a summary per store method,
and exits 1 if any did.

Usage: chdb_compare.py RECORD_DIR
"""

import json
import os
import re
import struct
import sys
import tempfile
import time

os.environ["TZ"] = "UTC"
from chdb import session  # noqa: E402

FLOAT_TOLERANCE = 1e-9
POLL_SECONDS = 60


class EngineError(Exception):
    """A statement chDB refused or failed."""


class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError(f"answer ends at byte {len(self.data)}, {n} more wanted at {self.at}")
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def varint(self):
        shift = n = 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return n

    def done(self):
        return self.at == len(self.data)


FIXED = {"UInt8": "<B", "UInt16": "<H", "UInt32": "<I", "UInt64": "<Q", "Int8": "<b", "Int16": "<h",
         "Int32": "<i", "Int64": "<q", "Float32": "<f", "Float64": "<d", "Date": "<H", "DateTime": "<I",
         "Bool": "<B"}


def split_args(s):
    """`A, B(C, D)` -> ["A", "B(C, D)"], quotes and parentheses respected."""
    out, depth, cur, quoted = [], 0, "", False
    for c in s:
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        if c == "," and depth == 0 and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def read_value(r, t):
    if t in FIXED:
        fmt = FIXED[t]
        return struct.unpack(fmt, r.take(struct.calcsize(fmt)))[0]
    m = re.fullmatch(r"(\w+)\((.*)\)", t, re.S)
    if t == "String":
        return r.take(r.varint()).decode("utf-8", "backslashreplace")
    if m and m.group(1) in ("Enum8", "Enum16"):
        return read_value(r, "Int8" if m.group(1) == "Enum8" else "Int16")
    if m and m.group(1) == "FixedString":
        return r.take(int(m.group(2)))
    if m and m.group(1) == "Array":
        return [read_value(r, m.group(2)) for _ in range(r.varint())]
    if m and m.group(1) == "Nullable":
        return None if r.take(1)[0] else read_value(r, m.group(2))
    if m and m.group(1) == "LowCardinality":
        return read_value(r, m.group(2))
    if m and m.group(1) == "Tuple":
        return tuple(read_value(r, a.split(" ")[-1] if " " in a and "(" not in a else a)
                     for a in split_args(m.group(2)))
    raise ValueError(f"no reader for type {t}")


def read_rows(data, types):
    r, rows = Reader(data), []
    while not r.done():
        rows.append(tuple(read_value(r, t) for t in types))
    return rows


def read_with_header(data):
    """RowBinaryWithNamesAndTypes: names, types, rows."""
    r = Reader(data)
    if r.done():
        return [], [], []
    n = r.varint()
    names = [r.take(r.varint()).decode() for _ in range(n)]
    types = [r.take(r.varint()).decode() for _ in range(n)]
    return names, types, read_rows(data[r.at:], types)


def top_level_order_by(sql):
    depth, quoted = 0, False
    flat = []
    for c in sql:
        if c == "'":
            quoted = not quoted
        if not quoted and c == "(":
            depth += 1
        if not quoted and c == ")":
            depth -= 1
        flat.append(c if depth == 0 and not quoted else " ")
    return re.search(r"\bORDER\s+BY\b", "".join(flat)) is not None


def key(v):
    return json.dumps(v, default=repr, sort_keys=True)


def normalise(rows, sql):
    if "groupArray" in sql:
        out = []
        for row in rows:
            arrays = [i for i, v in enumerate(row) if isinstance(v, list)]
            if arrays:
                zipped = sorted(zip(*(row[i] for i in arrays)), key=key)
                row = list(row)
                for j, i in enumerate(arrays):
                    row[i] = [z[j] for z in zipped]
                row = tuple(row)
            out.append(row)
        rows = out
    return rows if top_level_order_by(sql) else sorted(rows, key=key)


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= FLOAT_TOLERANCE * max(1.0, abs(a), abs(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def short(v, n=600):
    s = repr(v)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} characters)"


def settings_of(params):
    skip = {"database", "default_format", "decompress", "compress", "query"}
    return [(k, v) for k, v in params.items() if k not in skip]


def with_settings(sql, settings):
    if not settings:
        return sql
    values = ", ".join(f"{k} = {v if re.fullmatch(r'[0-9]+', v) else repr(v)}" for k, v in settings)
    return f"{sql}\nSETTINGS {values}"


def main():
    record_dir = sys.argv[1]
    with open(os.path.join(record_dir, "record.jsonl")) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    failures, tally = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        lib = session.Session(tmp)
        lib.query("SET session_timezone = 'UTC'")
        version = lib.query("SELECT version()", "TSV").bytes().decode().strip()
        current = None

        def run(sql, fmt="RowBinaryWithNamesAndTypes"):
            try:
                return lib.query(sql, fmt)
            except Exception as err:
                raise EngineError(str(err)) from err

        for e in entries:
            n, label, sql, params = e["n"], e["label"], e["sql"], e["params"]
            kinds = tally.setdefault(label, {})
            kind = "insert" if e["rows"] is not None else "select" if e["types"] is not None else (
                sql.split()[0].upper() if sql.split() else "empty")
            if "system.mutations" in sql:
                kind = "mutation wait"
            kinds[kind] = kinds.get(kind, 0) + 1
            with open(os.path.join(record_dir, e["answer"]), "rb") as f:
                old_answer = f.read()

            def fail(why):
                failures.append(n)
                print(f"\nDIFFERS #{n} [{label}]: {why}\n  statement: {sql.strip()}", flush=True)

            try:
                database = params.get("database", "default")
                if database != current:
                    run(f"USE {database}", "TSV")
                    current = database
                if e["status"] != 200:
                    fail(f"failed on 18.16 ({e['status']}): {old_answer[:300]!r}")
                    continue
                if e["rows"] is not None:
                    m = re.fullmatch(r"\s*INSERT INTO\s+`?(\w+)`?\s*\((.*)\)\s*FORMAT RowBinary\s*", sql, re.S)
                    if not m:
                        fail("not an insert in RowBinary")
                        continue
                    table, columns = m.group(1), [c.strip().strip("`") for c in m.group(2).split(",")]
                    typed = dict((name, t) for name, t in read_with_header(run(
                        f"SELECT name, type FROM system.columns WHERE database = currentDatabase()"
                        f" AND table = '{table}'").bytes())[2])
                    types = [typed[c] for c in columns]
                    path = os.path.join(record_dir, e["rows"])
                    with open(path, "rb") as f:
                        sent = len(read_rows(f.read(), types))
                    structure = ", ".join(f"{c} {t}" for c, t in zip(columns, types)).replace("'", "\\'")
                    cols = ", ".join(columns)
                    res = run(f"INSERT INTO {table} ({cols}) SELECT * FROM file('{path}', 'RowBinary',"
                              f" '{structure}')", "TSV")
                    if res.rows_written() != sent:
                        fail(f"{sent} rows sent, {res.rows_written()} written")
                elif e["types"] is not None:
                    old_types = e["types"]
                    query = with_settings(sql, settings_of(params))
                    if "system.mutations" in sql:
                        if read_rows(old_answer, old_types) != [(0,)]:
                            run(query)
                            continue
                        deadline = time.monotonic() + POLL_SECONDS
                        while True:
                            _, new_types, new_rows = read_with_header(run(query).bytes())
                            if new_rows == [(0,)] or time.monotonic() > deadline:
                                break
                            time.sleep(0.05)
                    else:
                        _, new_types, new_rows = read_with_header(run(query).bytes())
                    if new_types and new_types != old_types:
                        fail(f"types differ: 18.16 {old_types}, {version} {new_types}")
                        continue
                    old_rows = read_rows(old_answer, old_types)
                    a, b = normalise(old_rows, sql), normalise(new_rows, sql)
                    if not same(a, b):
                        fail(f"answers differ\n  18.16: {short(a)}\n  {version}: {short(b)}")
                else:
                    run(with_settings(sql, settings_of(params)), "TSV")
            except EngineError as err:
                fail(f"fails on {version}: {str(err)[:500]}")
            except Exception as err:  # an answer that cannot be read is a failure too
                fail(f"could not compare: {err!r}"[:500])
        lib.close()
    print(f"\nClickHouse 18.16 (recorded) against {version} (chDB): {len(entries)} requests replayed")
    for label in sorted(tally):
        print(f"  {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally[label].items())))
    if failures:
        print(f"{len(failures)} differ or fail: #" + ", #".join(map(str, failures)))
        sys.exit(1)
    print("every answer the same")


if __name__ == "__main__":
    main()
