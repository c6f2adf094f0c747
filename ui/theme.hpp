// theme.hpp: looks and fonts. The normal (light) theme and the presenter's high-contrast one, sizes scaled
// with the font scale ("larger controls"), and the font: assets/fonts/quantlab-ui.ttf, a subset of
// IPAPGothic with the Latin and Japanese glyphs the UI uses (scripts/make_font_subset.py). Fonts are baked at
// the exact pixel size of the current scale so text stays crisp; a rebake happens between frames.
#pragma once
#include <string>
#include <vector>

#include "core/status.hpp"

struct ImFont;

namespace quantlab::ui {

// The headline (an accuracy, "W4A4: 56.6 %") is set this much larger than body text.
constexpr float kHeadlineScale = 1.75f;
// The headline font, baked beside the body font at kHeadlineScale its size; ImGui's default font when none.
ImFont* headline_font();

class Theme {
public:
    // Reads the font file once. A missing/bad file: ImGui's built-in font (Latin only) and an error.
    Status load_font(const std::string& path);
    // What the next frames should look like. Cheap; call every frame.
    void request(float font_scale, bool high_contrast, float dpi_scale);
    // True when the font atlas must be rebuilt at a new size (only between frames: see rebake()).
    bool needs_rebake() const { return baked_px_ != wanted_px(); }
    // Rebuilds the font atlas at the requested size; when the OpenGL3 backend is already initialised, its
    // font texture too. Call outside NewFrame()..Render().
    void rebake();
    // Baked size vs requested size: ImGui's FontGlobalScale when no rebake happened (blurrier, still right).
    float magnification() const { return baked_px_ > 0 ? wanted_px() / baked_px_ : 1.0f; }
    // Applies colours and sizes to ImGui's style when they changed. Call at the start of a frame.
    void apply_style();
    // Scale factor for sizes given in "pixels at scale 1".
    float scale() const { return font_scale_ * dpi_; }
    bool high_contrast() const { return high_contrast_; }

private:
    float wanted_px() const;
    std::vector<unsigned char> font_data_;
    float font_scale_ = 1, dpi_ = 1;
    bool high_contrast_ = false;
    float baked_px_ = -1;
    float styled_scale_ = -1;
    int styled_hc_ = -1;
};

}  // namespace quantlab::ui
