# Convenience wrapper around meson/ninja and the scripts.
.PHONY: all check run setup clean
all: build/build.ninja
	ninja -C build
build/build.ninja:
	./configure
setup:
	scripts/setup.sh
check: all
	tests/run-all
run: all
	scripts/run-default-vm.sh
clean:
	rm -rf build
