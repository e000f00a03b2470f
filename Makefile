# Shortlink: a Kubernetes-native URL shortener. `make help` lists the targets.

# Versions of the Kubernetes binaries that envtest and `make dev` run (built offline, see hack/).
K8S_VERSION ?= 1.37.2
ETCD_VERSION ?= 3.6.16

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
install-deps: ## Install PostgreSQL, Redis, PgBouncer and wrk from Debian's packages if missing.
	hack/install-deps.sh

.PHONY: envtest-assets
envtest-assets: ## Build (once) kube-apiserver, etcd, kubectl, kube-controller-manager; prints their directory last.
	@K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/envtest-assets.sh

.PHONY: test
test: install-deps verify-generated vet lint envtest-assets ## Run every test against real components, then a benchmark smoke run.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" go test $(RACE) $(GO_TEST_FLAGS) ./...
	$(MAKE) -s bench-smoke

.PHONY: bench
bench: install-deps envtest-assets ## Run the load benchmarks with same-run baselines; writes bin/bench/results.json.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" go run ./test/bench -out bin/bench/results.json $(BENCH_FLAGS)

.PHONY: bench-smoke
bench-smoke: install-deps envtest-assets ## A short benchmark run (goals not enforced), so the benchmarks cannot rot.
	KUBEBUILDER_ASSETS="$$($(MAKE) -s envtest-assets | tail -1)" go run ./test/bench -smoke -out bin/bench/smoke.json

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	"$(GOLANGCI_LINT)" run --fix

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
