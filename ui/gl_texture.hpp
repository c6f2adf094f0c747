// gl_texture.hpp: an RGBA8 OpenGL texture for ImGui::Image (the test-image gallery). Both front ends render
// through ImGui's OpenGL3 backend (desktop GL 3 / WebGL2), whose ImTextureID is the GL texture name; these few
// GL 1.1-level calls work on both. Create, use and destroy it while the GL context is current.
#pragma once
#include <imgui.h>

#include <cstdint>

namespace quantlab::ui {

class RgbaTexture {
public:
    RgbaTexture() = default;
    ~RgbaTexture();
    RgbaTexture(const RgbaTexture&) = delete;
    RgbaTexture& operator=(const RgbaTexture&) = delete;

    // rgba: w*h*4 bytes, rows top to bottom. Nearest filtering: 32x32 images are shown as crisp pixels.
    void upload(const uint8_t* rgba, int w, int h);
    ImTextureID id() const { return (ImTextureID)(intptr_t)tex_; }
    bool valid() const { return tex_ != 0; }
    int width() const { return w_; }
    int height() const { return h_; }

private:
    unsigned tex_ = 0;
    int w_ = 0, h_ = 0;
};

}  // namespace quantlab::ui
