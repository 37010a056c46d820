# Thin wrapper around meson/ninja so the two README commands do everything.
BUILD    ?= build
ASAN     ?= build-asan
MESON    ?= meson
PYTEST   ?= /usr/bin/python3 -m pytest

.PHONY: vm-kernel all deps build demo check check-hosts check-hosts-full unit integration asan bench fuzz format clean

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) >/dev/null

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The vm backend's guest kernel (about 13 minutes on 2 cores; cached).
vm-kernel:
	@HUSK_VM_DEPS=1 sh scripts/deps.sh
	mkdir -p $(BUILD)/vm
	sh vm/kernel/build.sh $(BUILD)/vm/vmlinux

demo: build
	sh scripts/demo.sh $(BUILD)/husk

unit: build
	$(MESON) test -C $(BUILD) --print-errorlogs

integration: build
	HUSK=$(abspath $(BUILD)/husk) PROBE=$(abspath $(BUILD)/tests/helper/probe) \
		$(PYTEST) -q tests/integration

$(ASAN)/build.ninja:
	CC=clang $(MESON) setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug >/dev/null

asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)

check: build asan
	HUSK_CHECK_DEPS=1 HUSK_ENGINE_DEPS=1 HUSK_PKG_DEPS=1 HUSK_VM_DEPS=1 HUSK_HOSTS_DEPS=1 \
		sh scripts/deps.sh
	sh scripts/check.sh $(BUILD) $(ASAN)

# The test host (docs/testhost.md): a Debian 12 VM, pure cgroup v2 with
# systemd as PID 1, runs the cgroup integration tests against this build.
check-hosts: build
	HUSK_HOSTS_DEPS=1 sh scripts/deps.sh
	sh tests/hosts/check.sh $(BUILD)

# The whole integration suite on the test host (about an hour under TCG).
check-hosts-full: build
	HUSK_HOSTS_DEPS=1 sh scripts/deps.sh
	HUSK_TESTHOST_TESTS=tests/integration HUSK_TESTHOST_LIMIT=7200 sh tests/hosts/check.sh $(BUILD)

# The config.json fuzzer (clang + libFuzzer): FUZZ_SECONDS, default 60.
FUZZ_SECONDS ?= 60
fuzz:
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: build vm-kernel
	HUSK_BENCH_DEPS=1 HUSK_VM_DEPS=1 sh scripts/deps.sh
	sh bench/run.sh $(abspath $(BUILD)/husk)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN)
