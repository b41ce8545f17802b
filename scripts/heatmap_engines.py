"""The heatmap's ClickHouse queries on 18.16 (the server the tests start) and
on a current engine (chDB 26.9, ClickHouse as a library), over the same
million clicks, alternating, in one run (BENCHMARKS.md, "Heatmaps").

The statements are those of `server/src/store/clickhouse/heatmap.rs` with
their parameters bound for one product page and all time; the table is that
of `server/src/store/clickhouse/schema.rs`, filled by `numbers()`: 85% of the
clicks anchored to one of 440 elements, the rest placed by coordinates only,
2% rage and 3% dead, then merged (`OPTIMIZE ... FINAL`), as background merges
leave it.

Usage: heatmap_engines.py CLICKHOUSE_URL [rounds]
"""

import statistics
import sys
import tempfile
import time
import urllib.request

from chdb import session

TABLE = """CREATE TABLE {db}.heat_clicks (
    site_id UInt32, bucket UInt8, grp UInt8, page UInt64, path String, time UInt64, event UInt64, visitor UInt64,
    x Int32, y Int32, rx Int16, ry Int16, bin UInt16, selector String, sel UInt64, rage UInt8, dead UInt8
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (site_id, bucket, grp, page, time, event)"""

FILL = """INSERT INTO {db}.heat_clicks SELECT 1, 2, 1, 777, '/products/tee', 1763800000000 + number * 2592,
  intHash64(number), intHash64(number) % 20000, intHash32(number) % 1280, intHash32(number + 1) % 4000, 0, 0,
  if(intHash32(number + 2) % 100 < 85, (intHash32(number + 3) % 20) * 20 + intHash32(number + 4) % 20, 65535),
  concat('#shop > main .product:nth-child(', toString(intHash32(number + 5) % 440), ') > button'),
  bitShiftLeft(intHash64(intHash32(number + 5) % 440), 16),
  intHash32(number + 6) % 100 < 2, intHash32(number + 6) % 100 BETWEEN 2 AND 4
  FROM numbers(1000000)"""

F = ("site_id = 1 AND bucket = 2 AND grp = 1 AND page = 777 AND path = '/products/tee'"
     " AND time >= 0 AND time < 9223372036854775807")
QUERIES = {
    "total": f"SELECT count() FROM {{db}}.heat_clicks FINAL WHERE {F}",
    "elements": "SELECT k - bitAnd(k, 511) AS sel, sum(n) AS clicks, sum(r) AS rage, sum(d) AS dead,"
    " groupArray(toUInt16(bitAnd(k, 511))) AS bins, groupArray(n) AS counts"
    " FROM (SELECT sel + bin AS k, count() AS n, sum(rage) AS r, sum(dead) AS d"
    f" FROM {{db}}.heat_clicks FINAL WHERE {F} AND bin < 400 GROUP BY k) GROUP BY sel",
    "names": f"SELECT sel, any(selector) AS selector FROM {{db}}.heat_clicks WHERE {F} AND bin < 400 GROUP BY sel",
    "grid": "SELECT toUInt32(intDiv(x, 10)) AS col, toUInt32(intDiv(y, 10)) AS row, count() AS n"
    f" FROM {{db}}.heat_clicks FINAL WHERE {F} AND bin = 65535 AND x >= 0 AND y >= 0 GROUP BY col, row",
}


def main():
    url = sys.argv[1].rstrip("/")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    db = "lummmen_heatmap_engines"

    def server(sql):
        req = urllib.request.Request(f"{url}/", data=sql.encode())
        return urllib.request.urlopen(req).read().decode()

    with tempfile.TemporaryDirectory() as tmp:
        lib = session.Session(tmp)
        version = lib.query("SELECT version()", "TSV").bytes().decode().strip()
        print(f"ClickHouse {server('SELECT version()').strip()} (server) against {version} (chDB)")
        for run in (server, lambda sql: lib.query(sql)):
            run(f"DROP DATABASE IF EXISTS {db}")
            run(f"CREATE DATABASE {db}")
            run(TABLE.format(db=db))
            run(FILL.format(db=db))
            run(f"OPTIMIZE TABLE {db}.heat_clicks FINAL")
        print(f"query: p50 ms over {rounds} alternating rounds, server / chDB")
        for name, sql in QUERIES.items():
            sql = sql.format(db=db)
            old, new = [], []
            for _ in range(rounds):
                t = time.perf_counter()
                server(sql + " FORMAT Null")
                old.append((time.perf_counter() - t) * 1e3)
                t = time.perf_counter()
                lib.query(sql, "Null")
                new.append((time.perf_counter() - t) * 1e3)
            a, b = statistics.median(old), statistics.median(new)
            print(f"{name}: {a:.0f} / {b:.0f} ({a / b:.1f}x)")
        server(f"DROP DATABASE {db}")
        lib.close()


if __name__ == "__main__":
    main()
