// thread_priority.hpp: background training yields to the desktop app's frame loop. On a machine without a GPU,
// Mesa draws the frames in software on the same cores the trainer uses, and a frame that waits for a core is
// late. Used by both engines' workers in quantlab-gui (native/gui/gui_trainer.cpp, ui/core_trainer's
// on_worker_start); torch-free.
#pragma once

namespace quantlab::trainer {

// Lowers the calling thread's priority (nice 10). Linux keeps a nice value per thread, inherited by the threads
// it starts afterwards (e.g. torch's OpenMP workers); elsewhere this does nothing.
void lower_this_thread_priority();

}  // namespace quantlab::trainer
