"""Runs every case under tests/golden/cases/<name>/:

  input.json      an OTLP/JSON request (signal from pipeline.json's source type)
  pipeline.json   a v3 pipeline whose sink mapping is exercised
  columns.tsv     the sink table's columns as DESCRIBE TABLE prints them (name, type)
  expected.jsonl  the flattened records (`sluice flatten`)
  expected.tsv    the rows, as a current ClickHouse (chDB) reads the RowBinary that
                  `sluice encode` produced for the table's types

The expected files were written by UPDATE_GOLDEN=1 and then checked by hand against the
OTLP input; they change only with a reviewed diff. Prints "golden: N passed, N failed".
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLUICE = os.path.join(ROOT, "build", "release", "sluice")
CASES = os.path.join(ROOT, "tests", "golden", "cases")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
CHDB = """const {query} = require('chdb');
const [file, structure] = process.argv.slice(1);
const source = structure === '-' ? `file('${file}', 'Native')`
                                 : `file('${file}', 'RowBinary', '${structure.replace(/'/g, "\\\\'")}')`;
process.stdout.write(query(`SELECT * FROM ${source} FORMAT TabSeparated`, 'TabSeparated'));
"""

passed = failed = 0


def check(name, got, want_path):
    global passed, failed
    if UPDATE:
        open(want_path, "w").write(got)
    want = open(want_path).read() if os.path.exists(want_path) else None
    if got == want:
        passed += 1
        print(f"  ok   {name}")
    else:
        failed += 1
        print(f"  FAIL {name}\n--- got\n{got}\n--- want\n{want}")


def run(cmd, stdin):
    p = subprocess.run(cmd, input=stdin, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: {p.stderr.decode()}")
    return p.stdout, p.stderr.decode()


def main():
    for name in sorted(os.listdir(CASES)):
        d = os.path.join(CASES, name)
        pipeline = json.load(open(os.path.join(d, "pipeline.json")))
        signal = pipeline["sources"][0]["type"].split(".")[1]
        body = open(os.path.join(d, "input.json"), "rb").read()
        print(name)
        try:
            flat, _ = run([SLUICE, "flatten", "--signal", signal, "--json"], body)
            check(f"{name}: flattened records", flat.decode(), os.path.join(d, "expected.jsonl"))
            rows_bin, err = run([SLUICE, "encode", "--pipeline", os.path.join(d, "pipeline.json"),
                                 "--columns", os.path.join(d, "columns.tsv"), "--json"], body)
            structure = [l for l in err.splitlines() if l.startswith("structure: ")][0][len("structure: "):]
            with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
                f.write(rows_bin)
            rows, _ = run(["node", "-e", CHDB, f.name, structure], b"")
            os.unlink(f.name)
            check(f"{name}: rows read back by ClickHouse (chDB)", rows.decode(), os.path.join(d, "expected.tsv"))
            # The same rows as the Native block the sink sends: read by chDB from the block
            # alone (its own column names and types), they must be the very same rows.
            block, _ = run([SLUICE, "encode", "--pipeline", os.path.join(d, "pipeline.json"),
                            "--columns", os.path.join(d, "columns.tsv"), "--json", "--native"], body)
            with tempfile.NamedTemporaryFile(suffix=".native", delete=False) as f:
                f.write(block)
            native_rows, _ = run(["node", "-e", CHDB, f.name, "-"], b"")
            os.unlink(f.name)
            if not UPDATE:
                check(f"{name}: the Native block read back by ClickHouse (chDB)", native_rows.decode(),
                      os.path.join(d, "expected.tsv"))
        except Exception as e:  # report and continue with the next case
            global failed
            failed += 1
            print(f"  FAIL {name}: {e}")
    print(f"golden: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    os.chdir(os.path.join(ROOT, "tests", "clients"))  # so that node finds chdb
    sys.exit(main())
