# nodewright: one Makefile for building, testing and running the local cloud.
# Third-party tools are built from the Go module proxy into bin/ and cached
# by version: a stamp in bin/.stamps names each version, so bumping a version
# below rebuilds exactly that tool and a second `make tools` takes seconds.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

KUBE_VERSION := v1.37.2
ETCD_VERSION := v3.7.0
KWOK_VERSION := v0.8.0
TOFU_VERSION := v1.10.10
CONTROLLER_TOOLS_VERSION := v0.23.0
TFPLUGINDOCS_VERSION := v0.24.0
# Karpenter core, for comparing schedulers (test/tools/karpenterbench pins
# the same version). It needs a newer Go than the root module's.
KARPENTER_VERSION := v1.15.0
KARPENTERBENCH_GOTOOLCHAIN ?= go1.27.3

ROOT  := $(CURDIR)
BIN   := $(ROOT)/bin
STAMP := $(BIN)/.stamps
TOOLS := $(ROOT)/test/tools

# Terraform or OpenTofu from PATH wins; otherwise tofu is built into bin/.
TF_PATH := $(shell command -v terraform || command -v tofu || true)
ifeq ($(TF_PATH),)
TF_PATH := $(BIN)/tofu
TF_STAMP := $(STAMP)/tofu-$(TOFU_VERSION)
endif

# Stamp the version the binaries report, as Kubernetes' own release build does.
KUBE_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitTreeState=clean

TOOL_STAMPS := $(STAMP)/kubernetes-$(KUBE_VERSION)-kubectl $(STAMP)/etcd-$(ETCD_VERSION) \
	$(STAMP)/kwok-$(KWOK_VERSION) $(STAMP)/controller-gen-$(CONTROLLER_TOOLS_VERSION) \
	$(STAMP)/tfplugindocs-$(TFPLUGINDOCS_VERSION) $(TF_STAMP)

TEST_FLAGS ?= -count=1 -timeout 30m
LOCALCLOUD := $(BIN)/localcloud

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: tools
tools: $(TOOL_STAMPS) ## Build the local cloud's binaries from source into bin/ (cached by version).
	@echo "tools ready in $(BIN) (terraform: $(TF_PATH))"

$(STAMP)/kubernetes-$(KUBE_VERSION)-kubectl:
	@mkdir -p $(STAMP)
	@echo ">> building kube-apiserver, kube-controller-manager, kube-scheduler and kubectl $(KUBE_VERSION) from source (about 10 minutes cold)"
	cd $(TOOLS) && go build $(GOBUILD_FLAGS) -trimpath -ldflags '$(KUBE_LDFLAGS)' -o $(BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler \
		k8s.io/kubernetes/cmd/kubectl
	@rm -f $(STAMP)/kubernetes-* && touch $@

$(STAMP)/etcd-$(ETCD_VERSION):
	@mkdir -p $(STAMP)
	@echo ">> building etcd $(ETCD_VERSION) from source"
	cd $(TOOLS) && go build -trimpath -ldflags '-s -w' -o $(BIN)/etcd ./etcd
	@rm -f $(STAMP)/etcd-* && touch $@

$(STAMP)/kwok-$(KWOK_VERSION):
	@mkdir -p $(STAMP)
	@echo ">> building kwok $(KWOK_VERSION) from source (about 3 minutes cold)"
	GOBIN=$(BIN) go install -trimpath -ldflags '-s -w' sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)
	@rm -f $(STAMP)/kwok-* && touch $@

CONTROLLER_GEN := $(BIN)/controller-gen
$(STAMP)/controller-gen-$(CONTROLLER_TOOLS_VERSION):
	@mkdir -p $(STAMP)
	cd $(TOOLS) && go build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen
	@rm -f $(STAMP)/controller-gen-* && touch $@

# tfplugindocs has its own module (test/tools/tfplugindocs): its
# dependencies must not move the root module's.
TFPLUGINDOCS := $(BIN)/tfplugindocs
$(STAMP)/tfplugindocs-$(TFPLUGINDOCS_VERSION):
	@mkdir -p $(STAMP)
	cd $(TOOLS)/tfplugindocs && go build -trimpath -ldflags '-s -w' -o $(TFPLUGINDOCS) github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs
	@rm -f $(STAMP)/tfplugindocs-* && touch $@

