// input_queue.cpp: see input_queue.hpp.
#include "ui/input_queue.hpp"

#include <algorithm>

namespace quantlab::ui {

void InputQueue::push_key(int key, int scancode, bool down, int mods) {
    InputEvent e;
    e.kind = InputEvent::Kind::kKey;
    e.key = key;
    e.scancode = scancode;
    e.down = down;
    e.mods = mods;
    events_.push_back(e);
}

void InputQueue::push_char(unsigned codepoint) {
    InputEvent e;
    e.kind = InputEvent::Kind::kChar;
    e.codepoint = codepoint;
    events_.push_back(e);
}

std::vector<InputEvent> InputQueue::take_frame() {
    std::vector<InputEvent> frame;
    std::vector<int> changed;  // keys that went up or down in this frame (a handful at most)
    while (!events_.empty()) {
        const InputEvent& e = events_.front();
        if (e.kind == InputEvent::Kind::kKey) {
            if (std::find(changed.begin(), changed.end(), e.key) != changed.end()) break;
            changed.push_back(e.key);
        }
        frame.push_back(e);
        events_.pop_front();
    }
    return frame;
}

}  // namespace quantlab::ui
