# proxyvpn: one GNU Makefile (wg-tools style).
#   make            build ./proxyvpn
#   make check      unit tests (ASan+UBSan), fuzz smoke, end-to-end netns suite (root)
#   make unit       unit tests only      make fuzz      build the libFuzzer targets
#   make fault      build/fault/proxyvpn: test-only build with fault injection (PROXYVPN_FAULT)
#   make asan       build/asan/proxyvpn: ASan+UBSan build the e2e suite runs once (PROXYVPN=)
#   make tsan       build/tsan/proxyvpn: ThreadSanitizer build the --workers e2e tests run under
#   make valgrind   memcheck over a 1,000-connection transfer (root; e2e test valgrind)
#   make e2e        end-to-end suite     make format    reformat with clang-format
#   make format-check   the tree as clang-format leaves it   make layout-check   include boundaries
#   make bench      benchmark (root): bench/run.sh, rewrites docs/benchmarks.{md,png}
#                   (options in BENCH_ARGS, e.g. BENCH_ARGS='--paths pc_socks5,pv_socks5')
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
CLANG   ?= clang
PKGS    := libmnl libcap libnftables libseccomp
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wformat=2 -Wsign-compare -Wvla -Wundef
CFLAGS  ?= -O2 -g
override CFLAGS += $(INC) -std=c17 -D_GNU_SOURCE -DPROXYVPN_VERSION='"$(VERSION)"' $(WARN) \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP \
	$(shell pkg-config --cflags $(PKGS))
override LDLIBS += $(shell pkg-config --libs $(PKGS))
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TSAN    := -fsanitize=thread -fno-omit-frame-pointer

# src/<side>/<module>.c: lib, codec, engine, priv, cmd (docs/architecture.md);
# headers are included by name, every side's folder is on the include path, and
# scripts/check-layout.sh says which side may include which.
SIDES   := lib codec engine priv cmd
SRC     := $(wildcard $(SIDES:%=src/%/*.c))
INC     := $(SIDES:%=-Isrc/%)
OBJ     := $(SRC:src/%.c=build/%.o)
LIBOBJ  := $(filter-out build/cmd/main.o,$(OBJ))
SANOBJ  := $(LIBOBJ:build/%.o=build/san/%.o)
FAULTOBJ := $(OBJ:build/%.o=build/fault/%.o)
ASANOBJ := $(OBJ:build/%.o=build/asan/%.o)
TSANOBJ := $(OBJ:build/%.o=build/tsan/%.o)
UNIT    := $(patsubst tests/unit/%.c,build/unit/%,$(wildcard tests/unit/test-*.c))
# Shared by the unit tests (linked into each) and the fuzz targets (#included).
HELPOBJ := $(patsubst tests/unit/helpers/%.c,build/unit/helpers/%.o,$(wildcard tests/unit/helpers/*.c))
FUZZ    := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))

ifeq ($(V),1)
Q :=
else
Q := @
endif

all: proxyvpn

proxyvpn: $(OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: src/%.c | build
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

build/san/%.o: src/%.c | build
	@echo "  CC SAN  $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

# Test-only binary with the fault injection layer (src/fault.h), for the e2e suite.
fault: build/fault/proxyvpn

build/fault/proxyvpn: $(FAULTOBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/fault/%.o: src/%.c | build
	@echo "  CC FLT  $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DPROXYVPN_FAULT -c -o $@ $<

# The whole binary under ASan+UBSan, for one pass of the e2e suite.
asan: build/asan/proxyvpn

build/asan/proxyvpn: $(ASANOBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/asan/%.o: src/%.c | build
	@echo "  CC ASAN $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

# The whole binary under ThreadSanitizer, for the e2e tests that run engine
# threads (--workers): tests/run-all.sh e2e-tsan.
tsan: build/tsan/proxyvpn

build/tsan/proxyvpn: $(TSANOBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(TSAN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/tsan/%.o: src/%.c | build
	@echo "  CC TSAN $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(TSAN) -c -o $@ $<

build/unit/helpers/%.o: tests/unit/helpers/%.c | build
	@echo "  CC HELP $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

build/unit/%: tests/unit/%.c $(SANOBJ) $(HELPOBJ) | build
	@echo "  CC UNIT $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests/unit/helpers -o $@ $< $(SANOBJ) $(HELPOBJ) $(LDLIBS) -lcmocka

# Each fuzz target #includes the module sources it needs (wireguard-tools
# src/fuzz style), so it is one clang invocation with no shared objects.
build/fuzz/%: tests/fuzz/%.c $(SRC) $(wildcard tests/unit/helpers/*.[ch]) | build
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) -std=c17 -D_GNU_SOURCE -DFUZZING -g -O1 $(INC) \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(LDLIBS)

build:
	$(Q)mkdir -p build/san build/unit build/fuzz

unit: $(UNIT)
fuzz: $(FUZZ)

check: proxyvpn fault asan tsan unit fuzz
	$(Q)tests/run-all.sh

e2e: proxyvpn fault
	$(Q)tests/run-all.sh e2e

FORMAT_FILES = $(wildcard $(SIDES:%=src/%/*.[ch]) tests/unit/*.[ch] tests/unit/helpers/*.[ch] \
	tests/fuzz/*.[ch])
format:
	clang-format -i $(FORMAT_FILES)

# Fails, naming the files, if clang-format would change anything (run by make check).
format-check:
	$(Q)scripts/check-format.sh $(FORMAT_FILES)

# Fails if a file includes a header its side may not use (run by make check).
layout-check:
	$(Q)scripts/check-layout.sh

valgrind: proxyvpn fault
	$(Q)tests/e2e/run.sh -v valgrind

bench: proxyvpn
	$(Q)bash bench/run.sh --no-build $(BENCH_ARGS)
.PHONY: bench

# A real install (as root, no DESTDIR) also makes the group proxyvpn (who may
# use up/down), the system user proxyvpn (up's engine) and gives the binary
# root:proxyvpn 0750 cap_net_admin+ep: scripts/install-priv.sh, which a
# package's postinst runs instead (README, "Packaging"). Into a DESTDIR, or
# not as root, the install stays unprivileged.
install: proxyvpn
	install -D -m 0755 proxyvpn $(DESTDIR)$(BINDIR)/proxyvpn
	install -D -m 0644 doc/proxyvpn.8 $(DESTDIR)$(MANDIR)/man8/proxyvpn.8
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		sh scripts/install-priv.sh $(BINDIR)/proxyvpn; \
	else \
		echo "  NOTE    not root or DESTDIR set: no group, user or capability (scripts/install-priv.sh)"; \
	fi

clean:
	rm -rf build proxyvpn

.PHONY: all fault asan tsan unit fuzz check e2e valgrind format format-check layout-check install clean
.SECONDARY:
-include $(OBJ:.o=.d) $(SANOBJ:.o=.d) $(FAULTOBJ:.o=.d) $(ASANOBJ:.o=.d) $(TSANOBJ:.o=.d) \
	$(HELPOBJ:.o=.d)
