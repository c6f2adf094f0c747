// controls.cpp: small controls the panels share (bit widths, range rules).
#include <imgui.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "ui/app_context.hpp"
#include "ui/i18n.hpp"

namespace quantlab::ui {

void same_line_if_fits(float next_width, float spacing) {
    const float sp = spacing >= 0 ? spacing : ImGui::GetStyle().ItemSpacing.x;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    ImGui::SameLine(0, sp);
    if (ImGui::GetCursorScreenPos().x + next_width > right) ImGui::NewLine();
}

const char* column_field(const char* label, float width) {
    static std::string hidden;  // the label as an id only, for the control drawn right after this call
    const char* end = std::strstr(label, "##");
    const float avail = ImGui::GetContentRegionAvail().x;
    if (width + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label, end).x <= avail) {
        ImGui::SetNextItemWidth(width);
        return label;
    }
    ImGui::TextUnformatted(label, end);
    ImGui::SetNextItemWidth(avail);
    hidden = std::string("##") + label;
    return hidden.c_str();
}

void text_fitted(const char* text, bool disabled) {
    const float avail = ImGui::GetContentRegionAvail().x;
    const char* end = text + std::strlen(text);
    if (disabled) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    if (ImGui::CalcTextSize(text, end).x <= avail) {
        ImGui::TextUnformatted(text, end);
    } else {
        const float dots = ImGui::CalcTextSize("...").x;
        const char* cut = end;
        while (cut > text && ImGui::CalcTextSize(text, cut).x + dots > avail) {
            --cut;
            while (cut > text && (static_cast<unsigned char>(*cut) & 0xC0) == 0x80) --cut;  // a whole UTF-8 character
        }
        ImGui::TextUnformatted((std::string(text, cut) + "...").c_str());
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", text);
    }
    if (disabled) ImGui::PopStyleColor();
}

float checkbox_width(const char* label) {
    return ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label, nullptr, true).x;
}

bool column_checkbox(const char* label, bool* value) {
    const ImGuiStyle& st = ImGui::GetStyle();
    if (checkbox_width(label) <= ImGui::GetContentRegionAvail().x) return ImGui::Checkbox(label, value);
    ImGui::PushID(label);
    const bool changed = ImGui::Checkbox("##box", value);
    ImGui::PopID();
    ImGui::SameLine(0, st.ItemInnerSpacing.x);
    const char* end = std::strstr(label, "##");
    ImGui::PushTextWrapPos(0.0f);  // wrap at the window's right edge
    ImGui::TextUnformatted(label, end);
    ImGui::PopTextWrapPos();
    return changed;
}

bool view_tabs(const char* id, const std::vector<const char*>& names, int* selected) {
    bool changed = false;
    ImGui::PushID(id);
    for (int i = 0; i < int(names.size()); ++i) {
        if (i > 0) same_line_if_fits(ImGui::CalcTextSize(names[size_t(i)], nullptr, true).x + ImGui::GetStyle().FramePadding.x * 2);
        const bool on = *selected == i;
        if (on) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_Header));
        if (on) ImGui::PushStyleColor(ImGuiCol_Border, ImGui::GetStyleColorVec4(ImGuiCol_CheckMark));
        if (on) ImGui::PushStyleVar(ImGuiStyleVar_FrameBorderSize, 2.0f);
        ImGui::PushID(i);
        if (ImGui::Button(names[size_t(i)]) && !on) *selected = i, changed = true;
        ImGui::PopID();
        if (on) ImGui::PopStyleVar();
        if (on) ImGui::PopStyleColor(2);
    }
    ImGui::PopID();
    return changed;
}

bool bits_control(const char* label, int* bits, float width, bool float_label) {
    bool changed = false;
    ImGui::PushID(label);
    if (label[0] && !(label[0] == '#' && label[1] == '#')) {
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(label);
        ImGui::SameLine();
    }
    bool is_float = *bits == kFloatBits;
    int b = is_float ? 16 : std::clamp(*bits, kMinBits, kMaxBits);
    const ImGuiStyle& st = ImGui::GetStyle();
    const float box = ImGui::GetFrameHeight() + st.ItemSpacing.x;  // the checkbox without its label
    const float box_label = box + st.ItemInnerSpacing.x + ImGui::CalcTextSize(tr("float")).x;
    const float min_slider = ImGui::CalcTextSize("16 bit").x + st.FramePadding.x * 2 + ImGui::GetFontSize();
    if (width < 0) {
        const float avail = ImGui::GetContentRegionAvail().x;
        float_label = float_label && avail - box_label >= min_slider;
        width = std::max(avail - (float_label ? box_label : box), 1.0f);
    }
    ImGui::SetNextItemWidth(width);
    if (is_float) ImGui::BeginDisabled();
    if (ImGui::SliderInt("##bits", &b, kMinBits, kMaxBits, is_float ? tr("float") : "%d bit")) {
        *bits = b;
        changed = true;
    }
    if (is_float) ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Checkbox(float_label ? tr("float") : "##float", &is_float)) {
        *bits = is_float ? kFloatBits : 8;
        changed = true;
    }
    if (!float_label && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr("float"));
    ImGui::PopID();
    return changed;
}

bool rule_controls(QuantSpec* spec, float width) {
    bool changed = false;
    const RangeRule rules[] = {RangeRule::kMaxAbs, RangeRule::kMeanStd, RangeRule::kMinMax, RangeRule::kPercentile, RangeRule::kMse};
    const char* names[] = {tr("max |r| (notebook)"), tr("mean ± k std (exercise)"), tr("min-max"), tr("percentile"), tr("MSE-optimal")};
    int cur = 0;
    for (int i = 0; i < 5; ++i)
        if (rules[i] == spec->rule) cur = i;
    if (ImGui::Combo(column_field(tr("range rule"), width), &cur, names, 5)) {
        spec->rule = rules[cur];
        changed = true;
    }
    if (spec->rule == RangeRule::kMeanStd) {
        float kf = float(spec->k);
        ImGui::SetNextItemWidth(width);
        if (ImGui::SliderFloat("k##k", &kf, 0.25f, 6.0f, "k = %.2f")) {
            spec->k = std::round(double(kf) * 100.0) / 100.0;
            changed = true;
        }
    }
    if (spec->rule == RangeRule::kPercentile) {
        float pf = float(spec->percentile);
        ImGui::SetNextItemWidth(width);
        if (ImGui::SliderFloat("##pct", &pf, 90.0f, 100.0f, "%.2f %%")) {
            spec->percentile = std::clamp(std::round(double(pf) * 100.0) / 100.0, 50.01, 100.0);
            changed = true;
        }
    }
    return changed;
}

bool codes_control(QuantSpec* spec, float width) {
    const char* names[] = {tr("narrow (2^b - 1 codes)"), tr("full (2^b codes)")};
    int cur = spec->codes == SymmetricCodes::kFull ? 1 : 0;
    if (!spec->symmetric) ImGui::BeginDisabled();  // asymmetric codes are [0, 2^b - 1] either way
    const bool changed = ImGui::Combo(column_field(tr("codes"), width), &cur, names, 2);
    if (!spec->symmetric) ImGui::EndDisabled();
    if (changed) spec->codes = cur == 1 ? SymmetricCodes::kFull : SymmetricCodes::kNarrow;
    return changed;
}

}  // namespace quantlab::ui
