// parallel.hpp: the one place core spreads work over CPU threads (the fast conv/linear kernels use it).
// A small persistent pool of std::threads; the calling thread takes part. Under Emscripten (built without
// pthreads) everything runs serially on the calling thread. Not a task system: one loop at a time.
#pragma once
#include <cstdint>
#include <functional>

namespace quantlab {

// Threads that parallel_for uses from now on, the caller included. 0 = std::thread::hardware_concurrency()
// (also the default); values are clamped to [1, 256]. Waits for a parallel_for in progress to finish.
// Cheap otherwise: threads already started are kept (parked) when the count goes down, and used again when
// it goes back up. Under Emscripten without pthreads the count stays 1.
void set_num_threads(int n);
int num_threads();

// Calls fn(b, e) on disjoint sub-ranges [b, e) that together cover [begin, end), spread over num_threads()
// threads, and returns when all calls have returned. Sub-ranges are handed out dynamically (a busy core
// does not hold the others up), so fn must not depend on which thread runs which range or in what order.
// Runs serially, as fn(begin, end), when num_threads() == 1, when called from inside a parallel_for (nested),
// or while another thread's parallel_for holds the pool. An exception thrown by fn is rethrown here (the
// first one; the remaining sub-ranges may be skipped).
void parallel_for(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace quantlab
