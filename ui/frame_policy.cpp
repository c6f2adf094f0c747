// frame_policy.cpp: see frame_policy.hpp. The numbers and why they are what they are.
#include "ui/frame_policy.hpp"

namespace quantlab::ui {

namespace {
// Desktop: long enough for one batch of 128 on all cores of a laptop, so the frame that shows a change also
// shows its first estimate instead of "0 images" until a later frame; short enough that the main-loop body
// (UI 2-4 ms + this wait) stays under the 33 ms a frame may take.
constexpr double kDesktopFirstEstimateWaitMs = 25.0;

// Page: the browser's main thread cannot sleep. A wait there busy-spins, taking a core from the batch it
// waits for, and the frame without the estimate is drawn anyway (~80-90 ms of CPU in software WebGL), so the
// estimate came one drawn frame later (a 2-core VM, headless Chromium: 120-150 ms after a key press, median,
// with or without that wait). Holding back the drawing (not the main loop) of frames that show a setting
// without its estimate keeps the main thread and the compositor idle, the first batch has every core, and
// the first frame drawn shows the change with its estimate (there 65-100 ms after the change, median). When
// the batch takes longer (static calibration, the reference backend, a slow machine), the change is drawn
// after this time without it.
constexpr double kPageFirstEstimateHoldMs = 100.0;
// Drawing is the GPU's work on a laptop, but where WebGL is rendered in software it took more CPU than the
// evaluation worker got (a 1280x800 frame ~90 ms of CPU in headless Chromium, drawn after every batch). So a
// frame that only moved the progress on is drawn at most every kPageProgressFrameMs; for kPageInteractionMs
// after input every change is drawn at once (the first estimate after a change is not held back by this).
constexpr double kPageProgressFrameMs = 200.0;
constexpr double kPageInteractionMs = 500.0;
}  // namespace

FrameTiming desktop_frame_timing() {
    FrameTiming t;
    t.first_estimate_wait_ms = kDesktopFirstEstimateWaitMs;
    return t;
}

FrameTiming page_frame_timing(int first_batch_threads) {
    FrameTiming t;
    t.first_batch_threads = first_batch_threads;
    t.first_estimate_hold_ms = kPageFirstEstimateHoldMs;
    t.skip_unchanged = true;
    t.progress_frame_ms = kPageProgressFrameMs;
    t.interaction_ms = kPageInteractionMs;
    return t;
}

void FramePolicy::note_input(double now_ms) { last_input_ms_ = now_ms; }

FrameAction FramePolicy::decide(const FrameFacts& f) {
    if (f.input) last_input_ms_ = f.now_ms;
    if (!f.estimate_pending) pending_since_ms_ = -1;
    else if (pending_since_ms_ < 0) pending_since_ms_ = f.now_ms;
    FrameAction action = FrameAction::kDraw;
    if (drawn_any_) {
        const bool unattended = f.now_ms - last_input_ms_ > timing_.interaction_ms;
        const bool progress_only = f.busy && unattended && f.now_ms - last_draw_ms_ < timing_.progress_frame_ms;
        const bool hold = f.estimate_pending && f.now_ms - pending_since_ms_ < timing_.first_estimate_hold_ms;
        if (timing_.skip_unchanged && !f.look_changed) action = FrameAction::kSkip;
        else if (hold) action = FrameAction::kHold;
        else if (progress_only) action = FrameAction::kSkip;
    }
    if (action == FrameAction::kDraw) {
        drawn_any_ = true;
        last_draw_ms_ = f.now_ms;
    }
    return action;
}

}  // namespace quantlab::ui
