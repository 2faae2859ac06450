# Thin wrapper over CMake so the README's commands stay `make run` / `make test`.
# Every target installs the Debian packages it needs first (scripts/deps.sh).

BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
PREFIX    ?= /usr/local
JOBS      ?= $(shell nproc)
PORT      ?= 8080
DEMO_ROOT ?= $(BUILD)/demo-root
FUZZ_SECONDS ?= 60

CMAKE_ARGS = -DCMAKE_INSTALL_PREFIX=$(PREFIX)

.PHONY: all deps build test test-plain test-asan run install fuzz bench bench-fanout bench-serve clean

all: build

deps:
	@scripts/deps.sh build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Plain, then under AddressSanitizer + UndefinedBehaviorSanitizer.
test: test-plain test-asan

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DZC_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS)

run: build
	@scripts/demo-root.sh $(DEMO_ROOT)
	$(BUILD)/zcopy serve $(DEMO_ROOT) --listen 127.0.0.1:$(PORT)

install: build
	cmake --install $(BUILD)

fuzz:
	@scripts/deps.sh build fuzz
	CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZC_FUZZ=ON -DZC_TESTS=OFF
	cmake --build $(FUZZ) -j $(JOBS)
	scripts/fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

bench: build
	@scripts/deps.sh bench
	$(BUILD)/zcopy bench

# One message to 1, 8 and 64 receivers: write vs zc_pool vs vmsplice+tee, and
# the copy-on-write rows. Run as root, the reflink row mounts an XFS image
# (mkfs.xfs from xfsprogs) on a loop device under /var/tmp for the run;
# otherwise it says it was skipped and why.
bench-fanout: build
	@scripts/deps.sh bench
	$(BUILD)/zcopy bench --fanout 1,8,64 --runs 5

bench-serve: build
	@scripts/deps.sh bench
	bench/serve.py $(BUILD)/zcopy

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
