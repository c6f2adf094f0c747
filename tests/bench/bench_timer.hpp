// bench_timer.hpp: a tiny timing harness shared by the native and wasm benchmarks (Google Benchmark
// does not build for wasm). Runs a function until ~min_seconds have passed and reports the median run.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace quantlab::bench {

template <class F>
double median_seconds(F&& f, double min_seconds = 1.0, int min_runs = 5) {
    using clock = std::chrono::steady_clock;
    std::vector<double> runs;
    const auto start = clock::now();
    while (int(runs.size()) < min_runs || std::chrono::duration<double>(clock::now() - start).count() < min_seconds) {
        const auto t0 = clock::now();
        f();
        runs.push_back(std::chrono::duration<double>(clock::now() - t0).count());
    }
    std::sort(runs.begin(), runs.end());
    return runs[runs.size() / 2];
}

// Prints "name  value unit" aligned, one line per figure, easy to grep and paste into a note.
inline void report(const char* name, double value, const char* unit) { std::printf("%-40s %12.1f %s\n", name, value, unit); }

}  // namespace quantlab::bench
