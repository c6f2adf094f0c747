// test_ui_frame_policy.cpp: ui::FramePolicy, the front ends' frame timing, on hand-made clocks (no sleeping,
// no real time): the desktop's configuration draws every frame; the page's draws the first frame, skips
// frames that look like the one on screen, holds back frames that show a setting without its estimate for
// at most the hold time, and while evaluation runs unattended draws progress at most every 200 ms.
#include <catch2/catch.hpp>

#include "ui/frame_policy.hpp"

using namespace quantlab::ui;

namespace {
FrameFacts facts(double now_ms, bool look_changed = true, bool busy = false, bool pending = false, bool input = false) {
    return FrameFacts{now_ms, input, look_changed, busy, pending};
}
}  // namespace

TEST_CASE("frame policy: the desktop's timing draws every frame and waits 25 ms for a first estimate", "[ui]") {
    FramePolicy p(desktop_frame_timing());
    CHECK(p.timing().first_estimate_wait_ms == 25.0);
    CHECK(p.timing().first_batch_threads == 0);
    // Unchanged, pending, busy and unattended, 1 ms apart: none of it stops a desktop frame.
    for (int i = 0; i < 50; ++i) CHECK(p.decide(facts(1000.0 + i, false, true, true)) == FrameAction::kDraw);
}

TEST_CASE("frame policy: the page's timing", "[ui]") {
    const FrameTiming t = page_frame_timing(4);
    CHECK(t.first_estimate_wait_ms == 0.0);  // the browser's main thread must not wait
    CHECK(t.first_batch_threads == 4);
    CHECK(t.first_estimate_hold_ms == 100.0);
    CHECK(t.skip_unchanged);
    CHECK(t.progress_frame_ms == 200.0);
    CHECK(t.interaction_ms == 500.0);
}

TEST_CASE("frame policy (page): the first frame is drawn, an unchanged one is skipped", "[ui]") {
    FramePolicy p(page_frame_timing(0));
    CHECK(p.decide(facts(0, false, true, true)) == FrameAction::kDraw);  // first: whatever it shows
    CHECK(p.decide(facts(16, false)) == FrameAction::kSkip);
    CHECK(p.decide(facts(5000, false, false, false, true)) == FrameAction::kSkip);  // input, but the same look
    CHECK(p.decide(facts(5016, true)) == FrameAction::kDraw);
}

TEST_CASE("frame policy (page): frames without their estimate are held for at most the hold time", "[ui]") {
    FramePolicy p(page_frame_timing(0));
    REQUIRE(p.decide(facts(0)) == FrameAction::kDraw);
    // A change at t=1000 whose estimate is missing: held from its first frame on, drawn once 100 ms passed.
    CHECK(p.decide(facts(1000, true, true, true, true)) == FrameAction::kHold);
    CHECK(p.decide(facts(1050, true, true, true)) == FrameAction::kHold);
    CHECK(p.decide(facts(1099.5, true, true, true)) == FrameAction::kHold);
    CHECK(p.decide(facts(1100, true, true, true)) == FrameAction::kDraw);  // 100 ms after the first held frame
    // The estimate arrives: drawn at once (within the interaction time, so no progress limit).
    CHECK(p.decide(facts(1110, true, true, false)) == FrameAction::kDraw);
    // The next change: the hold counts from its own first frame, not from the last one.
    CHECK(p.decide(facts(1300, true, true, true, true)) == FrameAction::kHold);
    CHECK(p.decide(facts(1320, true, true, false)) == FrameAction::kDraw);  // estimate in: the change drawn with it
}

TEST_CASE("frame policy (page): the hold time can be changed, as the browser tests do", "[ui]") {
    FramePolicy p(page_frame_timing(0));
    REQUIRE(p.decide(facts(0)) == FrameAction::kDraw);
    p.timing().first_estimate_hold_ms = 60000;
    CHECK(p.decide(facts(1000, true, true, true, true)) == FrameAction::kHold);
    CHECK(p.decide(facts(30000, true, true, true)) == FrameAction::kHold);
    CHECK(p.decide(facts(30016, true, true, false)) == FrameAction::kDraw);
    p.timing().first_estimate_hold_ms = 0;
    CHECK(p.decide(facts(30100, true, true, true, true)) == FrameAction::kDraw);  // no hold: drawn without it
}

TEST_CASE("frame policy (page): unattended progress is drawn at most every 200 ms", "[ui]") {
    FramePolicy p(page_frame_timing(0));
    REQUIRE(p.decide(facts(0, true, true)) == FrameAction::kDraw);  // busy, nobody touched the page
    CHECK(p.decide(facts(600, true, true)) == FrameAction::kDraw);  // 600 ms after the last draw
    CHECK(p.decide(facts(700, true, true)) == FrameAction::kSkip);
    CHECK(p.decide(facts(799.9, true, true)) == FrameAction::kSkip);
    CHECK(p.decide(facts(800, true, true)) == FrameAction::kDraw);  // 200 ms after 600
    // Input at 900: every change is drawn for 500 ms after it.
    CHECK(p.decide(facts(900, true, true, false, true)) == FrameAction::kDraw);
    CHECK(p.decide(facts(916, true, true)) == FrameAction::kDraw);
    CHECK(p.decide(facts(1400, true, true)) == FrameAction::kDraw);  // 500 ms after the input: still attended
    CHECK(p.decide(facts(1401, true, true)) == FrameAction::kSkip);  // unattended, 1 ms after a draw
    // Not busy: a change is drawn however soon.
    CHECK(p.decide(facts(1402, true, false)) == FrameAction::kDraw);
    CHECK(p.decide(facts(1403, true, false)) == FrameAction::kDraw);
}

TEST_CASE("frame policy (page): input outside a frame (a file, a URL change) counts as interaction", "[ui]") {
    FramePolicy p(page_frame_timing(0));
    REQUIRE(p.decide(facts(0, true, true)) == FrameAction::kDraw);
    CHECK(p.decide(facts(1000, true, true)) == FrameAction::kDraw);
    CHECK(p.decide(facts(1016, true, true)) == FrameAction::kSkip);
    p.note_input(1020);
    CHECK(p.decide(facts(1032, true, true)) == FrameAction::kDraw);
}
