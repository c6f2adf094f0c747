// theme.cpp: styles, presenter mode and font baking (see theme.hpp).
// Font: assets/fonts/quantlab-ui.ttf is IPAPGothic (fonts-ipafont-gothic, IPA Font License) cut down to the
// glyphs of ui/i18n.cpp's tables plus ASCII and a few symbols; regenerate it after changing UI text with
//   python3 scripts/make_font_subset.py          (pyftsubset from python3-fonttools)
#include "ui/theme.hpp"

#include <imgui.h>
#include <imgui_impl_opengl3.h>

#include <cmath>

#include "core/file_io.hpp"
#include "ui/frame_look.hpp"
#include "ui/i18n.hpp"
#include "ui/plot.hpp"

namespace quantlab::ui {

namespace {
constexpr float kBaseFontPx = 16.0f;

// Plot colours per theme, in plot::Colors' order: frame, plot area, axis, grid, text, dim text, legend, hover;
// the 8 series (Okabe-Ito, colour-blind safe; brightened on black); clipped tails; good, bad, warn.
const plot::Colors kLightPlot = {
    IM_COL32(255, 255, 255, 255), IM_COL32(252, 252, 253, 255), IM_COL32(60, 60, 70, 255), IM_COL32(222, 224, 230, 255),
    IM_COL32(20, 20, 30, 255), IM_COL32(80, 80, 92, 255), IM_COL32(255, 255, 255, 225), IM_COL32(40, 40, 40, 120),
    {IM_COL32(0, 114, 178, 255), IM_COL32(230, 159, 0, 255), IM_COL32(0, 158, 115, 255), IM_COL32(213, 94, 0, 255),
     IM_COL32(204, 121, 167, 255), IM_COL32(86, 180, 233, 255), IM_COL32(200, 180, 0, 255), IM_COL32(0, 0, 0, 255)},
    IM_COL32(213, 94, 0, 45),
    IM_COL32(0, 150, 110, 255), IM_COL32(210, 35, 35, 255), IM_COL32(230, 150, 0, 255)};
const plot::Colors kHighContrastPlot = {
    IM_COL32(0, 0, 0, 255), IM_COL32(0, 0, 0, 255), IM_COL32(255, 255, 255, 255), IM_COL32(80, 80, 80, 255),
    IM_COL32(255, 255, 255, 255), IM_COL32(235, 235, 235, 255), IM_COL32(0, 0, 0, 230), IM_COL32(255, 255, 255, 150),
    {IM_COL32(86, 180, 233, 255), IM_COL32(255, 200, 0, 255), IM_COL32(0, 230, 160, 255), IM_COL32(255, 110, 60, 255),
     IM_COL32(240, 150, 210, 255), IM_COL32(160, 220, 255, 255), IM_COL32(255, 255, 120, 255), IM_COL32(255, 255, 255, 255)},
    IM_COL32(255, 110, 60, 80),
    IM_COL32(0, 230, 160, 255), IM_COL32(255, 70, 70, 255), IM_COL32(255, 200, 0, 255)};

void light_style(ImGuiStyle& st) {
    ImGui::StyleColorsLight(&st);
    ImVec4* c = st.Colors;
    c[ImGuiCol_WindowBg] = ImVec4(0.96f, 0.96f, 0.97f, 1.0f);
    c[ImGuiCol_ChildBg] = ImVec4(1, 1, 1, 1);
    c[ImGuiCol_Border] = ImVec4(0.80f, 0.81f, 0.84f, 1.0f);
    c[ImGuiCol_FrameBg] = ImVec4(0.90f, 0.91f, 0.93f, 1.0f);
    c[ImGuiCol_Button] = ImVec4(0.86f, 0.89f, 0.94f, 1.0f);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.70f, 0.80f, 0.93f, 1.0f);
    c[ImGuiCol_ButtonActive] = ImVec4(0.55f, 0.70f, 0.90f, 1.0f);
    c[ImGuiCol_Header] = ImVec4(0.75f, 0.84f, 0.95f, 1.0f);
    c[ImGuiCol_SliderGrab] = ImVec4(0.0f, 0.447f, 0.698f, 1.0f);
    c[ImGuiCol_CheckMark] = ImVec4(0.0f, 0.447f, 0.698f, 1.0f);
    plot::colors() = kLightPlot;
}

void high_contrast_style(ImGuiStyle& st) {
    ImGui::StyleColorsDark(&st);
    ImVec4* c = st.Colors;
    const ImVec4 black(0, 0, 0, 1), white(1, 1, 1, 1), yellow(1.0f, 0.86f, 0.0f, 1), grey(0.22f, 0.22f, 0.22f, 1);
    c[ImGuiCol_Text] = white;
    c[ImGuiCol_TextDisabled] = ImVec4(0.85f, 0.85f, 0.85f, 1);
    c[ImGuiCol_WindowBg] = black;
    c[ImGuiCol_ChildBg] = black;
    c[ImGuiCol_PopupBg] = ImVec4(0.06f, 0.06f, 0.06f, 1);
    c[ImGuiCol_Border] = white;
    c[ImGuiCol_FrameBg] = grey;
    c[ImGuiCol_FrameBgHovered] = ImVec4(0.35f, 0.35f, 0.35f, 1);
    c[ImGuiCol_FrameBgActive] = ImVec4(0.45f, 0.45f, 0.45f, 1);
    c[ImGuiCol_Button] = ImVec4(0.15f, 0.15f, 0.15f, 1);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.40f, 0.35f, 0.0f, 1);
    c[ImGuiCol_ButtonActive] = ImVec4(0.60f, 0.50f, 0.0f, 1);
    c[ImGuiCol_Header] = ImVec4(0.45f, 0.38f, 0.0f, 1);
    c[ImGuiCol_HeaderHovered] = ImVec4(0.55f, 0.47f, 0.0f, 1);
    c[ImGuiCol_HeaderActive] = ImVec4(0.65f, 0.55f, 0.0f, 1);
    c[ImGuiCol_SliderGrab] = yellow;
    c[ImGuiCol_SliderGrabActive] = white;
    c[ImGuiCol_CheckMark] = yellow;
    c[ImGuiCol_Separator] = white;
    c[ImGuiCol_PlotHistogram] = yellow;
    c[ImGuiCol_TableBorderStrong] = white;
    c[ImGuiCol_TableBorderLight] = ImVec4(0.6f, 0.6f, 0.6f, 1);
    c[ImGuiCol_TableRowBgAlt] = ImVec4(0.10f, 0.10f, 0.10f, 1);
    plot::colors() = kHighContrastPlot;
}
}  // namespace

