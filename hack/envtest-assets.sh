#!/usr/bin/env bash
# Provides kube-apiserver, etcd, kubectl and kube-controller-manager for envtest.
#
# The usual download (setup-envtest) cannot reach its bucket from our machines, so the
# binaries are built from the Go module proxy once and cached under bin/k8s/<versions>/.
# KUBEBUILDER_ASSETS, when set, wins. Progress goes to stderr; the last line on stdout is the
# directory, so scripts can: export KUBEBUILDER_ASSETS=$(make -s envtest-assets | tail -1)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
STAGING_VERSION=${STAGING_VERSION:-0.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
BINARIES=(kube-apiserver etcd kubectl kube-controller-manager)

say() { echo "envtest-assets: $*" >&2; }

complete() {
	local dir=$1 b
	for b in "${BINARIES[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
	for b in kube-apiserver etcd kubectl; do
		[ -x "$KUBEBUILDER_ASSETS/$b" ] || { say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no $b"; exit 1; }
	done
	echo "$KUBEBUILDER_ASSETS"
	exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/bin/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}-$(go env GOOS)-$(go env GOARCH)"
if complete "$dir"; then
	echo "$dir"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off

build_kubernetes() {
	say "building Kubernetes v$K8S_VERSION binaries from the Go module proxy (about 6 minutes on a cold cache)"
	mkdir -p "$work/k8s" && cd "$work/k8s"
	go mod init shortlink.dev/envtest-k8s >/dev/null 2>&1
	go mod download "k8s.io/kubernetes@v$K8S_VERSION"
	local upstream
	upstream="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$K8S_VERSION.mod"
	# k8s.io/kubernetes points its staging modules at ./staging; outside its repository they
	# must point at their published versions instead.
	local m
	for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$upstream"); do
		go mod edit -replace "$m=$m@v$STAGING_VERSION"
	done
	go mod edit -require "k8s.io/kubernetes@v$K8S_VERSION"
	local minor=${K8S_VERSION#*.}
	minor=${minor%%.*}
	local ldflags="" pkg
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=${K8S_VERSION%%.*} -X $pkg.gitMinor=$minor"
		ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	go get k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl >&2
	for b in kube-apiserver kube-controller-manager kubectl; do
		say "go build $b"
		go build -trimpath -ldflags "-s -w $ldflags" -o "$dir/$b" "k8s.io/kubernetes/cmd/$b" >&2
	done
}

build_etcd() {
	say "building etcd v$ETCD_VERSION from the Go module proxy"
	mkdir -p "$work/etcd" && cd "$work/etcd"
	go mod init shortlink.dev/envtest-etcd >/dev/null 2>&1
	cat >main.go <<'GO'
// Command etcd runs the etcd server for envtest.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
	go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
	go mod tidy >&2
	go build -trimpath -ldflags "-s -w" -o "$dir/etcd" . >&2
}

[ -x "$dir/etcd" ] || build_etcd
[ -x "$dir/kube-apiserver" ] && [ -x "$dir/kubectl" ] && [ -x "$dir/kube-controller-manager" ] || build_kubernetes
complete "$dir" || { say "build finished but $dir is incomplete"; exit 1; }
say "ready: $("$dir/kube-apiserver" --version 2>&1), etcd $("$dir/etcd" --version 2>&1 | head -1)"
echo "$dir"
