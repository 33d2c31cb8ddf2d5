# SPDX-License-Identifier: GPL-2.0
#
# One build chain: clang -target bpf -> bpftool gen skeleton -> ipsecmon-bpf.
# Everything generated goes to build/.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
SBINDIR   ?= $(PREFIX)/sbin

CLANG     ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL   ?= bpftool
CC        ?= cc
PKG_CONFIG ?= pkg-config
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

OUT       := build
VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h

# clang -target bpf does not know the host's multiarch include dirs
# (asm/types.h); borrow them from the host compiler's search list.
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

# The datapath reads byte arrays as words, as the kernel does: no strict aliasing.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -fno-strict-aliasing -Wall -Werror \
	-I$(dir $(VMLINUX_H)) -Iinclude -Ibpf $(CLANG_BPF_SYS_INCLUDES)

# Libraries by pkg-config module: what the monitor links, the part of it the
# datapath test and the bench link, and the unit tests' framework.
BPF_PKGS  := libbpf libelf zlib
USER_PKGS := $(BPF_PKGS) libmnl jansson libmicrohttpd
TEST_PKGS := cmocka

# $(call pkgs,OPTION,MODULES): pkg-config's OPTION for MODULES, or stop and
# name what is missing. Only recipes expand it (through the variables below),
# so make deps, which installs pkg-config and the modules, never needs it.
pkgs = $(call pkgs_need,$(2))$(shell $(PKG_CONFIG) $(1) $(2))
pkgs_need = $(if $(shell $(PKG_CONFIG) --version 2>/dev/null),,$(error $(PKG_CONFIG) \
	not found: run 'make deps'))$(if $(call pkgs_missing,$(1)),$(error $(PKG_CONFIG) \
	finds no $(call pkgs_missing,$(1)): run 'make deps' or set PKG_CONFIG_PATH))
pkgs_missing = $(strip $(foreach m,$(1),$(if $(shell $(PKG_CONFIG) --exists $(m) \
	2>/dev/null && echo y),,$(m))))

# Each asks pkg-config the first time a recipe uses it, then keeps the answer
# (the variable redefines itself as a simple one).
USER_CFLAGS = $(eval USER_CFLAGS := $$(call pkgs,--cflags,$$(USER_PKGS)))$(USER_CFLAGS)
USER_LIBS   = $(eval USER_LIBS := $$(call pkgs,--libs,$$(USER_PKGS)))$(USER_LIBS)
BPF_LIBS    = $(eval BPF_LIBS := $$(call pkgs,--libs,$$(BPF_PKGS)))$(BPF_LIBS)
TEST_CFLAGS = $(eval TEST_CFLAGS := $$(call pkgs,--cflags,$$(TEST_PKGS)))$(TEST_CFLAGS)
TEST_LIBS   = $(eval TEST_LIBS := $$(call pkgs,--libs,$$(TEST_PKGS)))$(TEST_LIBS)
MNL_CFLAGS  = $(eval MNL_CFLAGS := $$(call pkgs,--cflags,libmnl))$(MNL_CFLAGS)
MNL_LIBS    = $(eval MNL_LIBS := $$(call pkgs,--libs,libmnl))$(MNL_LIBS)

CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-Iinclude -I$(OUT) -Iuser -DIPSM_VERSION='"$(VERSION)"' $(USER_CFLAGS)
LDLIBS    = $(USER_LIBS)

USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUT)/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(OUT)/main.o,$(USER_OBJS))
BPF_OBJ   := $(OUT)/ipsecmon.bpf.o
SKEL      := $(OUT)/ipsecmon.skel.h
BIN       := $(OUT)/ipsecmon-bpf

# Debian packages for build, tests and demo (tests/vm adds its own list).
# libclang-rt-dev: libFuzzer and the ASan/UBSan runtimes for the default
# clang (clang-14 only recommends them, and deps installs no recommends).
DEPS := make clang libclang-rt-dev llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmnl-dev \
	libjansson-dev libcmocka-dev pkg-config iproute2 jq python3-scapy tcpdump \
	libmicrohttpd-dev prometheus curl tmux groff man-db logrotate netsniff-ng iperf3 \
	$(shell cat tests/vm/packages.txt 2>/dev/null)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: bench-wire bench-scale
.PHONY: all deps test test-unit test-bpf test-netns test-vm test-prom bench demo install \
	uninstall vmlinux clean format test-fuzz test-sanitize fuzz fuzz-corpus

all: $(BIN)

$(OUT):
	$(Q)mkdir -p $@