Status Theme::load_font(const std::string& path) {
    std::vector<unsigned char> bytes = read_file_bytes(path, "fonts").value;  // empty when missing: the message below says so
    // A TrueType file starts with 0x00010000 or "true"/"OTTO".
    if (bytes.size() < 12 || !((bytes[0] == 0 && bytes[1] == 1 && bytes[2] == 0 && bytes[3] == 0) ||
                               (bytes[0] == 'O' && bytes[1] == 'T') || (bytes[0] == 't' && bytes[1] == 'r'))) {
        font_data_.clear();
        baked_px_ = -1;
        return Status::error("fonts: " + path + ": expected a TrueType font (" +
                             (bytes.empty() ? std::string("file missing or empty") : std::to_string(bytes.size()) + " bytes, not TrueType") +
                             "); using ImGui's built-in font, so Japanese text shows as '?'. Regenerate it with scripts/make_font_subset.py");
    }
    font_data_ = std::move(bytes);
    baked_px_ = -1;
    return Status::success();
}

void Theme::request(float font_scale, bool high_contrast, float dpi_scale) {
    font_scale_ = std::fmin(std::fmax(font_scale, 1.0f), 3.0f);
    high_contrast_ = high_contrast;
    dpi_ = dpi_scale > 0 ? dpi_scale : 1.0f;
}

float Theme::wanted_px() const { return std::round(kBaseFontPx * font_scale_ * dpi_); }

void Theme::rebake() {
    ImGuiIO& io = ImGui::GetIO();
    const float px = wanted_px();
    io.Fonts->Clear();
    io.FontGlobalScale = 1.0f;
    if (font_data_.empty()) {
        ImFontConfig cfg;
        cfg.SizePixels = std::round(13.0f * font_scale_ * dpi_);  // ProggyClean, scaled: blurry but legible
        io.Fonts->AddFontDefault(&cfg);
        cfg.SizePixels = std::round(cfg.SizePixels * kHeadlineScale);
        io.Fonts->AddFontDefault(&cfg);
    } else {
        static ImVector<ImWchar> ranges;
        if (ranges.empty()) {
            ImFontGlyphRangesBuilder b;
            b.AddRanges(io.Fonts->GetGlyphRangesDefault());
            b.AddText(all_ui_text().c_str());
            b.BuildRanges(&ranges);
        }
        ImFontConfig cfg;
        cfg.FontDataOwnedByAtlas = false;  // the bytes stay in font_data_ for the next rebake
        cfg.OversampleH = 2;
        cfg.OversampleV = 1;
        cfg.PixelSnapH = true;
        io.Fonts->AddFontFromMemoryTTF(font_data_.data(), int(font_data_.size()), px, &cfg, ranges.Data);
        // The headline font: second in the atlas (headline_font()); the first stays ImGui's default. Its text is
        // bits and numbers ("W4A4: 56.6 %"): Latin glyphs only, which keeps the atlas small at large scales.
        cfg.OversampleH = 1;
        io.Fonts->AddFontFromMemoryTTF(font_data_.data(), int(font_data_.size()), std::round(px * kHeadlineScale), &cfg,
                                       io.Fonts->GetGlyphRangesDefault());
    }
    io.Fonts->Build();
    if (io.BackendRendererUserData) {  // the backend exists: replace its texture now
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
        note_texture_upload();
    }
    baked_px_ = px;
}

ImFont* headline_font() {
    ImFontAtlas* atlas = ImGui::GetIO().Fonts;
    return atlas->Fonts.Size > 1 ? atlas->Fonts[1] : ImGui::GetFont();
}

void Theme::apply_style() {
    const float s = scale();
    if (styled_scale_ == s && styled_hc_ == int(high_contrast_)) return;
    ImGuiStyle st;
    if (high_contrast_) high_contrast_style(st);
    else light_style(st);
    st.WindowRounding = 0;
    st.FrameRounding = 3;
    st.GrabRounding = 3;
    st.ChildRounding = 3;
    st.FramePadding = ImVec2(6, 4);
    st.ItemSpacing = ImVec2(8, 6);
    st.GrabMinSize = 12;
    st.ScrollbarSize = 16;
    if (high_contrast_) {
        st.FrameBorderSize = 1;
        st.ChildBorderSize = 1;
    }
    st.ScaleAllSizes(s);
    ImGui::GetStyle() = st;
    styled_scale_ = s;
    styled_hc_ = int(high_contrast_);
}

}  // namespace quantlab::ui