# Karpenter core's own scheduler as a comparator (test/tools/karpenterbench,
# its own module: Karpenter never enters the root go.mod). Rebuilt when the
# Karpenter version or the tool's source changes.
KARPENTERBENCH := $(BIN)/karpenterbench
KARPENTERBENCH_SRC := $(wildcard $(TOOLS)/karpenterbench/*.go) $(TOOLS)/karpenterbench/go.mod $(TOOLS)/karpenterbench/go.sum
.PHONY: karpenterbench
karpenterbench: $(STAMP)/karpenterbench-$(KARPENTER_VERSION) ## Build bin/karpenterbench: Karpenter's scheduler on a benchvs input.

$(STAMP)/karpenterbench-$(KARPENTER_VERSION): $(KARPENTERBENCH_SRC)
	@mkdir -p $(STAMP)
	@grep -q 'sigs.k8s.io/karpenter $(KARPENTER_VERSION)$$' $(TOOLS)/karpenterbench/go.mod || \
	  { echo "test/tools/karpenterbench/go.mod does not pin sigs.k8s.io/karpenter $(KARPENTER_VERSION): run go get there"; exit 1; }
	@echo ">> building karpenterbench (Karpenter $(KARPENTER_VERSION), with $(KARPENTERBENCH_GOTOOLCHAIN))"
	cd $(TOOLS)/karpenterbench && GOTOOLCHAIN=$(KARPENTERBENCH_GOTOOLCHAIN) go build -trimpath -ldflags '-s -w' -o $(KARPENTERBENCH) .
	@rm -f $(STAMP)/karpenterbench-* && touch $@

# Real Karpenter (aws/karpenter-provider-aws, Apache-2.0), unmodified, as a
# conformance client of the local cloud: built from its own module under
# test/tools/karpenter, with its CRDs copied beside it. Never in go.mod.
KARPENTER_CONTROLLER := $(STAMP)/karpenter-controller-$(KARPENTER_VERSION)
$(KARPENTER_CONTROLLER): $(TOOLS)/karpenter/go.mod $(TOOLS)/karpenter/go.sum
	@mkdir -p $(STAMP)
	@grep -q 'github.com/aws/karpenter-provider-aws $(KARPENTER_VERSION)' $(TOOLS)/karpenter/go.mod || \
	  { echo "test/tools/karpenter/go.mod does not pin karpenter-provider-aws $(KARPENTER_VERSION)"; exit 1; }
	@echo ">> building Karpenter $(KARPENTER_VERSION) (with $(KARPENTERBENCH_GOTOOLCHAIN); about 10 minutes cold)"
	cd $(TOOLS)/karpenter && GOTOOLCHAIN=$(KARPENTERBENCH_GOTOOLCHAIN) go build -trimpath -ldflags '-s -w' \
	  -o $(BIN)/karpenter-controller github.com/aws/karpenter-provider-aws/cmd/controller
	rm -rf $(BIN)/karpenter-crds && mkdir -p $(BIN)/karpenter-crds
	cp "$$(cd $(TOOLS)/karpenter && GOTOOLCHAIN=$(KARPENTERBENCH_GOTOOLCHAIN) go list -m -f '{{.Dir}}' github.com/aws/karpenter-provider-aws)"/pkg/apis/crds/*.yaml $(BIN)/karpenter-crds/
	chmod u+w $(BIN)/karpenter-crds/*
	@rm -f $(STAMP)/karpenter-controller-* && touch $@

.PHONY: test-karpenter
test-karpenter: tools build $(KARPENTER_CONTROLLER) ## Real Karpenter, unmodified, on a fresh local cloud: NodeClass Ready, 10 pods, a spot interruption, scale to zero, only AWS-real errors.
	NODEWRIGHT_KARPENTER=1 NODEWRIGHT_BIN_DIR=$(BIN) go test -count=1 -timeout 20m -v -run TestKarpenter ./test/karpenter/

.PHONY: test-kube-scheduler
WORLDS ?= 300
test-kube-scheduler: ## kube-scheduler's own filter plugins (k8s.io/kubernetes $(KUBE_VERSION)) on the engine's plans for WORLDS random clusters (default 300; the note's run used 20000).
	cd test/kubescheduler && NODEWRIGHT_WORLDS=$(WORLDS) go test -count=1 -timeout 30m -run TestPlacementsPassKubeSchedulerFilters .

.PHONY: generate
generate: $(STAMP)/controller-gen-$(CONTROLLER_TOOLS_VERSION) ## Regenerate deepcopy code and the CRDs (controller/crds) from controller/api.
	$(CONTROLLER_GEN) object paths=./controller/api/...
	$(CONTROLLER_GEN) crd paths=./controller/api/... output:crd:artifacts:config=controller/crds

$(STAMP)/tofu-$(TOFU_VERSION):
	@mkdir -p $(STAMP)
	@echo ">> no terraform or tofu on PATH: building OpenTofu $(TOFU_VERSION) from source (about 3 minutes cold)"
	cd $(TOOLS)/tofu && go build -trimpath -ldflags '-s -w' -o $(BIN)/tofu github.com/opentofu/opentofu/cmd/tofu
	@rm -f $(STAMP)/tofu-* && touch $@

.PHONY: build
build: ## Build nodewright's own binaries into bin/.
	go build -o $(BIN)/ ./test/localcloud/cmd/localcloud ./controller/cmd/nodewright

# The controller image: an OCI index for linux/amd64 and linux/arm64 holding
# the static controller binary alone (test/image says why not ko), written
# as an OCI image layout in bin/image/ with its index digest in
# bin/image/digest. Times come from the commit (or SOURCE_DATE_EPOCH), so a
# commit always gives the same digest. The key below covers the commit and
# any uncommitted change, so a second `make image` of a commit is instant.
VERSION ?= $(PROVIDER_VERSION)
IMAGE_DIR := $(BIN)/image
IMAGE_PLATFORMS := linux/amd64 linux/arm64
IMAGE_KEY := $(STAMP)/image-key

.PHONY: image
image: ## Build the controller image (linux/amd64, linux/arm64) into bin/image/ as an OCI layout; its digest in bin/image/digest.
	@mkdir -p $(STAMP)
	@key="$$({ echo $(VERSION) $(IMAGE_PLATFORMS); git rev-parse HEAD; git diff HEAD -- go.mod go.sum controller test/image; \
	  git ls-files -o --exclude-standard -- controller test/image | xargs -r cat; } | sha256sum | cut -d' ' -f1)"; \
	if [ -f $(IMAGE_DIR)/digest ] && [ "$$(cat $(IMAGE_KEY) 2>/dev/null)" = "$$key" ]; then \
	  echo "image $(VERSION) up to date in $(IMAGE_DIR): $$(cat $(IMAGE_DIR)/digest)"; exit 0; fi; \
	work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; bins=(); \
	for p in $(IMAGE_PLATFORMS); do \
	  echo ">> building nodewright $(VERSION) for $$p"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' \
	    -o "$$work/nodewright-$${p//\//-}" ./controller/cmd/nodewright; \
	  bins+=(--binary "$$p=$$work/nodewright-$${p//\//-}"); \
	done; \
	go run ./test/image/cmd/image --out $(IMAGE_DIR) --version $(VERSION) --revision "$$(git rev-parse HEAD)" \
	  --created "$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct)}" "$${bins[@]}"; \
	echo "$$key" > $(IMAGE_KEY)

.PHONY: test
test: tools build provider image $(KARPENTER_CONTROLLER) ## Run unit, integration, acceptance and end-to-end tests, and real Karpenter on the local cloud (builds the tools first if needed).
	NODEWRIGHT_BIN_DIR=$(BIN) TF_ACC=1 TF_ACC_TERRAFORM_PATH=$(TF_PATH) go test $(TEST_FLAGS) $$(go list ./... | grep -v -e /test/integration -e /test/e2e -e /test/karpenter)
	@# End-to-end tests have time targets (pods Running within 20 s): run them one package at a time.
	NODEWRIGHT_BIN_DIR=$(BIN) TF_ACC_TERRAFORM_PATH=$(TF_PATH) go test $(TEST_FLAGS) -p 1 ./test/integration/ ./test/e2e/
	$(MAKE) --no-print-directory test-karpenter
	$(MAKE) --no-print-directory test-kube-scheduler

.PHONY: test-iam
test-iam: ## Least-privilege sweep: each controller-policy statement and action removed in turn, the controller's AWS flows run with IAM enforced (a few minutes).
	NODEWRIGHT_IAM_SWEEP=1 go test -count=1 -timeout 20m -run TestLeastPrivilege -v ./controller/cloudprovider/awscloud/ 2>&1 | grep -v '^\s*>' | grep -E '^(=== RUN|---|\s+policy_sweep|ok|FAIL|PASS)|:' | cut -c1-400

# The AWS CLI (botocore) is a client independent of aws-sdk-go-v2: its own
# serializers, parsers and error handling. Without aws on PATH, Debian's
# awscli is installed; a CLI older than April 2024 (Debian 12's 2.9) speaks
# SQS's query protocol, which the emulator serves too, and lacks the newer
# EKS commands, whose cases it skips.
.PHONY: test-awscli
test-awscli: ## The AWS emulator driven by the AWS CLI: every served operation and each protocol's error paths (about a minute).
	@command -v aws >/dev/null || { \
		echo "aws is not on PATH: installing Debian's awscli"; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo apt-get install -y awscli; }
	NODEWRIGHT_AWSCLI=1 go test -count=1 -timeout 10m -parallel 4 ./test/awscli/

# The same acceptance and end-to-end tests with OpenTofu (bin/tofu) in place
# of terraform. terraform-plugin-testing names the provider under test with
# the legacy namespace "-", which only terraform accepts: give it one.
TOFU := $(BIN)/tofu
.PHONY: test-tofu
test-tofu: tools build provider $(STAMP)/tofu-$(TOFU_VERSION) ## Provider acceptance and end-to-end tests (examples, module tests) with OpenTofu instead of terraform.
	NODEWRIGHT_BIN_DIR=$(BIN) TF_ACC=1 TF_BINARY=$(TOFU) TF_ACC_TERRAFORM_PATH=$(TOFU) TF_ACC_PROVIDER_NAMESPACE=hashicorp \
	  go test $(TEST_FLAGS) ./terraform-provider/...
	@echo ">> test/e2e with $(TOFU) (full log in $(BIN)/test-tofu-e2e.log)"
	@rc=0; NODEWRIGHT_BIN_DIR=$(BIN) TF_BINARY=$(TOFU) TF_ACC_TERRAFORM_PATH=$(TOFU) \
	  go test $(TEST_FLAGS) -p 1 -v ./test/e2e/ > $(BIN)/test-tofu-e2e.log 2>&1 || rc=$$?; \
	  grep -E '^\s*(--- |PASS|FAIL|ok)|took|Error:' $(BIN)/test-tofu-e2e.log | cut -c1-300 || true; exit $$rc

PROVIDER_VERSION := 0.1.0
MIRROR := $(ROOT)/terraform-provider/.mirror
TF_CLI_CONFIG := $(BIN)/terraform.rc

.PHONY: provider
provider: ## Build the Terraform provider into a filesystem mirror and write bin/terraform.rc for offline init.
	@set -e; for host in registry.terraform.io registry.opentofu.org; do \
	  dir=$(MIRROR)/$$host/nodewright/nodewright/$(PROVIDER_VERSION)/$$(go env GOOS)_$$(go env GOARCH); \
	  mkdir -p $$dir; \
	  go build -ldflags '-X main.version=$(PROVIDER_VERSION)' -o $$dir/terraform-provider-nodewright_v$(PROVIDER_VERSION) ./terraform-provider; \
	done
	@mkdir -p $(BIN)
	@printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/nodewright/*", "registry.opentofu.org/nodewright/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/nodewright/*", "registry.opentofu.org/nodewright/*"]\n  }\n}\n' "$(MIRROR)" > $(TF_CLI_CONFIG)
	@echo "provider $(PROVIDER_VERSION) in $(MIRROR); use TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) with $(TF_PATH)"

# Release artifacts in dist/: the provider zips for RELEASE_PLATFORMS with
# their SHA256SUMS and registry manifest, and the controller image (bin/image,
# from `make image`) as an OCI archive with its digest, which the released
# provider defaults to. Reproducible: a rerun gives the same SHA256SUMS.
# test/release/cmd/release says why this is not GoReleaser.
RELEASE_PLATFORMS ?= all
DIST := $(ROOT)/dist
.PHONY: release
release: image ## Write dist/: provider zips for six platforms, SHA256SUMS, manifest, and the controller image archive and digest.
	rm -rf $(DIST)
	go run ./test/release/cmd/release -version $(VERSION) -platforms $(RELEASE_PLATFORMS) -out $(DIST) -image-dir $(BIN)/image
	@cd $(DIST) && ls -l

.PHONY: docs
docs: $(STAMP)/tfplugindocs-$(TFPLUGINDOCS_VERSION) $(TF_STAMP) ## Regenerate the module READMEs' tables and the provider docs (terraform-provider/docs).
	go run ./test/moduledocs/cmd
	TF_BINARY=$(TF_PATH) TFPLUGINDOCS=$(TFPLUGINDOCS) go run ./terraform-provider/tools/providerdocs/cmd

.PHONY: bench
bench: ## Benchmarks: scheduling (pods/s, nodes, $/h), consolidation passes (ms, peak heap) and the AWS endpoint (req/s).
	go test -run XXX -bench . -benchtime 3x -benchmem ./controller/engine/scheduling/
	go test -run XXX -bench . -benchtime 3x -benchmem ./controller/engine/disruptionplan/
	go test -run XXX -bench . -benchtime 2s ./test/localcloud/awsemu/

.PHONY: bench-vs-karpenter
bench-vs-karpenter: karpenterbench ## nodewright against Karpenter's own scheduler: solve time, nodes, true $/h and lower bound per workload, and a 48-hour price-stability sweep.
	go run ./test/benchvs/cmd/vskarpenter -karpenter $(KARPENTERBENCH)

.PHONY: bench-scale
SCALE_PODS ?= 1000
SCALE_STEP ?= $(SCALE_PODS)
bench-scale: tools build provider ## The controller as a process on the local cloud: SCALE_PODS pending pods (default 1000, mixed shapes, some zonal spread) in steps of SCALE_STEP; idle for SCALE_STEADY (60s); SCALE_INTERRUPTIONS spot interruptions at once (default a fifth of the spot nodes, at most 200; none skips); every Deployment scaled to SCALE_DOWN_TO of its pods (default 0.2; 0 skips) until consolidation stops. Pod latency, nodes, $/h, CreateFleet and apiserver requests per step; RSS, Go heap, CPU, apiserver and AWS rates idle; interruption and scale-down times. Writes bench-scale.json.
	NODEWRIGHT_BENCH_SCALE=1 NODEWRIGHT_BIN_DIR=$(BIN) SCALE_PODS=$(SCALE_PODS) SCALE_STEP=$(SCALE_STEP) SCALE_COMMIT=$$(git rev-parse --short HEAD) SCALE_OUT=$(CURDIR)/bench-scale.json \
	  go test -count=1 -timeout 90m -v -run TestBenchScale ./test/scale/

.PHONY: soak
DURATION ?= 30m
soak: tools build provider image ## Chaos soak for DURATION (default 30m): two controller replicas under leader election, a changing workload, faults at random (spot interruptions, rebalance, scheduled changes, ICE, API throttling and 5xx, leader SIGKILL, AWS endpoint restart, instances that never join, NotReady nodes); invariants checked throughout; prints a report. make test runs 3 minutes of it.
	SOAK_DURATION=$(DURATION) NODEWRIGHT_BIN_DIR=$(BIN) TF_ACC_TERRAFORM_PATH=$(TF_PATH) go test -count=1 -timeout 4h -v -run TestSoak ./test/integration/

.PHONY: bench-vs-karpenter-e2e
bench-vs-karpenter-e2e: tools build $(KARPENTER_CONTROLLER) ## Real Karpenter and nodewright side by side on two local clouds started together: pod latency, NodeClaims, instances, $/h, scale-to-zero time and AWS calls per workload (~5 min).
	NODEWRIGHT_BENCH_E2E=1 NODEWRIGHT_BIN_DIR=$(BIN) go test -count=1 -timeout 20m -v -run TestBenchVsKarpenterE2E ./test/karpenter/

.PHONY: lint
lint: ## gofmt and go vet, for the root module and the tools module.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	cd $(TOOLS) && go vet ./...

.PHONY: local-up
local-up: tools build ## Start the local cloud on 127.0.0.1 (state in .localcloud/).
	$(LOCALCLOUD) up

.PHONY: local-down
local-down: ## Stop every process of the local cloud (state is kept).
	@if [ -x $(LOCALCLOUD) ]; then $(LOCALCLOUD) down; else echo "localcloud not built: nothing to stop"; fi

.PHONY: local-status
local-status: ## Show the local cloud's components; crashed ones with their log tail.
	@$(LOCALCLOUD) status

.PHONY: clean
clean: local-down ## Stop the local cloud, remove its state and nodewright's binaries (keeps the tool cache).
	rm -rf .localcloud $(BIN)/localcloud $(BIN)/nodewright

.PHONY: clean-tools
clean-tools: clean ## Also remove the cached third-party tools (the next build takes ~15 minutes).
	rm -rf $(BIN)

.PHONY: demo
demo: ## The main job: local cloud, terraform apply examples/local, then the inflate walkthrough.
	@if [ ! -f $(STAMP)/kubernetes-$(KUBE_VERSION)-kubectl ]; then \
	  echo ">> first run: building Kubernetes $(KUBE_VERSION), etcd and kwok from source (about 15 minutes on 2 cores; later runs take seconds)"; fi
	@$(MAKE) --no-print-directory tools build provider image GOBUILD_FLAGS=-v 2>&1 | awk '/^>>|ready|provider|^[a-z]/ {print; next} {n++; if (n % 100 == 0) printf "   ... %d packages compiled\n", n}'
	@if ! $(LOCALCLOUD) status >/dev/null 2>&1; then $(LOCALCLOUD) up; else echo ">> local cloud already up"; fi
	@echo ">> terraform apply examples/local (with $(TF_PATH))"
	@# The lock file only pins our own provider, whose checksum changes with every build.
	@set -a; . $(ROOT)/.localcloud/env; set +a; cd examples/local && rm -f .terraform.lock.hcl && \
	  TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) $(TF_PATH) init -input=false -no-color >/dev/null && \
	  TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) $(TF_PATH) apply -auto-approve -input=false -no-color -var kubeconfig=$$KUBECONFIG \
	    -var controller_image=$${NODEWRIGHT_CONTROLLER_IMAGE:?the local cloud pushed no controller image: run make image, then make local-down and make demo}
	@$(LOCALCLOUD) walkthrough
	@echo; echo "The local cloud is still up. Explore it:"; \
	  echo "  source .localcloud/env; bin/kubectl get nodepools,nodeclaims,nodes"; \
	  echo "  bin/localcloud inject --help   # faults: spot interruptions, capacity, throttling"; \
	  echo "Stop it with: make demo-down"

.PHONY: demo-down
demo-down: ## Destroy the demo's Terraform resources and stop the local cloud.
	@if $(LOCALCLOUD) status >/dev/null 2>&1; then set -a; . $(ROOT)/.localcloud/env; set +a; cd examples/local && \
	  TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) $(TF_PATH) destroy -auto-approve -input=false -no-color -var kubeconfig=$$KUBECONFIG \
	    -var controller_image=$${NODEWRIGHT_CONTROLLER_IMAGE:-}; fi
	@$(MAKE) --no-print-directory local-down
