# Shortlink: a Kubernetes-native URL shortener. `make help` lists the targets.

# Versions of the Kubernetes binaries that envtest and `make dev` run (built offline, see hack/).
K8S_VERSION ?= 1.37.2
ETCD_VERSION ?= 3.6.16
# What the single-node cluster runs beside them (hack/cluster-assets.sh, built offline too).
CNI_VERSION ?= 1.10.0
COREDNS_VERSION ?= 1.14.7
METRICS_SERVER_VERSION ?= 0.8.0

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# Setting SHELL to bash allows bash commands to be executed by recipes.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

# The race detector roughly doubles build time; set RACE= to skip it on a slow machine.
RACE ?= -race
GO_TEST_FLAGS ?= -count=1 -timeout 15m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests under config/.
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods for the API types.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: verify-generated
verify-generated: controller-gen ## Fail if `make manifests generate` would change the tree.
	CONTROLLER_GEN="$(CONTROLLER_GEN)" hack/verify-generated.sh

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

.PHONY: install-deps
install-deps: ## Install PostgreSQL, Redis, PgBouncer, wrk, and the node's containerd, runc, iptables, conntrack from Debian if missing.
	hack/install-deps.sh

.PHONY: envtest-assets
envtest-assets: ## Build (once) kube-apiserver, etcd, kubectl, kube-controller-manager; prints their directory last.
	@K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/envtest-assets.sh

.PHONY: cluster-assets
cluster-assets: ## Build (once) kubelet, kube-scheduler, kube-proxy, CoreDNS, metrics-server, CNI plugins, node images; prints their directory last.
	@K8S_VERSION=$(K8S_VERSION) CNI_VERSION=$(CNI_VERSION) COREDNS_VERSION=$(COREDNS_VERSION) \
		METRICS_SERVER_VERSION=$(METRICS_SERVER_VERSION) hack/cluster-assets.sh

.PHONY: test
test: install-deps verify-generated vet lint envtest-assets cluster-assets ## Run every test against real components, a benchmark smoke run, then the real-node tests.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" go test $(RACE) $(GO_TEST_FLAGS) $$(go list ./... | grep -v /test/cluster)
	$(MAKE) -s bench-smoke
	$(MAKE) -s test-manifests
	$(MAKE) -s test-images
	$(MAKE) -s test-cluster

.PHONY: test-cluster
test-cluster: install-deps envtest-assets cluster-assets images helm ## Run the real-node tests (test/cluster): one node at a time, as root.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" CLUSTER_ASSETS="$$($(MAKE) -s cluster-assets | tail -1)" \
		HELM="$(HELM)" IMAGES_DIR="$(IMAGES_DIR)" go test -p 1 -count=1 -timeout 30m -v ./test/cluster/...

.PHONY: cluster
cluster: install-deps envtest-assets cluster-assets images helm ## Run Shortlink's chart on the single-node cluster, PostgreSQL and Redis beside it; writes bin/cluster/env when every Pod is Ready; Ctrl-C stops it and cleans up.
	go build -o bin/cluster/localnode ./cmd/localnode
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" CLUSTER_ASSETS="$$($(MAKE) -s cluster-assets | tail -1)" \
		exec bin/cluster/localnode -platform -env bin/cluster/env -helm "$(HELM)" -images "$(IMAGES_DIR)"

.PHONY: node
node: install-deps envtest-assets cluster-assets ## Run the single-node cluster alone (writes bin/cluster/node.env when Ready); Ctrl-C stops it and cleans up.
	go build -o bin/cluster/localnode ./cmd/localnode
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" CLUSTER_ASSETS="$$($(MAKE) -s cluster-assets | tail -1)" \
		exec bin/cluster/localnode

.PHONY: bench
bench: install-deps envtest-assets ## Run the load benchmarks with same-run baselines; writes bin/bench/results.json.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" go run ./test/bench -out bin/bench/results.json $(BENCH_FLAGS)

.PHONY: bench-smoke
bench-smoke: install-deps envtest-assets ## A short benchmark run (goals not enforced), so the benchmarks cannot rot.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" go run ./test/bench -smoke -out bin/bench/smoke.json

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (the root module and the nested test/manifests, hack/images and hack/cluster modules).
	"$(GOLANGCI_LINT)" run
	cd test/manifests && "$(GOLANGCI_LINT)" run --config ../../.golangci.yml
	cd hack/images && "$(GOLANGCI_LINT)" run --config ../../.golangci.yml
	cd hack/cluster && "$(GOLANGCI_LINT)" run --config ../../.golangci.yml

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	"$(GOLANGCI_LINT)" run --fix

