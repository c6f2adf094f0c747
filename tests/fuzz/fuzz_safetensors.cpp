// fuzz_safetensors.cpp: libFuzzer entry point for the safetensors reader; a file it accepts must also
// survive a write and a second read unchanged.
// Build: clang++ -g -O1 -fsanitize=fuzzer,address,undefined -std=c++17 -I. core/safetensors_io.cpp
//        tests/fuzz/fuzz_safetensors.cpp -o fuzz_safetensors
// Run:   ./fuzz_safetensors -max_total_time=30 tests/fuzz/corpus/safetensors
#include <cstddef>
#include <cstdint>

#include "core/safetensors_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto r = quantlab::read_safetensors_bytes(data, size, "fuzz.safetensors");
    if (!r.ok()) return 0;
    auto bytes = quantlab::write_safetensors_bytes(r.value);
    if (!bytes.ok()) return 0;  // e.g. an I64 value float32 cannot hold exactly
    auto again = quantlab::read_safetensors_bytes(bytes.value.data(), bytes.value.size(), "rewritten");
    if (!again.ok() || again.value.names != r.value.names) __builtin_trap();
    for (const auto& name : r.value.names)
        if (again.value.find(name)->data != r.value.find(name)->data) __builtin_trap();
    return 0;
}
