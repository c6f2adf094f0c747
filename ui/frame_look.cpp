// frame_look.cpp: see frame_look.hpp.
#include "ui/frame_look.hpp"

#include <cstring>

namespace quantlab::ui {

namespace {
uint64_t g_uploads = 0;  // the GL context's thread only, like every texture upload
}  // namespace

void note_texture_upload() { ++g_uploads; }

uint64_t frame_look(const ImDrawData* d, int fb_w, int fb_h) {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    auto mix = [&h](uint64_t v) { h = (h ^ v) * 0x100000001B3ull + (h >> 29); };
    auto mix_bytes = [&mix](const void* p, size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t v;
            std::memcpy(&v, b + i, 8);
            mix(v);
        }
        uint64_t tail = 0;
        std::memcpy(&tail, b + i, n - i);
        mix(tail ^ (uint64_t(n) << 56));
    };
    mix(uint64_t(uint32_t(fb_w)) << 32 | uint32_t(fb_h));
    mix(g_uploads);
    if (!d) return h;
    mix_bytes(&d->DisplayPos, sizeof d->DisplayPos);
    mix_bytes(&d->DisplaySize, sizeof d->DisplaySize);
    mix_bytes(&d->FramebufferScale, sizeof d->FramebufferScale);
    for (int l = 0; l < d->CmdListsCount; ++l) {
        const ImDrawList* list = d->CmdLists[l];
        mix_bytes(list->VtxBuffer.Data, size_t(list->VtxBuffer.Size) * sizeof(ImDrawVert));
        mix_bytes(list->IdxBuffer.Data, size_t(list->IdxBuffer.Size) * sizeof(ImDrawIdx));
        for (const ImDrawCmd& c : list->CmdBuffer) {
            mix_bytes(&c.ClipRect, sizeof c.ClipRect);
            mix(uint64_t(intptr_t(c.GetTexID())));
            mix(uint64_t(c.VtxOffset) << 32 | c.IdxOffset);
            mix(uint64_t(c.ElemCount) << 1 | (c.UserCallback ? 1u : 0u));
        }
    }
    return h;
}

}  // namespace quantlab::ui