.PHONY: dev
dev: install-deps envtest-assets ## Run the whole platform here (no cluster, no Docker); writes bin/dev/env when ready; Ctrl-C stops it.
	go build -o bin/dev/dev ./cmd/dev
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" exec bin/dev/dev

.PHONY: e2e
e2e: install-deps envtest-assets ## Run only the whole-platform tests (test/e2e) against local processes.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" go test $(GO_TEST_FLAGS) ./test/e2e/...

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager and redirector binaries into bin/.
	go build -o bin/manager ./cmd/manager
	go build -o bin/redirector ./cmd/redirector

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint

## Tool Versions
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$$(basename "$(1)-$(3)")" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(basename "$(1)-$(3)")" "$(1)"
endef

##@ Deployment

# Image references: also the defaults of config/manager, config/redirector and the chart's
# appVersion; keep them in step when VERSION changes.
VERSION ?= 0.1.0
IMAGE_REGISTRY ?= ghcr.io/shortlink-dev
MANAGER_IMG ?= $(IMAGE_REGISTRY)/shortlink-manager:$(VERSION)
REDIRECTOR_IMG ?= $(IMAGE_REGISTRY)/shortlink-redirector:$(VERSION)
IMAGES_DIR ?= $(LOCALBIN)/images
IMAGE_ARCH ?= $(shell go env GOARCH)
# The node's PgBouncer: Debian's pgbouncer from this machine, packed by hack/images with its
# shared libraries, named as a local test image (never pushed; production uses the chart's
# pgbouncer.image). Tagged with the installed version; it runs as the chart's 998:996.
PGBOUNCER_BIN ?= /usr/sbin/pgbouncer
PGBOUNCER_VERSION ?= $(shell $(PGBOUNCER_BIN) --version 2>/dev/null | sed -n 's/^PgBouncer //p')
PGBOUNCER_TEST_IMG ?= shortlink.dev/test/pgbouncer:$(PGBOUNCER_VERSION)
IMAGE_LABELS = --label org.opencontainers.image.source=https://github.com/shortlink-dev/shortlink \
	--label org.opencontainers.image.version=$(VERSION) \
	--label org.opencontainers.image.revision=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
	--label org.opencontainers.image.licenses=Apache-2.0

# The ServiceMonitor and PrometheusRule CRDs the manifest tests install, generated by
# controller-gen from the prometheus-operator API version that test/manifests/go.mod pins.
PROMETHEUS_OPERATOR_VERSION = $(shell cd test/manifests && go list -m -f '{{.Version}}' github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring)
MONITORING_CRDS = $(LOCALBIN)/crds/monitoring-$(PROMETHEUS_OPERATOR_VERSION)

.PHONY: images
images: ## Build OCI image tarballs of the manager, the redirector and the node's test PgBouncer under bin/images/, without Docker.
	mkdir -p "$(IMAGES_DIR)"
	cd hack/images && go build -o "$(LOCALBIN)/image-builder" .
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -ldflags="-s -w" -o "$(IMAGES_DIR)/manager" ./cmd/manager
	"$(LOCALBIN)/image-builder" -binary "$(IMAGES_DIR)/manager" -ref "$(MANAGER_IMG)" -out "$(IMAGES_DIR)/manager.tar" \
		-arch $(IMAGE_ARCH) -port 8080/tcp -port 8081/tcp --label org.opencontainers.image.title=shortlink-manager $(IMAGE_LABELS)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -ldflags="-s -w" -o "$(IMAGES_DIR)/redirector" ./cmd/redirector
	"$(LOCALBIN)/image-builder" -binary "$(IMAGES_DIR)/redirector" -ref "$(REDIRECTOR_IMG)" -out "$(IMAGES_DIR)/redirector.tar" \
		-arch $(IMAGE_ARCH) -port 8080/tcp -port 9090/tcp --label org.opencontainers.image.title=shortlink-redirector $(IMAGE_LABELS)
	@[ -n "$(PGBOUNCER_VERSION)" ] || { echo "$(PGBOUNCER_BIN) not found: install Debian's pgbouncer (hack/install-deps.sh)" >&2; exit 1; }
	"$(LOCALBIN)/image-builder" -binary "$(PGBOUNCER_BIN)" -path /usr/bin/pgbouncer -shared-libraries -user 998:996 \
		-ref "$(PGBOUNCER_TEST_IMG)" -out "$(IMAGES_DIR)/pgbouncer.tar" -port 5432/tcp \
		--label org.opencontainers.image.title=shortlink-test-pgbouncer --label org.opencontainers.image.version=$(PGBOUNCER_VERSION) \
		--label "org.opencontainers.image.description=Debian's pgbouncer for the local test node; not for production"

