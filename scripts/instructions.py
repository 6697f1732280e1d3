#!/usr/bin/env python3
"""Instructions per login under callgrind: the repeatable figure behind every
change in docs/performance.md (CPU time on a shared machine moves by 20 %
between runs; these counts repeat within 0.2 %).

    cargo build --release
    python3 scripts/instructions.py A per_instance 100    # or F, and per_execution

Starts target/release/detour under `valgrind --tool=callgrind` with the load
benchmark's allow-path Actions (scenario A, tests/fixtures/bench/allow.toml)
or none (scenario F) on the in-memory store, warms it up (each engine thread
loads its Actions before its first login), zeroes the counters, sends N
logins on one keep-alive connection, dumps, and prints the instructions per
login. `--profile` prints the top of the inclusive profile too. Needs
valgrind (apt-get install valgrind).
"""
import argparse
import glob
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ACTIONS = {
    "F": [],
    "A": [("roles-claims", "actions/roles-claims.js"),
          ("block-by-domain", "actions/block-by-domain.js"),
          ("set-metadata", "tests/fixtures/bench/set-metadata.js")],
}
API_KEY = "instructions-api-key"
RESULT_SECRET = "instructions-result-secret-of-32-bytes-or-more"
RETURN_TO = "http://127.0.0.1:9/callback"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(ACTIONS))
    ap.add_argument("isolation", choices=["per_instance", "per_execution"])
    ap.add_argument("logins", type=int)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/detour"))
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is missing (apt-get install valgrind)")
    if not os.path.exists(a.binary):
        sys.exit(f"no binary at {a.binary}: run cargo build --release first")
    work = tempfile.mkdtemp(prefix="detour-instructions-")
    port = free_port()
    config = ["[server]", f'listen = "127.0.0.1:{port}"', f'public_url = "http://127.0.0.1:{port}"', "",
              "[engine]", f'isolation = "{a.isolation}"', "",
              "[[upstreams]]", 'id = "bench"', 'api_key_env = "INSTR_API_KEY"',
              'result_secret_env = "INSTR_RESULT_SECRET"', f'return_to = ["{RETURN_TO}"]', ""]
    for name, path in ACTIONS[a.scenario]:
        config += ["[[actions]]", f'name = "{name}"', f'file = "{os.path.join(ROOT, path)}"', ""]
    with open(os.path.join(work, "detour.toml"), "w") as f:
        f.write("\n".join(config))
    env = dict(os.environ, INSTR_API_KEY=API_KEY, INSTR_RESULT_SECRET=RESULT_SECRET)
    env.pop("DETOUR_CONFIG", None)
    out = os.path.join(work, "callgrind.out")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
         a.binary, "--config", "detour.toml"],
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                c.request("GET", "/healthz")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        with open(os.path.join(ROOT, "tests/fixtures/bench/event.json")) as f:
            body = json.dumps({"event": json.load(f), "return_to": RETURN_TO, "transaction_id": "t"})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def login():
            conn.request("POST", "/v1/post-login", body, headers)
            r = conn.getresponse()
            answer = r.read()
            if r.status != 200:
                sys.exit(f"login answered {r.status}: {answer[:300]!r}")

        # Under callgrind the last engine threads may still be loading their
        # Actions after the first logins: wait, then warm up again.
        for _ in range(20):
            login()
        time.sleep(3)
        for _ in range(40):
            login()
        subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True, capture_output=True)
        for _ in range(a.logins):
            login()
        subprocess.run(["callgrind_control", "-d", "measured", str(server.pid)], check=True, capture_output=True)
    finally:
        server.terminate()
        server.wait(60)
    total = 0
    measured = []
    for path in glob.glob(out + "*"):
        with open(path, errors="replace") as f:
            text = f.read()
        if "measured" not in text[:4000]:
            continue
        measured.append(path)
        for line in text.splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
                break
    print(json.dumps({"scenario": a.scenario, "isolation": a.isolation, "logins": a.logins,
                      "instructions_per_login": total // max(a.logins, 1), "callgrind_out": measured}))
    if a.profile and measured:
        subprocess.run(f"callgrind_annotate --inclusive=yes {measured[0]} | head -80", shell=True)


if __name__ == "__main__":
    main()
