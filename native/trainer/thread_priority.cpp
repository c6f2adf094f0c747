// thread_priority.cpp: see thread_priority.hpp.
#include "native/trainer/thread_priority.hpp"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace quantlab::trainer {

void lower_this_thread_priority() {
#ifdef __linux__
    (void)setpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid)), 10);
#endif
}

}  // namespace quantlab::trainer
