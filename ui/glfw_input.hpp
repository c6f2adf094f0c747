// glfw_input.hpp: the front ends' (native/gui, web/) GLFW key and character events go through an InputQueue
// (ui/input_queue.hpp) on their way to ImGui's GLFW backend, so that no key press is lost on a busy machine.
// One window per process: both front ends have exactly one.
#pragma once

struct GLFWwindow;

namespace quantlab::ui {

// Call right after ImGui_ImplGlfw_InitForOpenGL(window, true): replaces the key and character callbacks the
// backend installed with ones that queue the events (key repeats, which the backend ignores, are dropped).
void queue_glfw_input(GLFWwindow* window);

// Call once per frame, after glfwPollEvents() and before ImGui::NewFrame(): hands the frame's share of the
// queue (InputQueue::take_frame) to the backend's callbacks. Returns true when events are left for later
// frames: a loop that sleeps until the next event must not sleep then.
bool feed_queued_input();

}  // namespace quantlab::ui
