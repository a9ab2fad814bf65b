# Thin wrapper: install what is missing (apt, only when missing), configure, build, act.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# Sanitizer and fuzz builds use clang (libFuzzer; ASan builds about twice as fast as with g++).
ASAN_CXX ?= clang++-14
FUZZ_CXX ?= clang++-14
FUZZ_SECONDS ?= 60
DEB_PACKAGES := cmake ninja-build g++ pkg-config libsystemc-dev libboost-graph-dev libeigen3-dev \
                catch2 libcli11-dev libyaml-cpp-dev nlohmann-json3-dev zlib1g-dev
CLANG_PACKAGES := clang-14 libclang-rt-14-dev
# Optional: `attnsim plot` renders through gnuplot; the GUI needs Qt 6 Widgets + Charts. Debian 12's
# qt6-charts-dev does not pull libqt6opengl6-dev, without which Qt6Charts' CMake config fails.
PLOT_PACKAGES := gnuplot-nox
GUI_PACKAGES := qt6-base-dev qt6-charts-dev libqt6opengl6-dev fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps deps-clang deps-plot deps-gui configure build run test gui gui-screenshots test-asan fuzz-build fuzz \
        bench clean validation-docs

# Installs the Debian packages of $(1) that are not installed yet.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "attnsim: installing missing packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PACKAGES))

deps-clang:
	$(call install_missing,$(CLANG_PACKAGES))

deps-plot:
	$(call install_missing,$(PLOT_PACKAGES))

deps-gui:
	$(call install_missing,$(GUI_PACKAGES))

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

GUI_SKIPPED = @[ -x $(BUILD)/attnsim-gui ] || echo "attnsim: GUI skipped (Qt 6 Widgets/Charts not found, or -DATTNSIM_GUI=OFF): the CLI and its tests do not need it; 'make gui' installs Qt and builds it"

build: configure
	cmake --build $(BUILD) -j $(JOBS)
	$(GUI_SKIPPED)

# Installs Qt, reconfigures (an earlier configure found no Qt) and builds attnsim-gui.
gui: deps deps-gui
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# Redraws docs/gui/*.png from the GUI tests (headless).
gui-screenshots: gui
	QT_QPA_PLATFORM=offscreen ATTNSIM_BIN=$(abspath $(BUILD))/attnsim ATTNSIM_SCREENSHOT_DIR=$(abspath docs/gui) \
	  $(BUILD)/gui/attnsim_gui_tests

run: build
	$(BUILD)/attnsim run --hw hw-configs/h100-sxm.yaml --workload workloads/llama3-8b-prefill-8k-causal.yaml

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(GUI_SKIPPED)

# The whole suite under AddressSanitizer + UBSan, in its own build (docs/robustness.md).
$(ASAN_BUILD)/build.ninja: | deps deps-clang
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=$(ASAN_CXX) -DATTNSIM_SANITIZE=ON -DATTNSIM_GUI=OFF

test-asan: deps deps-clang $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target attnsim attnsim_tests
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# libFuzzer targets for the config, workload and mask-file readers, FUZZ_SECONDS each.
$(FUZZ_BUILD)/build.ninja: | deps deps-clang
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DATTNSIM_FUZZ=ON -DATTNSIM_GUI=OFF

fuzz-build: deps deps-clang $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_config fuzz_workload fuzz_mask

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(JOBS)

bench: build
	$(BUILD)/bench/attnsim_bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

validation-docs: build
	validation/make_docs.sh
