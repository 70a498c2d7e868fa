/* The libFuzzer entry point each target defines; replay.c drives it without libFuzzer. */
#ifndef PETL_FUZZ_H
#define PETL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
