#!/usr/bin/env bash
# Shortlink on a throwaway kind cluster: load the images `make images` built, install the chart
# with the bundled evaluation databases in a namespace enforcing the restricted Pod Security
# Standard, apply config/samples, follow a redirect through a port-forward, wait for the visit
# in status.visits, then delete the cluster. Needs Docker, kind, kubectl and curl; run it with
# `make test-e2e-kind`. KEEP_CLUSTER=1 keeps the cluster for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${KIND_CLUSTER:-shortlink-e2e}
HELM=${HELM:-bin/helm}
IMAGES_DIR=${IMAGES_DIR:-bin/images}
MANAGER_IMG=${MANAGER_IMG:-ghcr.io/shortlink-dev/shortlink-manager:0.1.0}
REDIRECTOR_IMG=${REDIRECTOR_IMG:-ghcr.io/shortlink-dev/shortlink-redirector:0.1.0}
NS=shortlink-system
LINKS_NS=default
DOMAIN=links.kind.test
PORT=18080
CTX="kind-$CLUSTER"

step() { echo "kind-e2e: $*" >&2; }
fail() { echo "kind-e2e: FAIL: $*" >&2; exit 1; }
k() { kubectl --context "$CTX" "$@"; }

for tool in docker kind kubectl curl "$HELM"; do
	command -v "$tool" >/dev/null || fail "$tool not found"
done
for img in manager redirector; do
	[ -f "$IMAGES_DIR/$img.tar" ] || fail "$IMAGES_DIR/$img.tar missing: run make images"
done

pf_pid=
cleanup() {
	local status=$?
	[ -n "$pf_pid" ] && kill "$pf_pid" 2>/dev/null || true
	if [ "$status" -ne 0 ]; then
		step "state after the failure:"
		k get pods,deployments,services,shortlinks -A -o wide || true
		k -n "$NS" logs deployment/shortlink-manager --tail=40 || true
		k -n "$NS" logs deployment/shortlink-redirector --tail=40 || true
	fi
	if [ -n "${KEEP_CLUSTER:-}" ]; then
		step "keeping cluster $CLUSTER (delete it with: kind delete cluster --name $CLUSTER)"
	else
		step "deleting kind cluster $CLUSTER"
		kind delete cluster --name "$CLUSTER" || true
	fi
	exit "$status"
}
trap cleanup EXIT

step "creating kind cluster $CLUSTER"
kind create cluster --name "$CLUSTER" --wait 120s

for img in manager redirector; do
	step "loading $IMAGES_DIR/$img.tar into $CLUSTER"
	kind load image-archive "$IMAGES_DIR/$img.tar" --name "$CLUSTER"
done

step "creating namespace $NS, enforcing the restricted Pod Security Standard"
k create namespace "$NS"
k label namespace "$NS" pod-security.kubernetes.io/enforce=restricted

step "installing the chart (bundled PostgreSQL and Redis, default domain $DOMAIN)"
"$HELM" install shortlink charts/shortlink --kube-context "$CTX" --namespace "$NS" \
	--set postgresql.enabled=true --set redis.enabled=true \
	--set config.defaultDomain="$DOMAIN" \
	--set manager.image.repository="${MANAGER_IMG%:*}" --set manager.image.tag="${MANAGER_IMG##*:}" \
	--set redirector.image.repository="${REDIRECTOR_IMG%:*}" --set redirector.image.tag="${REDIRECTOR_IMG##*:}" \
	--wait --timeout 5m

step "applying config/samples in namespace $LINKS_NS"
k apply -n "$LINKS_NS" -k config/samples

step "waiting for ShortLink docs to be Ready"
k -n "$LINKS_NS" wait shortlink/docs --for=condition=Ready --timeout=120s

step "port-forwarding service/shortlink-redirector to 127.0.0.1:$PORT"
k -n "$NS" port-forward service/shortlink-redirector "$PORT:80" >/dev/null 2>&1 &
pf_pid=$!
for _ in $(seq 30); do
	curl -fsS -o /dev/null "http://127.0.0.1:$PORT/_/readyz" && break
	sleep 1
done

step "GET http://$DOMAIN/docs through the port-forward"
# A browser's User-Agent: curl's own counts as a script's visit (botVisits), not a person's.
got=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $DOMAIN" \
	-A 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' "http://127.0.0.1:$PORT/docs")
want="302 https://example.com/documentation"
[ "$got" = "$want" ] || fail "GET /docs answered '$got', want '$want'"
step "redirected: $got"

step "waiting for the visit to reach ShortLink docs' status.visits (rollup every 30 s)"
visits=0
for _ in $(seq 60); do
	visits=$(k -n "$LINKS_NS" get shortlink docs -o jsonpath='{.status.visits}')
	[ "${visits:-0}" -ge 1 ] && break
	sleep 3
done
[ "${visits:-0}" -ge 1 ] || fail "status.visits is '${visits}' after 3 minutes"
step "status.visits = $visits"

step "PASS"
