# Builds BearSSL's library from the fetched Debian source tree.
# Called by the top Makefile once the tree exists, so that the source list is
# read after the fetch:
#   make -f third_party/bearssl.mk SRC=<tree> OUT=<dir> CC=<cc> CFLAGS=<flags>
# Every object is its own compilation unit with -ffunction-sections, so the
# final link keeps only what the sidecar's TLS profile references.

SRC ?= build/third_party/bearssl/src
OUT ?= build/third_party/bearssl-musl
CC ?= musl-gcc
CFLAGS ?= -Os

BR_SRCS := $(shell find $(SRC)/src -name '*.c' | sort)
BR_OBJS := $(patsubst $(SRC)/src/%.c,$(OUT)/obj/%.o,$(BR_SRCS))

$(OUT)/libbearssl.a: $(BR_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(OUT)/obj/%.o: $(SRC)/src/%.c
	@mkdir -p $(@D)
	@$(CC) $(CFLAGS) -I$(SRC)/inc -I$(SRC)/src -c $< -o $@
