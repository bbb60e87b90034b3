#!/usr/bin/python3
"""The validator against OpenSSL's verdicts, case by case (issue 9).

    python3 tests/x509/run_diff.py [--cases DIR] [--bin X509CHECK]
        [--out FILE] [--allow FILE] [--jobs N]

DIR (default build/x509/cases) is a corpus made by gen.py and judged by
judge.py; X509CHECK (default $X509CHECK, else build/x509/x509check) is
run once per case: x509check BUNDLE CHAIN HOST NOW.

Every case falls in one of:
  agree          both accept, or both refuse
  false accept   the validator accepts what OpenSSL (with Go's no-CN rule)
                 refuses: a security bug, unless the case is named in the
                 --allow file (one case name a line, '#' comments) with
                 the reason it is acceptable
  strict-only    a false accept where only -x509_strict refuses (RFC 5280
                 form rules Go does not apply either): reported, not a
                 failure
  false refusal  the validator refuses what OpenSSL accepts: listed by
                 the validator's refusal code, and written to --out
                 (default build/x509/false-refusals.md), ready for the
                 README's known limits
  error          x509check crashed, a sanitizer reported, it timed out,
                 or it exited 2 (its two judgements disagreed)

Exit status 1 when there is any false accept (not allowed) or error. The
last line is "x509-diff: N passed, M failed" (failed: false accepts and
errors).
"""

import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:exitcode=86:abort_on_error=0",
    "UBSAN_OPTIONS": "halt_on_error=1:exitcode=87:print_stacktrace=1",
}


def run_check(binary, d, host, now):
    env = dict(os.environ)
    env.update(SAN_ENV)
    argv = [binary, os.path.join(d, "bundle.pem"),
            os.path.join(d, "chain.pem"), host, str(now)]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           env=env, timeout=30)
    except subprocess.TimeoutExpired:
        return {"kind": "error", "detail": "timed out after 30 s"}
    out = p.stdout.decode(errors="replace").strip()
    err = p.stderr.decode(errors="replace").strip()
    if "Sanitizer" in err or "runtime error:" in err:
        return {"kind": "error", "detail": "sanitizer report:\n" + err}
    if p.returncode == 0 and out == "accept":
        return {"kind": "accept", "detail": err}
    if p.returncode == 1 and out.startswith("refuse "):
        parts = out.split(" ", 2)
        return {"kind": "refuse", "code": parts[1],
                "text": parts[2] if len(parts) > 2 else "", "detail": err}
    return {"kind": "error", "detail": "exit %d, stdout %r, stderr %r" % (
        p.returncode, out[:300], err[:600])}


def load_allow(path):
    allow = {}
    if not path or not os.path.exists(path):
        return allow
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)
            name, why = line[0].strip(), (line[1].strip()
                                          if len(line) > 1 else "")
            if name:
                allow[name] = why
    return allow


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=os.path.join(REPO, "build", "x509",
                                                    "cases"))
    ap.add_argument("--bin", default=os.environ.get("X509CHECK") or
                    os.path.join(REPO, "build", "x509", "x509check"))
    ap.add_argument("--out", default=os.path.join(REPO, "build", "x509",
                                                  "false-refusals.md"))
    ap.add_argument("--allow", default=os.path.join(HERE, "allow.txt"))
    ap.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("--json", default=None,
                    help="also write every result to this file")
    args = ap.parse_args(argv)

    if not os.access(args.bin, os.X_OK):
        sys.stderr.write("run_diff: %s is not built\n" % args.bin)
        return 2
    with open(os.path.join(args.cases, "cases.json")) as f:
        index = json.load(f)
    with open(os.path.join(args.cases, "verdicts.json")) as f:
        verdicts = json.load(f)["verdicts"]
    allow = load_allow(args.allow)
    now = index["now"]
    cases = index["cases"]

    def one(meta):
        d = os.path.join(args.cases, meta["name"])
        return meta, verdicts[meta["name"]], run_check(args.bin, d,
                                                       meta["host"], now)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        results = list(ex.map(one, cases))

    agree, false_acc, allowed, strict_only, errors = [], [], [], [], []
    refusals = collections.defaultdict(list)
    for meta, v, r in results:
        if r["kind"] == "error":
            errors.append((meta, v, r))
        elif r["kind"] == "accept" and v["verdict"] == "refuse":
            if v["strict_only"]:
                strict_only.append((meta, v, r))
            elif meta["name"] in allow:
                allowed.append((meta, v, r))
            else:
                false_acc.append((meta, v, r))
        elif r["kind"] == "refuse" and v["verdict"] == "accept":
            refusals[(r["code"], r["text"])].append((meta, v, r))
        else:
            agree.append((meta, v, r))
    n_ref = sum(len(x) for x in refusals.values())

    print("x509-diff: %d cases, %d agreements, %d false accepts, %d false "
          "refusals, %d strict-only accepts, %d allowed, %d errors" % (
              len(results), len(agree), len(false_acc), n_ref,
              len(strict_only), len(allowed), len(errors)))
    if false_acc:
        print("\nFALSE ACCEPTS (the validator accepts, OpenSSL/Go refuses):")
        for meta, v, _ in false_acc:
            go = " [Go: %s]" % meta["go"] if meta.get("go") else ""
            print("  %s (host %s): %s%s" % (
                meta["name"], meta["host"], v["reason"], go))
            if meta.get("note"):
                print("      %s" % meta["note"])
    if errors:
        print("\nERRORS:")
        for meta, _, r in errors:
            print("  %s: %s" % (meta["name"], r["detail"][:2000]))
    if strict_only:
        print("\nstrict-only accepts (only -x509_strict refuses; Go "
              "accepts):")
        for meta, v, _ in strict_only:
            print("  %s: %s" % (meta["name"], v["reason"]))
    if allowed:
        print("\nallowed false accepts (%s):" % args.allow)
        for meta, v, _ in allowed:
            print("  %s: %s -- %s" % (meta["name"], v["reason"],
                                      allow[meta["name"]]))
    if refusals:
        print("\nfalse refusals by the validator's code (OpenSSL accepts):")
        for (code, text), items in sorted(refusals.items(),
                                          key=lambda kv: int(kv[0][0])):
            print("  code %s (%d): %s" % (code, len(items), text))
            for meta, _, _ in items:
                print("      %s" % meta["name"])

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("Chains OpenSSL accepts (openssl verify -x509_strict "
                "-partial_chain -purpose sslserver, host checked) that the "
                "sidecar refuses, from the differential test "
                "(tests/x509, %d cases):\n\n" % len(results))
        for (code, text), items in sorted(refusals.items(),
                                          key=lambda kv: int(kv[0][0])):
            f.write("* %s (code %s), %d case%s: %s\n" % (
                text, code, len(items),
                "" if len(items) == 1 else "s",
                ", ".join(m["name"] for m, _, _ in items)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"name": m["name"], "openssl": v["verdict"],
                        "reason": v["reason"], "validator": r}
                       for m, v, r in results], f, indent=1)
    print("\nfalse refusals written to %s" % args.out)
    failed = len(false_acc) + len(errors)
    print("x509-diff: %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
