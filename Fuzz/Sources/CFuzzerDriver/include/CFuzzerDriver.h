#ifndef C_FUZZER_DRIVER_H
#define C_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (LLVM 13+), linked in by `-sanitize=fuzzer`. SwiftPM gives every
/// executable its own `main`, so libFuzzer's `main` is never linked; each target's main.swift
/// calls this instead, with the process arguments and its test function.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