$(BPF_OBJ): bpf/ipsecmon.bpf.c bpf/parse.h include/ipsecmon.h $(VMLINUX_H) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUT)/%.bpf.o: tests/bench/%.bpf.c include/ipsecmon.h $(VMLINUX_H) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(OUT)/%.o: user/%.c $(wildcard user/*.h) include/ipsecmon.h $(SKEL) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BIN): $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# --- tests -------------------------------------------------------------------

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/%,$(wildcard tests/unit/test_*.c))

# The XFRM tests answer the netlink socket themselves (scripted dumps).
$(OUT)/test_xfrm_nl $(OUT)/asan/test_xfrm_nl: TEST_WRAP := \
	-Wl,--wrap=mnl_socket_sendto,--wrap=mnl_socket_recvfrom

$(OUT)/test_%: tests/unit/test_%.c tests/unit/fixture.c tests/unit/fixture.h $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(TEST_CFLAGS) -Itests/unit $(filter %.c %.o,$^) $(LDLIBS) $(TEST_LIBS) \
		$(TEST_WRAP) -o $@

# The datapath test with its reporter, and the packet builder and host
# setup (bpf_env) it shares with the bench and the fuzzer.
BPF_TEST_LIB := tests/bpf/pkt.c tests/bpf/pkt.h tests/bpf/bpf_env.c tests/bpf/bpf_env.h

$(OUT)/test_datapath: tests/bpf/test_datapath.c tests/bpf/report.c tests/bpf/report.h \
		user/learned.c user/learned.h user/sa_table.c user/sa_table.h user/maps.c \
		user/pins.c user/netns.c user/log.c $(BPF_TEST_LIB) $(SKEL) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -Iuser $(filter %.c,$^) $(BPF_LIBS) -o $@

$(OUT)/bench: tests/bench/bench.c $(BPF_TEST_LIB) $(SKEL) $(OUT)/bench_pass.skel.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $(filter %.c,$^) $(BPF_LIBS) -lm -o $@

# --- fuzzing and sanitizers (tests/fuzz) -------------------------------------

# The unit tests and the libFuzzer harnesses are built again from source
# with ASan and UBSan (never from the -O2 objects above); every finding
# aborts.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_WARN  := -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-Wno-gnu-variable-sized-type-not-at-end
SAN_CFLAGS = -g -O1 $(SAN_FLAGS) $(SAN_WARN) -Iinclude -I$(OUT) -Iuser \
	-DIPSM_VERSION='"$(VERSION)"' $(USER_CFLAGS)
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer $(SAN_FLAGS) $(SAN_WARN) -Iinclude -Iuser $(MNL_CFLAGS)
SAN_ENV   := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

SAN_OBJS  := $(patsubst user/%.c,$(OUT)/asan/%.o,$(filter-out user/main.c,$(USER_SRCS)))
SAN_UNIT  := $(patsubst tests/unit/%.c,$(OUT)/asan/%,$(wildcard tests/unit/test_*.c))
FUZZ_BINS := $(OUT)/fuzz_datapath $(OUT)/fuzz/fuzz_xfrm_nl $(OUT)/fuzz/fuzz_xfrm_stat

$(OUT)/asan $(OUT)/fuzz:
	$(Q)mkdir -p $@

$(OUT)/asan/%.o: user/%.c $(wildcard user/*.h) include/ipsecmon.h $(SKEL) | $(OUT)/asan
	$(call msg,CC-SAN,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) -c $< -o $@

$(OUT)/asan/test_%: tests/unit/test_%.c tests/unit/fixture.c tests/unit/fixture.h $(SAN_OBJS)
	$(call msg,CC-SAN,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) $(TEST_CFLAGS) -Itests/unit $(filter %.c %.o,$^) $(LDLIBS) \
		$(TEST_LIBS) $(TEST_WRAP) -o $@

# Each harness with the one parser it tests, both instrumented.
$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c user/%.c user/%.h include/ipsecmon.h | $(OUT)/fuzz
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) $(MNL_LIBS) -o $@

$(OUT)/fuzz_datapath: tests/fuzz/fuzz_datapath.c tests/bpf/report.c tests/bpf/report.h \
		$(BPF_TEST_LIB) $(SKEL) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $(filter %.c,$^) $(BPF_LIBS) -o $@

$(OUT)/gen_xfrm_corpus: tests/fuzz/gen_xfrm_corpus.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(MNL_LIBS) -o $@

# Rewrite the checked-in netlink seeds (the regress-* inputs stay).
fuzz-corpus: $(OUT)/gen_xfrm_corpus
	$(Q)$(OUT)/gen_xfrm_corpus tests/fuzz/corpus/xfrm_nl

test-sanitize: $(SAN_UNIT)
	$(Q)rc=0; for t in $(SAN_UNIT); do $(SAN_ENV) $$t || rc=1; done; exit $$rc

# Bounded: 10^5 frames per program, 20 s per libFuzzer target.
test-fuzz: $(FUZZ_BINS)
	$(Q)$(SAN_ENV) tests/fuzz/run.sh

# Long: 10^7 frames per program, 10 min per libFuzzer target (see README).
fuzz: deps all $(FUZZ_BINS)
	$(Q)$(SAN_ENV) tests/fuzz/run.sh long

test: deps all
	$(Q)tests/run.sh

test-unit: $(UNIT_TESTS)
	$(Q)rc=0; for t in $(UNIT_TESTS); do $$t || rc=1; done; exit $$rc

test-bpf: $(OUT)/test_datapath
	$(Q)$(OUT)/test_datapath

test-netns: $(BIN)
	$(Q)tests/netns/test_netns.sh

test-prom: $(BIN)
	$(Q)tests/prom/test_prom.sh

test-faces: $(BIN)
	$(Q)tests/faces/test_faces.sh

test-vm: $(BIN) $(OUT)/fuzz_datapath
	$(Q)tests/vm/suite.sh

bench: deps $(OUT)/bench
	$(Q)$(OUT)/bench

# The monitor at 1k, 10k and 100k SAs in the 6.12 guest (not a test; takes
# about an hour under TCG). The guest gets memory for 100k SAs' crypto.
bench-scale: deps all
	$(Q)IPSECMON_VM_SUITE=bench IPSECMON_VM_KERNEL=$${IPSECMON_VM_KERNEL:-6.12} \
		IPSECMON_VM_MEM=$${IPSECMON_VM_MEM:-8192} IPSECMON_VM_TIMEOUT=$${IPSECMON_VM_TIMEOUT:-5400} \
		tests/vm/run.sh scale

# On the wire (veth): what each hook costs the traffic it watches (not a test).
bench-wire: deps all $(OUT)/bench_pass.bpf.o
	$(Q)tests/bench/wire.sh

demo: deps all
	$(Q)tests/demo.sh

# Installs only what is missing, so it is cheap to depend on.
deps:
	$(Q)missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "  APT      $$missing"; \
		if [ ! -d /var/lib/apt/lists ] || [ -z "$$(ls /var/lib/apt/lists 2>/dev/null)" ]; then \
			apt-get update -q; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			$$missing || { apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			$$missing; }; \
	fi

# install also puts the man page, the systemd unit (ExecStart made to point
# at SBINDIR), bash completion and, only if absent, /etc/default/ipsecmon-bpf.
MANDIR        ?= $(PREFIX)/share/man
UNITDIR       ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/ipsecmon-bpf
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPLETIONDIR)
	gzip -9n <dist/ipsecmon-bpf.8 >$(DESTDIR)$(MANDIR)/man8/ipsecmon-bpf.8.gz
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/ipsecmon-bpf.8.gz
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/ipsecmon-bpf.service.in \
		>$(DESTDIR)$(UNITDIR)/ipsecmon-bpf.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ipsecmon-bpf.service
	install -m 0644 dist/ipsecmon-bpf.bash-completion $(DESTDIR)$(COMPLETIONDIR)/ipsecmon-bpf
	[ -e $(DESTDIR)/etc/default/ipsecmon-bpf ] || \
		install -D -m 0644 dist/ipsecmon-bpf.default $(DESTDIR)/etc/default/ipsecmon-bpf

# Leaves /etc/default/ipsecmon-bpf (local settings) in place.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ipsecmon-bpf \
		$(DESTDIR)$(MANDIR)/man8/ipsecmon-bpf.8 $(DESTDIR)$(MANDIR)/man8/ipsecmon-bpf.8.gz \
		$(DESTDIR)$(UNITDIR)/ipsecmon-bpf.service $(DESTDIR)$(COMPLETIONDIR)/ipsecmon-bpf

.PHONY: test-dist
test-dist: $(BIN)
	$(Q)tests/dist/run.sh

# Regenerate the checked-in vmlinux.h from the running kernel (see vmlinux/README.md).
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H)

format:
	clang-format -i bpf/*.c bpf/*.h include/*.h user/*.c user/*.h tests/*/*.c tests/*/*.h

clean:
	rm -rf $(OUT)

.DELETE_ON_ERROR:
.SECONDARY:
