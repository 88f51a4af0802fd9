#!/usr/bin/env python3
"""Reads a `cosx export` Parquet file and CSV file back with pyarrow, an
independent reader, and checks them against what the API returned.

    python3 tests/scripts/check_export.py --parquet orders.parquet \
        --csv orders.csv --expect expected.json

expected.json is a JSON list of objects with "name", "quantity" and
"requiredBy" (the API's values for the same party).

    python3 tests/scripts/check_export.py --tms-parquet availability-tms.parquet \
        --tms-expect tms.json --demand-parquet demand.parquet

checks the DoDI 3110.05 TMS table (timeframeStart DATE, aM/aO DOUBLE with
nulls, tai INT64) against the API's metrics ("tms", "timeframeStart", "aM",
"aO" per row, in order), and that a demand file's suppressed cells carry no
counts. Exit status 0 when the files hold exactly those rows with typed
Parquet columns, 1 otherwise (the reason on stderr), 2 when pyarrow is missing.
"""

import argparse
import datetime
import json
import sys

try:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
except ImportError:
    print("pyarrow is not installed: pip install pyarrow", file=sys.stderr)
    sys.exit(2)


def fail(message):
    print(f"check_export: {message}", file=sys.stderr)
    sys.exit(1)


def check_tms(path, expect_path):
    with open(expect_path, encoding="utf-8") as f:
        expected = json.load(f)
    table = pq.read_table(path)
    schema = table.schema
    for name, want in (("timeframeStart", pa.date32()), ("timeframeEnd", pa.date32()), ("aM", pa.float64()),
                       ("aO", pa.float64()), ("tai", pa.int64()), ("cdaCostCents", pa.int64())):
        if schema.field(name).type != want:
            fail(f"{path}: {name} is {schema.field(name).type}, expected {want}")
    rows = table.select(["tms", "timeframeStart", "aM", "aO"]).to_pylist()
    if len(rows) != len(expected):
        fail(f"{path} holds {len(rows)} rows, the API {len(expected)}")
    for got, want in zip(rows, expected):
        want_row = (want["tms"], datetime.date.fromisoformat(want["timeframeStart"]), want["aM"], want["aO"])
        if (got["tms"], got["timeframeStart"], got["aM"], got["aO"]) != want_row:
            fail(f"{path}: row {got} differs from the API's {want}")
    print(f"check_export: {len(rows)} TMS rows match in {path}")


def check_demand(path):
    table = pq.read_table(path)
    if table.schema.field("period.startDate").type != pa.date32():
        fail(f"{path}: period.startDate is {table.schema.field('period.startDate').type}, expected date32")
    rows = table.select(["suppressed", "orders", "quantity", "laborHours"]).to_pylist()
    withheld = [r for r in rows if r["suppressed"]]
    for r in withheld:
        if any(r[k] not in (None, 0) for k in ("orders", "quantity", "laborHours")):
            fail(f"{path}: a suppressed cell carries counts: {r}")
    print(f"check_export: {len(rows)} demand cells in {path}, {len(withheld)} suppressed and empty")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--parquet")
    parser.add_argument("--csv")
    parser.add_argument("--expect")
    parser.add_argument("--tms-parquet")
    parser.add_argument("--tms-expect")
    parser.add_argument("--demand-parquet")
    args = parser.parse_args()
    if args.tms_parquet:
        check_tms(args.tms_parquet, args.tms_expect)
    if args.demand_parquet:
        check_demand(args.demand_parquet)
    if not args.parquet:
        return
    with open(args.expect, encoding="utf-8") as f:
        expected = sorted(json.load(f), key=lambda r: r["name"])

    table = pq.read_table(args.parquet)
    schema = table.schema
    if schema.field("requiredBy").type != pa.date32():
        fail(f"requiredBy is {schema.field('requiredBy').type}, expected date32")
    created = schema.field("createTime").type
    if not (pa.types.is_timestamp(created) and created.unit == "us" and created.tz in ("UTC", "+00:00")):
        fail(f"createTime is {created}, expected timestamp[us, tz=UTC]")
    if not pa.types.is_integer(schema.field("quantity").type):
        fail(f"quantity is {schema.field('quantity').type}, expected an integer")
    parquet_rows = sorted(table.select(["name", "quantity", "requiredBy"]).to_pylist(), key=lambda r: r["name"])
    if len(parquet_rows) != len(expected):
        fail(f"parquet holds {len(parquet_rows)} rows, the API {len(expected)}")
    for got, want in zip(parquet_rows, expected):
        want_date = datetime.date.fromisoformat(want["requiredBy"])
        if (got["name"], got["quantity"], got["requiredBy"]) != (want["name"], want["quantity"], want_date):
            fail(f"parquet row {got} differs from the API's {want}")

    # CSV: every column as text, as an analyst's tool would first see it.
    names = pacsv.read_csv(args.csv).column_names
    csv_table = pacsv.read_csv(
        args.csv, convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names})
    )
    csv_rows = sorted(csv_table.select(["name", "quantity", "requiredBy"]).to_pylist(), key=lambda r: r["name"])
    if len(csv_rows) != len(expected):
        fail(f"csv holds {len(csv_rows)} rows, the API {len(expected)}")
    for got, want in zip(csv_rows, expected):
        if (got["name"], int(got["quantity"]), got["requiredBy"]) != (want["name"], want["quantity"], want["requiredBy"]):
            fail(f"csv row {got} differs from the API's {want}")
    print(f"check_export: {len(expected)} rows match in {args.parquet} and {args.csv}")


if __name__ == "__main__":
    main()
