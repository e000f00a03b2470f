#!/usr/bin/env bash
# Fails when `make manifests generate` changes anything: generated files are generated, never
# edited by hand, and must be committed current. Compares snapshots rather than `git diff`, so
# it also works on a tree with uncommitted changes.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot() {
	local paths=() p
	for p in api config/crd config/rbac; do [ -e "$p" ] && paths+=("$p"); done
	find "${paths[@]}" -type f | LC_ALL=C sort | xargs sha256sum
}
before=$(snapshot)
make -s manifests generate CONTROLLER_GEN="${CONTROLLER_GEN:-bin/controller-gen}" >/dev/null
after=$(snapshot)
if [ "$before" != "$after" ]; then
	echo "verify-generated: 'make manifests generate' changed these files; run it and commit the result:" >&2
	diff <(echo "$before") <(echo "$after") >&2 || true
	exit 1
fi
echo "verify-generated: generated files are current"
