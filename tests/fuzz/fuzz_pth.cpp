// fuzz_pth.cpp: libFuzzer entry point for the .pth reader (zip_reader + pickle_reader + pth_io).
// The input is tried both as a whole .pth and as a bare data.pkl, so the pickle parser is reached directly.
// FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION turns off the zip CRC check, which would stop most mutations.
// Build: clang++ -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
//        -std=c++17 -I. core/zip_reader.cpp
//        core/pickle_reader.cpp core/pth_io.cpp tests/fuzz/fuzz_pth.cpp -o fuzz_pth
// Run:   ./fuzz_pth -max_total_time=30 tests/fuzz/corpus/pth
#include <cstddef>
#include <cstdint>

#include "core/pickle_reader.hpp"
#include "core/pth_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto r = quantlab::read_pth_bytes(data, size, "fuzz.pth");
    // A successful read must be self-consistent: every name has a tensor of its shape's size.
    if (r.ok())
        for (const auto& name : r.value.names) {
            const quantlab::Tensor* t = r.value.find(name);
            if (!t || quantlab::numel(t->shape) != t->numel()) __builtin_trap();
        }
    auto g = quantlab::read_pickle(data, size, "fuzz.pkl");
    if (g.ok() && g.value.root >= g.value.values.size()) __builtin_trap();
    return 0;
}
