#!/usr/bin/env bash
# Provides what the single-node cluster (internal/localnode, `make cluster`, test/cluster) runs
# beside the envtest binaries: kubelet, kube-scheduler and kube-proxy; a CoreDNS with only the
# plugins a cluster needs (no forward: it can send nothing off the machine); metrics-server; the
# CNI plugins bridge, host-local, loopback and portmap; and image tarballs of a pause program, a
# small HTTP server, CoreDNS and metrics-server. Nothing can be downloaded here but Go modules, so
# everything is built from the Go module proxy once and cached under bin/cluster/<versions>/,
# each piece apart so an interrupted build resumes. Progress goes to stderr; the last line on
# stdout is the directory: export CLUSTER_ASSETS=$(make -s cluster-assets | tail -1)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
STAGING_VERSION=${STAGING_VERSION:-0.${K8S_VERSION#*.}}
CNI_VERSION=${CNI_VERSION:-1.10.0}
COREDNS_VERSION=${COREDNS_VERSION:-1.14.7}
METRICS_SERVER_VERSION=${METRICS_SERVER_VERSION:-0.8.0}

say() { echo "cluster-assets: $*" >&2; }

root=$(cd "$(dirname "$0")/.." && pwd)
arch=$(go env GOARCH)
dir="$root/bin/cluster/${K8S_VERSION}-cni${CNI_VERSION}-coredns${COREDNS_VERSION}-ms${METRICS_SERVER_VERSION}-$(go env GOOS)-$arch"
FILES=(kubelet kube-scheduler kube-proxy coredns metrics-server crisweep
	cni/bridge cni/host-local cni/loopback cni/portmap
	images/pause.tar images/echo.tar images/coredns.tar images/metrics-server.tar)

complete() {
	local f
	for f in "${FILES[@]}"; do [ -s "$dir/$f" ] || return 1; done
}

if complete; then
	echo "$dir"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir/cni" "$dir/images"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
started=$SECONDS

# gobuild builds a package into a file of $dir atomically, so a killed build never leaves a
# truncated binary that complete() would take for a finished one.
gobuild() {
	local out=$1
	shift
	say "go build $out"
	go build -trimpath -o "$dir/$out.tmp" "$@" >&2
	mv "$dir/$out.tmp" "$dir/$out"
}

# newmodule makes a throwaway module that requires one upstream module.
newmodule() {
	mkdir -p "$work/$1" && cd "$work/$1"
	go mod init "shortlink.dev/cluster-$1" >/dev/null 2>&1
}

build_kubernetes() {
	say "building kubelet, kube-scheduler, kube-proxy v$K8S_VERSION (shares the envtest build's cache)"
	newmodule k8s
	go mod download "k8s.io/kubernetes@v$K8S_VERSION"
	local upstream m
	upstream="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$K8S_VERSION.mod"
	# As in envtest-assets.sh: the staging modules point at ./staging inside the repository.
	for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$upstream"); do
		go mod edit -replace "$m=$m@v$STAGING_VERSION"
	done
	go mod edit -require "k8s.io/kubernetes@v$K8S_VERSION"
	local minor=${K8S_VERSION#*.} ldflags="" pkg
	minor=${minor%%.*}
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=${K8S_VERSION%%.*} -X $pkg.gitMinor=$minor"
		ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	go get k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy >&2
	local b
	for b in kubelet kube-scheduler kube-proxy; do
		[ -s "$dir/$b" ] || gobuild "$b" -ldflags "-s -w $ldflags" "k8s.io/kubernetes/cmd/$b"
	done
}

build_cni() {
	say "building the CNI plugins v$CNI_VERSION"
	newmodule cni
	go get "github.com/containernetworking/plugins@v$CNI_VERSION" >&2
	local p ldflags="-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v$CNI_VERSION"
	for p in main/bridge ipam/host-local main/loopback meta/portmap; do
		gobuild "cni/${p#*/}" -ldflags "$ldflags" "github.com/containernetworking/plugins/plugins/$p"
	done
}

# CoreDNS registers every plugin it imports; its own main imports all of them (forward included).
# This main imports only the ones a cluster's DNS needs and lists them as the only directives, so
# a Corefile naming any other plugin fails to load.
build_coredns() {
	say "building CoreDNS v$COREDNS_VERSION with kubernetes, errors, health, ready, cache only"
	newmodule coredns
	cat >main.go <<'GO'
// Command coredns is CoreDNS with the plugins a cluster's DNS needs and nothing that sends a
// query anywhere else.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// Order matters: it is the order in which the plugins see a query.
	dnsserver.Directives = []string{"errors", "health", "ready", "cache", "kubernetes"}
}

func main() { coremain.Run() }
GO
	go get "github.com/coredns/coredns@v$COREDNS_VERSION" >&2
	go mod tidy >&2
	gobuild coredns -ldflags "-s -w" .
}

build_metrics_server() {
	say "building metrics-server v$METRICS_SERVER_VERSION"
	newmodule metrics-server
	go get "sigs.k8s.io/metrics-server@v$METRICS_SERVER_VERSION" >&2
	gobuild metrics-server -ldflags "-s -w" sigs.k8s.io/metrics-server/cmd/metrics-server
}

# The images: one static binary each, on the same base as `make images` (user 65532, no shell).
# The pause image is our own program; containerd is told to use it, so it never pulls one.
build_images() {
	cd "$root/hack/images"
	go build -o "$work/image-builder" . >&2
	cd "$root/hack/cluster"
	local name
	for name in pause echo; do
		gobuild "images/$name" -ldflags "-s -w" "./$name"
	done
	image pause "$dir/images/pause" "shortlink.dev/cluster/pause:v1"
	image echo "$dir/images/echo" "shortlink.dev/cluster/echo:v1" -port 8080/tcp
	image coredns "$dir/coredns" "shortlink.dev/cluster/coredns:v$COREDNS_VERSION" -port 53/udp -port 53/tcp
	image metrics-server "$dir/metrics-server" "shortlink.dev/cluster/metrics-server:v$METRICS_SERVER_VERSION" -port 10250/tcp
	rm -f "$dir/images/pause" "$dir/images/echo"
}

image() {
	local name=$1 binary=$2 ref=$3
	shift 3
	[ -s "$dir/images/$name.tar" ] && return 0
	"$work/image-builder" -binary "$binary" -ref "$ref" -out "$dir/images/$name.tar.tmp" -arch "$arch" "$@" >&2
	mv "$dir/images/$name.tar.tmp" "$dir/images/$name.tar"
}

[ -s "$dir/kubelet" ] && [ -s "$dir/kube-scheduler" ] && [ -s "$dir/kube-proxy" ] || build_kubernetes
[ -s "$dir/cni/bridge" ] && [ -s "$dir/cni/host-local" ] && [ -s "$dir/cni/loopback" ] && [ -s "$dir/cni/portmap" ] || build_cni
[ -s "$dir/coredns" ] || build_coredns
[ -s "$dir/metrics-server" ] || build_metrics_server
[ -s "$dir/crisweep" ] || (cd "$root/hack/cluster" && gobuild crisweep -ldflags "-s -w" ./crisweep)
build_images
complete || { say "build finished but $dir is incomplete"; exit 1; }
cat >"$dir/VERSIONS" <<V
kubernetes v$K8S_VERSION
cni-plugins v$CNI_VERSION
coredns v$COREDNS_VERSION
metrics-server v$METRICS_SERVER_VERSION
V
say "ready in $((SECONDS - started))s: $("$dir/kubelet" --version 2>&1)"
echo "$dir"
