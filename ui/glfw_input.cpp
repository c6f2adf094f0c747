// glfw_input.cpp: see glfw_input.hpp.
#include "ui/glfw_input.hpp"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui_impl_glfw.h>

#include "ui/input_queue.hpp"

namespace quantlab::ui {

namespace {
GLFWwindow* g_window = nullptr;
InputQueue g_queue;  // filled by GLFW's callbacks, emptied by feed_queued_input: both on the main thread

void on_key(GLFWwindow*, int key, int scancode, int action, int mods) {
    if (action == GLFW_PRESS || action == GLFW_RELEASE) g_queue.push_key(key, scancode, action == GLFW_PRESS, mods);
}
void on_char(GLFWwindow*, unsigned int c) { g_queue.push_char(c); }
}  // namespace

void queue_glfw_input(GLFWwindow* window) {
    g_window = window;
    g_queue = InputQueue();
    glfwSetKeyCallback(window, on_key);
    glfwSetCharCallback(window, on_char);
}

bool feed_queued_input() {
    if (!g_window) return false;
    for (const InputEvent& e : g_queue.take_frame()) {
        if (e.kind == InputEvent::Kind::kKey)
            ImGui_ImplGlfw_KeyCallback(g_window, e.key, e.scancode, e.down ? GLFW_PRESS : GLFW_RELEASE, e.mods);
        else
            ImGui_ImplGlfw_CharCallback(g_window, e.codepoint);
    }
    return !g_queue.empty();
}

}  // namespace quantlab::ui
