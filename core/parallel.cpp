// parallel.cpp: the thread pool behind parallel_for (see parallel.hpp). Workers are started lazily, by the
// first parallel_for that needs more of them than exist, and sleep on a condition variable between loops;
// each loop is cut into a few chunks per thread that the first num_threads()-1 workers and the caller take
// from an atomic counter. Lowering the count parks the other workers instead of ending them: the page's
// evaluation raises the count for one batch after each change and lowers it again, and a Web Worker thread
// started and ended each time would cost a round trip through the browser's main thread.
#include "core/parallel.hpp"

#include <algorithm>

// Emscripten with pthreads (the threaded web page) gets the same pool: std::thread is a Web Worker there.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define QUANTLAB_SERIAL_ONLY 1
#endif

#ifndef QUANTLAB_SERIAL_ONLY
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>
#endif
#if defined(__EMSCRIPTEN_PTHREADS__)
#include <emscripten/threading.h>
#endif

namespace quantlab {

#ifdef QUANTLAB_SERIAL_ONLY

// A web build without pthreads (the wasm tests, or QUANTLAB_WEB_THREADS=OFF): one thread, the caller's.
void set_num_threads(int) {}
int num_threads() { return 1; }
void parallel_for(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)>& fn) {
    if (begin < end) fn(begin, end);
}

#else

namespace {

constexpr int kMaxThreads = 256;
constexpr int64_t kChunksPerThread = 4;  // a few chunks per thread so a slower core takes fewer

int clamp_threads(int n) {
    if (n <= 0) n = int(std::thread::hardware_concurrency());
    return std::clamp(n, 1, kMaxThreads);
}

thread_local bool t_inside_parallel_for = false;

// The browser's main thread must not block (it would busy-wait and freeze the page): its loops run serially.
bool on_browser_main_thread() {
#if defined(__EMSCRIPTEN_PTHREADS__)
    return emscripten_is_main_browser_thread();
#else
    return false;
#endif
}

class Pool {
public:
    ~Pool() { stop_workers(); }

    void set_threads(int n) {
        std::lock_guard<std::mutex> run(run_mutex_);
        threads_ = clamp_threads(n);  // missing workers start on the next run(); extra ones stay parked
    }

    // No lock: kernels ask this on every call, and the browser's main thread must not wait for a loop.
    int threads() const { return threads_.load(); }

    void run(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)>& fn) {
        if (begin >= end) return;
        std::unique_lock<std::mutex> run(run_mutex_, std::try_to_lock);
        if (t_inside_parallel_for || !run.owns_lock() || threads_ == 1 || end - begin == 1 || on_browser_main_thread()) {
            fn(begin, end);
            return;
        }
        const int helpers = threads_ - 1;
        if (int(workers_.size()) < helpers) start_workers(helpers - int(workers_.size()));

        const int64_t chunks = std::min<int64_t>(end - begin, int64_t(threads_) * kChunksPerThread);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            fn_ = &fn;
            end_ = end;
            chunk_ = (end - begin + chunks - 1) / chunks;
            next_.store(begin);
            error_ = nullptr;
            helpers_ = helpers;
            pending_ = helpers;
            ++generation_;
        }
        work_cv_.notify_all();
        work();
        std::unique_lock<std::mutex> lock(mutex_);
        done_cv_.wait(lock, [&] { return pending_ == 0; });
        fn_ = nullptr;
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
    // Takes chunks until none are left; shared by the workers and the calling thread.
    void work() {
        t_inside_parallel_for = true;
        for (;;) {
            const int64_t b = next_.fetch_add(chunk_);
            if (b >= end_) break;
            try {
                (*fn_)(b, std::min(end_, b + chunk_));
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
                next_.store(end_);  // skip what is left
            }
        }
        t_inside_parallel_for = false;
    }

    void start_workers(int count) {
        // Workers wait for the *next* generation: record the current one before they start.
        for (int i = 0; i < count; ++i) {
            const int index = int(workers_.size());
            workers_.emplace_back([this, index, seen = generation_] { worker_main(index, seen); });
        }
    }

    // Worker `index` takes part in a loop when index < helpers_ (read with the generation, under the lock). A
    // loop ends only when its helpers have all finished it, so a helper never misses its generation; a parked
    // worker that wakes late skips to the newest one.
    void worker_main(int index, uint64_t seen) {
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
                if (stop_) return;
                seen = generation_;
                if (index >= helpers_) continue;
            }
            work();
            std::lock_guard<std::mutex> lock(mutex_);
            if (--pending_ == 0) done_cv_.notify_one();
        }
    }

    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        work_cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    std::mutex run_mutex_;  // held for a whole parallel_for, and while the thread count changes
    std::atomic<int> threads_{clamp_threads(0)};  // written under run_mutex_
    std::vector<std::thread> workers_;

    std::mutex mutex_;  // guards the fields below
    std::condition_variable work_cv_, done_cv_;
    uint64_t generation_ = 0;
    bool stop_ = false;
    int helpers_ = 0;  // workers that take part in the current loop (the first helpers_ of workers_)
    int pending_ = 0;  // of those, the ones that have not finished it
    std::exception_ptr error_;
    const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
    int64_t end_ = 0, chunk_ = 1;
    std::atomic<int64_t> next_{0};
};

Pool& pool() {
    static Pool p;
    return p;
}

}  // namespace

void set_num_threads(int n) { pool().set_threads(n); }
int num_threads() { return pool().threads(); }
void parallel_for(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)>& fn) {
    pool().run(begin, end, fn);
}

#endif

}  // namespace quantlab
