// frame_look.hpp: a hash of everything a frame would put on the screen, so a front end can skip drawing a
// frame that looks like the one already shown (the page: FrameTiming::skip_unchanged). An idle page then
// costs no drawing (on a laptop's GPU, or in software rendering the CPU that the evaluation worker shares).
#pragma once
#include <imgui.h>

#include <cstdint>

namespace quantlab::ui {

// ImGui's vertices, indices and draw commands, the framebuffer size, and the texture uploads so far: new
// pixels can come under a texture name already in use, which must count as a new look.
uint64_t frame_look(const ImDrawData* draw_data, int fb_width, int fb_height);

// Call after each texture upload (RgbaTexture::upload, the font atlas's rebake). GL context thread only.
void note_texture_upload();

}  // namespace quantlab::ui
