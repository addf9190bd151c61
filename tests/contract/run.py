#!/usr/bin/env python3
"""The upstream contracts, held by a test suite nobody here wrote.

Starts a real appliance (`rackboot serve` on 127.0.0.1, port 0, its own temporary data dir),
seeds it with a few records, and runs schemathesis (pinned in scripts/peers.sh) over every
contract listed in specs.txt with every check schemathesis has, a fixed seed and a bounded
number of examples per operation. The specs are the vendored upstream files
(tests/fixtures/specs/), never edited: what the run changes in them comes from rules.yaml, one
rule per change, each with its reason, applied to a copy in the output directory:
  - kind `spec`: the vendored spec is wrong about upstream (what upstream really sends);
  - kind `difference`: rackboot differs on purpose; the README's "Contract differences" says so;
  - kind `unserved`: operations of an `all` contract that rackboot does not serve, and why;
  - kind `run`: how the run generates for some operations (`generation-mode`), not a change to
    the contract.
A rule is a JSON patch on the spec (`patch`), a media-type rename over every response
(`media-type`), a response added to the operations matching a regex on "METHOD /path"
(`add-response`), or a check's expected statuses for the operations matching such a regex
(`operations` + `check`), written into the schemathesis.toml of that contract. A rule that no longer applies (its
pointer is gone) fails the run, so the rules cannot rot silently.

Why a script of our own around schemathesis: the served-subset filter, the rules with reasons
and the summary line are ours; generation, the checks and shrinking are schemathesis's.

Usage: run.py [--only NAME[,NAME]] [--examples N] [--seed N] [--binary PATH] [--out DIR] [--report-only]
Prints one block per contract and closes with `contract: N passed, M failed`.
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SPECS = REPO / "tests" / "fixtures" / "specs"


class _Loader(yaml.SafeLoader):
    """YAML as the specs' own tools read it (YAML 1.2 core): a date stays the string it was
    written as, and `on`/`off`/`yes`/`no` are strings (PCS's operation enum lists `on` and
    `off` unquoted); only true/false are booleans."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
