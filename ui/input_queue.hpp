// input_queue.hpp: the window's key and character events, handed to ImGui one frame at a time. ImGui 1.86
// has no input queue: it samples io.KeysDown once per frame, so a key pressed and released between two
// frames (a busy machine, a slow frame, a synthetic key press) is never seen. The front ends queue the
// GLFW events here (ui/glfw_input.hpp) and each frame takes the events up to the first one that would
// change a key already changed in this frame: a press shows in one frame, its release in a later one.
// Characters travel in the same order, so a typed character never overtakes the key events before it.
// No GLFW and no ImGui in here (unit-tested in tests/unit/test_ui_input_queue.cpp).
#pragma once
#include <cstddef>
#include <deque>
#include <vector>

namespace quantlab::ui {

struct InputEvent {
    enum class Kind { kKey, kChar };
    Kind kind = Kind::kKey;
    int key = 0;        // kKey: the window system's key code (GLFW_KEY_*)
    int scancode = 0;   // kKey: passed through to the backend
    bool down = false;  // kKey: pressed (true) or released (false)
    int mods = 0;       // kKey: modifier bits, passed through
    unsigned codepoint = 0;  // kChar: the Unicode character
};

class InputQueue {
public:
    void push_key(int key, int scancode, bool down, int mods);
    void push_char(unsigned codepoint);

    // The events for the next frame, oldest first: the longest run from the front in which no key has two
    // events (characters go along in their place). Empty when nothing is queued.
    std::vector<InputEvent> take_frame();

    bool empty() const { return events_.empty(); }
    size_t size() const { return events_.size(); }

private:
    std::deque<InputEvent> events_;
};

}  // namespace quantlab::ui
