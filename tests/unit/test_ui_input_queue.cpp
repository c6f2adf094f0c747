// test_ui_input_queue.cpp: ui::InputQueue, which hands the window's key events to ImGui a frame at a time.
// ImGui 1.86 samples key states once per frame, so a press and its release must reach it in different
// frames; the cases below are the presses a busy machine delivers between two frames.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ui/input_queue.hpp"

using quantlab::ui::InputEvent;
using quantlab::ui::InputQueue;

namespace {
constexpr int kDown = 264, kUp = 265, kCtrl = 341, kC = 67;  // GLFW_KEY_DOWN, _UP, _LEFT_CONTROL, _C

// A frame's events as text: "+264" a press, "-264" a release, "'a'" a character.
std::string text(const std::vector<InputEvent>& frame) {
    std::string s;
    for (const InputEvent& e : frame) {
        if (!s.empty()) s += ' ';
        if (e.kind == InputEvent::Kind::kKey) s += (e.down ? "+" : "-") + std::to_string(e.key);
        else s += "'" + std::string(1, char(e.codepoint)) + "'";
    }
    return s;
}
}  // namespace

TEST_CASE("input queue: a press and its release reach two frames", "[ui]") {
    InputQueue q;
    CHECK(q.take_frame().empty());
    q.push_key(kDown, 108, true, 0);
    q.push_key(kDown, 108, false, 0);
    CHECK(q.size() == 2);
    const std::vector<InputEvent> first = q.take_frame();
    REQUIRE(first.size() == 1);
    CHECK(first[0].kind == InputEvent::Kind::kKey);
    CHECK(first[0].key == kDown);
    CHECK(first[0].scancode == 108);
    CHECK(first[0].down);
    CHECK_FALSE(q.empty());
    CHECK(text(q.take_frame()) == "-264");
    CHECK(q.empty());
    CHECK(q.take_frame().empty());
}

TEST_CASE("input queue: three quick presses are three presses", "[ui]") {
    InputQueue q;
    for (int i = 0; i < 3; ++i) {
        q.push_key(kDown, 0, true, 0);
        q.push_key(kDown, 0, false, 0);
    }
    std::vector<std::string> frames;
    while (!q.empty()) frames.push_back(text(q.take_frame()));
    CHECK(frames == std::vector<std::string>{"+264", "-264", "+264", "-264", "+264", "-264"});
}

TEST_CASE("input queue: different keys share a frame, a chord stays a chord", "[ui]") {
    InputQueue q;
    // Ctrl+C typed between two frames: Ctrl and C are down together in the first frame.
    q.push_key(kCtrl, 0, true, 0);
    q.push_key(kC, 0, true, 2);
    q.push_key(kC, 0, false, 2);
    q.push_key(kCtrl, 0, false, 0);
    const std::vector<InputEvent> first = q.take_frame();
    CHECK(text(first) == "+341 +67");
    REQUIRE(first.size() == 2);
    CHECK(first[1].mods == 2);
    CHECK(text(q.take_frame()) == "-67 -341");
    CHECK(q.empty());
    // Down then Up, pressed and released in a row: each press with the other's release at most.
    q.push_key(kDown, 0, true, 0);
    q.push_key(kDown, 0, false, 0);
    q.push_key(kUp, 0, true, 0);
    q.push_key(kUp, 0, false, 0);
    CHECK(text(q.take_frame()) == "+264");
    CHECK(text(q.take_frame()) == "-264 +265");
    CHECK(text(q.take_frame()) == "-265");
}

TEST_CASE("input queue: characters keep their place among the key events", "[ui]") {
    InputQueue q;
    const int kA = 65;
    q.push_key(kA, 0, true, 0);
    q.push_char('a');
    q.push_key(kA, 0, false, 0);
    q.push_key(kA, 0, true, 0);
    q.push_char('a');
    q.push_key(kA, 0, false, 0);
    q.push_char('+');  // a character without key events (an input method)
    CHECK(text(q.take_frame()) == "+65 'a'");
    CHECK(text(q.take_frame()) == "-65");
    CHECK(text(q.take_frame()) == "+65 'a'");
    CHECK(text(q.take_frame()) == "-65 '+'");
    CHECK(q.empty());
}