# The statuses schemathesis accepts by default for these checks (a rule adds to them).
DEFAULT_STATUSES = {
    "positive_data_acceptance": ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"],
    "not_a_server_error": ["2xx", "3xx", "4xx"],
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def read_specs():
    specs = []
    for line in (HERE / "specs.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, file, prefix, paths, subset = line.split()
        if subset not in ("all", "served"):
            sys.exit(f"specs.txt: {name}: subset must be `all` or `served`, not {subset!r}")
        specs.append({"name": name, "file": file, "prefix": prefix, "paths": paths, "subset": subset})
    return specs


def read_rules():
    rules = yaml.safe_load((HERE / "rules.yaml").read_text()) or []
    for i, rule in enumerate(rules):
        where = f"rules.yaml rule {i + 1} ({rule.get('spec')})"
        if rule.get("kind") not in ("spec", "difference", "unserved", "run"):
            sys.exit(f"{where}: kind must be spec, difference, unserved or run")
        if not str(rule.get("why", "")).strip():
            sys.exit(f"{where}: every rule says why")
        rule["where"] = where
    return rules


# --- JSON pointers and patches (RFC 6901/6902, the subset the rules use) ---------------------


def _unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def _resolve(doc, pointer, where):
    parts = [_unescape(p) for p in pointer.split("/")[1:]]
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            sys.exit(f"{where}: {pointer}: no {part!r} in the spec (the rule no longer applies)")
    return node, parts[-1]


def apply_patch(doc, ops, where):
    for op in ops:
        parent, last = _resolve(doc, op["path"], where)
        kind = op["op"]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(index, op["value"])
            elif kind == "replace":
                parent[index] = op["value"]
            elif kind == "remove":
                del parent[index]
            continue
        if kind in ("replace", "remove") and last not in parent:
            sys.exit(f"{where}: {op['path']}: nothing there to {kind} (the rule no longer applies)")
        if kind == "remove":
            del parent[last]
        else:
            parent[last] = op["value"]


def deref(doc, node):
    """A `$ref` within the document, followed (once)."""
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not ref:
        return node
    target = doc
    for part in ref.lstrip("#/").split("/"):
        target = target[_unescape(part)]
    return target


def rename_media_types(doc, old, new, where):
    """Rename a media type in every response (OpenAPI 3 `content`, Swagger 2 `produces`)."""
    count = 0

    def walk(node):
        nonlocal count
        if isinstance(node, dict):
            for key, value in list(node.items()):
                if key == "content" and isinstance(value, dict) and old in value:
                    value[new] = value.pop(old)
                    count += 1
                elif key == "produces" and isinstance(value, list) and old in value:
                    node[key] = [new if v == old else v for v in value]
                    count += 1
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    if count == 0:
        sys.exit(f"{where}: no response has media type {old} (the rule no longer applies)")


# --- The served subset ------------------------------------------------------------------------


def served_methods(base, path):
    """What the appliance serves on a spec path: TRACE is served nowhere, so the router answers
    405 with `Allow` on a served path, the 404 fallback ("no such endpoint") elsewhere, and 501
    on a path that is answered, on every method, with a problem saying it is not implemented."""
    url = base + re.sub(r"\{[^}]+\}", "x", path)
    request = urllib.request.Request(url, method="TRACE")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        if e.code == 405:
            return {m.strip().lower() for m in e.headers.get("allow", "").split(",") if m.strip()}
        if e.code == 404 and "no such endpoint" in body:
            return set()
        if e.code == 501:
            # Answered on every method with a 501 problem saying why (CFS sessions): not
            # served, so an `unserved` rule must name it like any other.
            return set()
        sys.exit(f"served probe: TRACE {url} answered {e.code}: {body}")
    sys.exit(f"served probe: TRACE {url} answered 2xx")


def operations(doc, regex):
    for path, item in doc.get("paths", {}).items():
        if re.search(regex, path):
            for method in METHODS:
                if method in item:
                    yield path, method


def prepare(spec, rules, origin, out):
    where = f"specs.txt {spec['name']}"
    doc = yaml.load((SPECS / spec["file"]).read_text(), Loader=_Loader)
    base = origin + spec["prefix"]
    mine = [r for r in rules if r["spec"] == spec["name"]]
    unserved = [r for r in mine if r["kind"] == "unserved"]
    kept, dropped, missing = [], [], []
    for path, item in list(doc["paths"].items()):
        if not re.search(spec["paths"], path):
            del doc["paths"][path]
            continue
        served = served_methods(base, path)
        for method in [m for m in METHODS if m in item]:
            op = f"{method.upper()} {path}"
            excused = [r for r in unserved if re.search(r["operations"], op)]
            if method in served and not excused:
                kept.append(op)
                continue
            if method in served:
                sys.exit(f"{excused[0]['where']}: {op} is served now: drop it from the rule")
            del item[method]
            dropped.append(op)
            if spec["subset"] == "all" and not excused:
                missing.append(op)
        if not any(m in item for m in METHODS):
            del doc["paths"][path]
    for rule in unserved:
        if not any(re.search(rule["operations"], op) for op in dropped):
            sys.exit(f"{rule['where']}: matches no unserved operation (the rule no longer applies)")
    if missing:
        sys.exit(f"{where}: not served and no `unserved` rule says why: {', '.join(missing)}")

    toml, excluded = [], []
    for rule in mine:
        if rule["kind"] == "unserved":
            continue
        if "patch" in rule:
            apply_patch(doc, rule["patch"], rule["where"])
        if "media-type" in rule:
            rename_media_types(doc, rule["media-type"]["from"], rule["media-type"]["to"], rule["where"])
        if "remove-parameter" in rule:
            rm = rule["remove-parameter"]
            hits = 0
            for op in kept:
                if not re.search(rm["operations"], op):
                    continue
                method, path = op.split(" ", 1)
                for holder in (doc["paths"][path], doc["paths"][path][method.lower()]):
                    params = holder.get("parameters", [])
                    keep = [q for q in params if deref(doc, q).get("name") != rm["name"]]
                    hits += len(params) - len(keep)
                    if params:
                        holder["parameters"] = keep
            if hits == 0:
                sys.exit(f"{rule['where']}: no operation takes {rm['name']} (the rule no longer applies)")
        if "add-response" in rule:
            add = rule["add-response"]
            hits = 0
            for op in kept:
                if not re.search(add["operations"], op):
                    continue
                method, path = op.split(" ", 1)
                responses = doc["paths"][path][method.lower()].setdefault("responses", {})
                if str(add["status"]) not in responses:
                    responses[str(add["status"])] = copy.deepcopy(add["response"])
                    hits += 1
            if hits == 0:
                sys.exit(f"{rule['where']}: every matching operation documents {add['status']} (the rule no longer applies)")
        if "generation-mode" in rule:
            if not any(re.search(rule["operations"], op) for op in kept):
                sys.exit(f"{rule['where']}: {rule['operations']} matches no tested operation (the rule no longer applies)")
            toml += [
                f"# {rule['where']}: {' '.join(str(rule['why']).split())}",
                "[[operations]]",
                f"include-name-regex = {json.dumps(rule['operations'])}",
                f"generation.mode = {json.dumps(rule['generation-mode'])}",
                "",
            ]
        if "check" in rule and "operations" not in rule:
            # The whole contract (the stateful phase reads no per-operation settings, and
            # `--checks all` outranks the config file, so this is `--exclude-checks`).
            if rule.get("enabled") is not False:
                sys.exit(f"{rule['where']}: a rule for the whole contract can only turn a check off")
            excluded.append(rule["check"])
        elif "check" in rule:
            if not any(re.search(rule["operations"], op) for op in kept):
                sys.exit(f"{rule['where']}: {rule['operations']} matches no tested operation (the rule no longer applies)")
            # A rule's statuses are added to the check's own defaults (409, 5xx, ... stay).
            statuses = DEFAULT_STATUSES.get(rule["check"], []) + [
                str(s) for s in rule.get("expected-statuses", []) if str(s) not in DEFAULT_STATUSES.get(rule["check"], [])]
            setting = (f"checks.{rule['check']}.enabled = false" if rule.get("enabled") is False else
                       f"checks.{rule['check']}.expected-statuses = {json.dumps(statuses)}")
            toml += [
                f"# {rule['where']}: {' '.join(str(rule['why']).split())}",
                "[[operations]]",
                f"include-name-regex = {json.dumps(rule['operations'])}",
                setting,
                "",
            ]
    spec_out = out / f"{spec['name']}.json"
    spec_out.write_text(json.dumps(doc, indent=1))
    config_out = out / f"{spec['name']}.toml"
    config_out.write_text("\n".join(toml) + "\n")
    return base, spec_out, config_out, kept, dropped, excluded


# --- The appliance ----------------------------------------------------------------------------


def start_appliance(binary, data_dir, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen(
        # The lab shape: one plain-HTTP listener for both planes, authentication off. The
        # contracts are about shapes; authentication has its own tests (security/).
        [binary, "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0",
         "--control-listen", "boot", "--no-auth",
         "--advertise-url", "http://127.0.0.1:9", "--tftp-listen", "off", "--log-level", "warn,rackboot=info"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"boot_plane=(\S+)", Path(log_path).read_text())
        if found:
            return proc, "http://" + found.group(1)
        if proc.poll() is not None:
            sys.exit(f"rackboot serve exited ({proc.returncode}); its log: {log_path}")
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"rackboot serve did not say where it listens within 60 s; its log: {log_path}")


def seed(origin):
    """A few records, so lookups of existing things are exercised too (names from the specs'
    own examples where they have them)."""
    def call(method, path, body):
        request = urllib.request.Request(origin + path, method=method, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except urllib.error.HTTPError as e:
            sys.exit(f"seed: {method} {path} answered {e.code}: {e.read().decode(errors='replace')}")

    hsm = "/apis/smd/hsm/v2"
    call("POST", hsm + "/State/Components", {"Components": [
        {"ID": f"x3000c0s{i}b0n0", "Type": "Node", "State": "Ready", "Role": "Compute",
         "NID": i, "Enabled": True, "Arch": "X86"} for i in range(1, 4)]})
    call("POST", hsm + "/groups", {"label": "g1", "members": {"ids": ["x3000c0s1b0n0"]}})
    call("POST", hsm + "/Inventory/EthernetInterfaces",
         {"MACAddress": "a4:bf:01:00:00:01", "ComponentID": "x3000c0s1b0n0"})
    # The tenants the BOS and CFS specs' examples name (Cray-Tenant-Name), so they are known.
    for tenant, node in [("vcluster-my-tenant1", "x3000c0s2b0n0"), ("blue-tenant", "x3000c0s3b0n0")]:
        call("PUT", f"/apis/rackboot/v1/tenants/{tenant}", {"xnames": [node]})
    call("POST", "/apis/bss/boot/v1/bootparameters",
         {"hosts": ["x3000c0s1b0n0"], "kernel": "http://127.0.0.1:9/k", "initrd": "http://127.0.0.1:9/i"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated contract names from specs.txt")
    parser.add_argument("--examples", type=int, default=25, help="examples per operation")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--binary", default=str(REPO / "target" / "debug" / "rackboot"))
    parser.add_argument("--out", default=str(REPO / "target" / "contract"))
    parser.add_argument("--report-only", action="store_true",
                        help="print what fails but exit 0 (while findings are still open)")
    parser.add_argument("--st", default=str(REPO / ".peers" / "schemathesis" / "bin" / "st"))
    args = parser.parse_args()

    specs = read_specs()
    rules = read_rules()
    names = {s["name"] for s in specs}
    for rule in rules:
        if rule["spec"] not in names:
            sys.exit(f"{rule['where']}: no contract named {rule['spec']} in specs.txt")
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - names
        if unknown:
            sys.exit(f"--only: not in specs.txt: {', '.join(sorted(unknown))}")
        specs = [s for s in specs if s["name"] in wanted]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    passed, failed = [], []
    with tempfile.TemporaryDirectory(prefix="rackboot-contract-") as data:
        proc, origin = start_appliance(args.binary, Path(data), out / "appliance.log")
        try:
            seed(origin)
            for spec in specs:
                base, spec_file, config, kept, dropped, excluded = prepare(spec, rules, origin, out)
                print(f"== {spec['name']}: {spec['file']} at {spec['prefix']}: "
                      f"{len(kept)} operations tested, {len(dropped)} not served", flush=True)
                if dropped and spec["subset"] == "served":
                    print("   not served: " + ", ".join(dropped), flush=True)
                log = out / f"{spec['name']}.log"
                started = time.monotonic()
                with open(log, "w") as f:
                    rc = subprocess.call(
                        [args.st, "--config-file", str(config), "--no-color", "run", str(spec_file),
                         "--url", base, "--checks", "all", "--seed", str(args.seed),
                         "--max-examples", str(args.examples), "--workers", "1",
                         "--generation-database", "none", "--request-timeout", "30"]
                        + (["--exclude-checks", ",".join(excluded)] if excluded else []),
                        stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=out,
                        env={**os.environ, "PYTHONHASHSEED": "0"},
                    )
                if proc.poll() is not None:
                    print(open(out / "appliance.log").read()[-4000:])
                    sys.exit(f"the appliance died during {spec['name']} (exit {proc.returncode})")
                summary = [l for l in open(log).read().splitlines() if l.startswith("=") and " in " in l]
                took = time.monotonic() - started
                print(f"   {summary[-1].strip('= ') if summary else 'no summary'} ({took:.0f} s; log {log})",
                      flush=True)
                if rc == 0:
                    passed.append(spec["name"])
                else:
                    failed.append(spec["name"])
                    text = open(log).read()
                    start = text.find("FAILURES")
                    print(text[start if start >= 0 else 0:][:20000], flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if failed:
        print("contract: failed: " + ", ".join(failed))
    if args.report_only:
        print(f"contract (report only, not enforced): {len(passed)} of {len(passed) + len(failed)} contracts pass")
        sys.exit(0)
    print(f"contract: {len(passed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
