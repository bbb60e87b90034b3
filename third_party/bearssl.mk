# Builds BearSSL's library from the fetched Debian source tree.
# Called by the top Makefile once the tree exists, so that the source list is
# read after the fetch:
#   make -f third_party/bearssl.mk SRC=<tree> OUT=<dir> CC=<cc> AR=<ar> CFLAGS=<flags>
# Every object is its own compilation unit with -ffunction-sections, so the
# final link keeps only what the sidecar's TLS profile references. The
# sources are listed in C-locale order and archived without timestamps
# (D), so the archive, and the link, do not depend on the machine.
# BearSSL picks its x86 code (AES-NI, pclmul, SSE2) by the compiler's
# target (inner.h): built for arm64 those files hold only stubs, and the
# engine's defaults fall back to the portable constant-time code.

SRC ?= build/third_party/bearssl/src
OUT ?= build/third_party/bearssl-musl
CC ?= musl-gcc
AR ?= ar
CFLAGS ?= -Os

BR_SRCS := $(shell find $(SRC)/src -name '*.c' | LC_ALL=C sort)
BR_OBJS := $(patsubst $(SRC)/src/%.c,$(OUT)/obj/%.o,$(BR_SRCS))

$(OUT)/libbearssl.a: $(BR_OBJS)
	@rm -f $@
	$(AR) rcsD $@ $^

$(OUT)/obj/%.o: $(SRC)/src/%.c
	@mkdir -p $(@D)
	@$(CC) $(CFLAGS) -I$(SRC)/inc -I$(SRC)/src -c $< -o $@
