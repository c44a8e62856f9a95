# Convenience wrapper around meson/ninja and the scripts.
.PHONY: all check run setup clean fuzz-cpu fuzz-tcgl
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
# tcg-lite against host silicon (tests/tcgl-diff, docs/tcg-lite.md
# "differential oracle"): every directed case, then random instructions
# for FUZZ_TIME seconds.  FUZZ_CANDIDATE=auto is tcg-lite once linked in.
FUZZ_TIME ?= 600
FUZZ_SEED ?= $(shell date +%s)
FUZZ_CANDIDATE ?= auto
fuzz-cpu: all
	build/tests/tcgl-diff/tcgl-diff --candidate $(FUZZ_CANDIDATE) --max-report 20
	build/tests/tcgl-diff/tcgl-diff --candidate $(FUZZ_CANDIDATE) --max-report 20 \
		--random 0 --time $(FUZZ_TIME) --seed $(FUZZ_SEED) --mode both
# tcg-lite executing random bytes in every CPU mode (tests/fuzz/fuzz-tcgl-exec.c,
# docs/tcg-lite.md "CPU fuzzing"): libFuzzer + ASan/UBSan for FUZZ_TIME seconds.
fuzz-tcgl: all
	tests/fuzz/run-tcgl.sh build $(FUZZ_TIME)
