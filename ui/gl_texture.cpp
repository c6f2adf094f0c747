// gl_texture.cpp: see gl_texture.hpp.
#include "ui/gl_texture.hpp"

#include "ui/frame_look.hpp"

#if defined(__EMSCRIPTEN__)
#include <GLES3/gl3.h>
#else
#include <GL/gl.h>
#endif

namespace quantlab::ui {

RgbaTexture::~RgbaTexture() {
    if (tex_) {
        GLuint t = tex_;
        glDeleteTextures(1, &t);
    }
}

void RgbaTexture::upload(const uint8_t* rgba, int w, int h) {
    GLint previous = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous);
    if (!tex_) {
        GLuint t = 0;
        glGenTextures(1, &t);
        tex_ = t;
    }
    glBindTexture(GL_TEXTURE_2D, tex_);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
    glBindTexture(GL_TEXTURE_2D, GLuint(previous));
    w_ = w;
    h_ = h;
    note_texture_upload();
}

}  // namespace quantlab::ui
