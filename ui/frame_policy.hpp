// frame_policy.hpp: when a front end draws a frame, holds it back or skips it, and how long a frame may wait
// for a new setting's first estimate. The aim: the first frame that shows a change (of bits, a rule) also
// shows that setting's estimate, while an idle window costs nothing. Two configurations of one policy:
//   desktop  App::frame sleeps up to 25 ms for the new setting's first batch (a worker thread computes it);
//            every frame is drawn (the loop caps the frame rate and sleeps when idle).
//   page     the browser's main thread cannot sleep (it would busy-spin, taking a core from that batch), so
//            App does not wait; instead the page holds back the drawing of frames that show a setting
//            without its estimate, for up to 100 ms, while the first batch runs on every core. It also skips
//            frames that look like the one on the canvas, and while evaluation runs unattended draws a frame
//            that only moved the progress on at most every 200 ms.
// The front end owns the policy and hands App a pointer (AppOptions::frame_policy). No ImGui, no clock of its
// own: times come in as arguments (unit-tested in tests/unit/test_ui_frame_policy.cpp).
#pragma once

namespace quantlab::ui {

struct FrameTiming {
    // How long App::frame, on the frame that shows a new setting, waits (sleeping) for its first batch.
    double first_estimate_wait_ms = 0;
    // Threads (core's parallel_for count) for a new setting's first batch, when more than for the rest
    // (EvalService::set_first_batch_threads); 0: as for the rest.
    int first_batch_threads = 0;
    // How long frames that show a setting without its estimate are held back (not drawn), from the first.
    double first_estimate_hold_ms = 0;
    // Skip a frame whose look (ui/frame_look.hpp) is that of the last frame drawn.
    bool skip_unchanged = false;
    // While evaluation runs and nobody touched the window for interaction_ms, a changed frame is drawn at
    // most every progress_frame_ms (0: no limit).
    double progress_frame_ms = 0;
    double interaction_ms = 0;
};

// The desktop app's and the page's configurations (see the file comment). first_batch_threads: the page
// passes its own count (the page's threads, see web/main.cpp), the desktop leaves it 0.
FrameTiming desktop_frame_timing();
FrameTiming page_frame_timing(int first_batch_threads);

enum class FrameAction {
    kDraw,  // draw the frame
    kHold,  // do not draw: it would show a setting without its estimate (the estimate is coming)
    kSkip,  // do not draw: it looks like the frame on screen, or only moved the progress on too soon
};

// What the front end knows about the frame it just built (after ImGui::Render()).
struct FrameFacts {
    double now_ms = 0;              // the front end's clock when the frame began
    bool input = false;             // pointer or key input in this frame
    bool look_changed = true;       // its look differs from the last frame drawn
    bool busy = false;              // App::busy(): evaluation work is pending
    bool estimate_pending = false;  // App::first_estimate_pending(): it shows a setting without its estimate
};

class FramePolicy {
public:
    explicit FramePolicy(FrameTiming timing) : timing_(timing) {}

    const FrameTiming& timing() const { return timing_; }
    // Tests change the wait and the hold (see web/main.cpp's ql_set_first_estimate_*): long values make "the
    // first frame with a new setting shows its estimate" independent of the machine's speed.
    FrameTiming& timing() { return timing_; }

    // Input outside a frame (a file opened, a URL change): counts as interaction from now_ms on.
    void note_input(double now_ms);

    // Decides about one frame and remembers a drawn one. The first frame is always drawn.
    FrameAction decide(const FrameFacts& frame);

private:
    FrameTiming timing_;
    bool drawn_any_ = false;
    double last_input_ms_ = -1e300;
    double last_draw_ms_ = -1e300;
    double pending_since_ms_ = -1;  // when the frames showing a setting without its estimate began; -1: none
};

}  // namespace quantlab::ui