.PHONY: test-images
test-images: helm ## Test the image assembler; as root, also build the PgBouncer image and run the chart's configuration in it.
	cd hack/images && go vet ./... && HELM="$(HELM)" go test $(GO_TEST_FLAGS) ./...

.PHONY: chart-sync
chart-sync: manifests ## Copy the generated CRD and manager RBAC, and the Grafana dashboards, from config/ into charts/shortlink.
	for f in config/crd/bases/*.yaml; do \
		{ echo '{{- if .Values.crd.enabled }}'; \
		  sed -e '1{/^---$$/d}' -e '0,/^  annotations:$$/s//  annotations:\n    {{- if .Values.crd.keep }}\n    helm.sh\/resource-policy: keep\n    {{- end }}/' "$$f"; \
		  echo '{{- end }}'; } > charts/shortlink/templates/crd/$$(basename "$$f"); \
	done
	cp config/rbac/role.yaml charts/shortlink/files/manager-role.yaml
	cp config/prometheus/dashboards/shortlink.json charts/shortlink/dashboards/shortlink.json
	cp config/prometheus/dashboards/shortlink-visits.json charts/shortlink/dashboards/shortlink-visits.json

.PHONY: monitoring-crds
monitoring-crds: controller-gen ## Generate the Prometheus Operator CRDs the manifest tests install (once per version).
	@[ -f "$(MONITORING_CRDS)/monitoring.coreos.com_servicemonitors.yaml" ] || { \
		echo "Generating the monitoring.coreos.com CRDs $(PROMETHEUS_OPERATOR_VERSION) into $(MONITORING_CRDS)"; \
		cd test/manifests && "$(CONTROLLER_GEN)" crd \
			paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 \
			output:crd:dir="$(MONITORING_CRDS).tmp" && mv "$(MONITORING_CRDS).tmp" "$(MONITORING_CRDS)"; }

.PHONY: test-manifests
test-manifests: install-deps envtest-assets images kustomize helm monitoring-crds ## Render config/ and the chart, dry-run every object on a real API server, check images and monitoring rules.
	export KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" \
		KUSTOMIZE="$(KUSTOMIZE)" HELM="$(HELM)" MONITORING_CRDS="$(MONITORING_CRDS)" IMAGES_DIR="$(IMAGES_DIR)" \
		MANAGER_IMG="$(MANAGER_IMG)" REDIRECTOR_IMG="$(REDIRECTOR_IMG)"; \
	cd test/manifests && go vet ./... && go test $(GO_TEST_FLAGS) ./...

## Tool Binaries and Versions
KUSTOMIZE ?= $(LOCALBIN)/kustomize
HELM ?= $(LOCALBIN)/helm
# kustomize v5.8.2 is the newest release built on kustomize/api v0.21.2; later ones need a newer Go.
KUSTOMIZE_VERSION ?= v5.8.2
HELM_VERSION ?= v3.22.0

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: helm
helm: $(HELM) ## Download (build) helm locally if necessary; the first build takes a few minutes.
$(HELM): $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

KIND_CLUSTER ?= shortlink-e2e

.PHONY: test-e2e-kind
test-e2e-kind: images helm ## Install the chart on a new kind cluster and follow a redirect (needs Docker and kind).
	KIND_CLUSTER="$(KIND_CLUSTER)" HELM="$(HELM)" IMAGES_DIR="$(IMAGES_DIR)" \
		MANAGER_IMG="$(MANAGER_IMG)" REDIRECTOR_IMG="$(REDIRECTOR_IMG)" hack/kind-e2e.sh
