// model_widgets.cpp: the model picker and the PTQ vs QAT overlay items (see model_widgets.hpp).
#include "ui/model_widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "ui/app_context.hpp"  // text_fitted
#include "ui/i18n.hpp"
#include "ui/plot.hpp"

namespace quantlab::ui {

bool model_picker(const ModelCatalog& models, const std::string& current, std::string* chosen) {
    const float fs = ImGui::GetFontSize();
    const CatalogEntry* cur = find_model(models, current);
    bool picked = false;
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(tr("model"));
    ImGui::SameLine();
    float width = fs * 6;  // the longest name fits
    for (const CatalogEntry& e : models) width = std::max(width, ImGui::CalcTextSize(e.stem().c_str()).x);
    ImGui::SetNextItemWidth(width + ImGui::GetFrameHeight() + ImGui::GetStyle().FramePadding.x * 2);
    const std::string preview = cur ? cur->stem() : current.empty() ? std::string("-") : current;
    if (ImGui::BeginCombo("##model", preview.c_str())) {
        for (const CatalogEntry& e : models) {
            const bool usable = e.usable();
            std::string label = e.stem() + "   " + (usable ? bits_label(e.weight_bits, e.act_bits) : std::string(tr("cannot be used")));
            if (e.test_accuracy >= 0 && usable) {
                char b[32];
                std::snprintf(b, sizeof b, "   %.2f %%", e.test_accuracy);
                label += b;
            }
            label += "##" + e.file;
            if (ImGui::Selectable(label.c_str(), &e == cur, usable ? 0 : ImGuiSelectableFlags_Disabled) && usable) {
                *chosen = e.file;
                picked = true;
            }
            if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) {
                ImGui::BeginTooltip();
                ImGui::PushTextWrapPos(fs * 36);
                ImGui::TextUnformatted(describe(e).c_str());
                if (usable && !e.trained_by.empty()) ImGui::TextDisabled("%s", e.trained_by.c_str());
                ImGui::PopTextWrapPos();
                ImGui::EndTooltip();
            }
        }
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    const std::string what = cur ? describe(*cur) : std::string(tr("opened file (not bundled)"));
    text_fitted(what.c_str(), true);
    return picked;
}

void overlay_plot_items(const ModelCatalog& models, const EvalService& eval, const std::vector<int>& bits, Backend backend) {
    const plot::Colors& c = plot::colors();
    std::vector<float> px, py, qx, qy;
    for (const OverlayJob& o : overlay_jobs(models, bits, backend)) {
        std::shared_ptr<const EvalSnapshot> s = eval.get(o.job.key);
        if (!s || !s->done || !s->error.empty()) continue;  // points appear once complete
        const auto at = std::find(bits.begin(), bits.end(), o.weight_bits);
        if (at == bits.end() || o.weight_bits != o.act_bits) continue;  // no place on this axis
        const float x = float(at - bits.begin()), y = float(s->result.accuracy());
        (o.qat ? qx : px).push_back(x);
        (o.qat ? qy : py).push_back(y);
    }
    char ptq[160];
    const CatalogEntry* base = find_model(models, kOverlayFloatModel);
    std::snprintf(ptq, sizeof ptq, "%s %s", tr("PTQ of"), base ? base->stem().c_str() : kOverlayFloatModel);
    if (!px.empty()) {
        plot::line(ptq, px.data(), py.data(), int(px.size()), c.series[2], 1.6f, true);
        plot::markers("##ptq", px.data(), py.data(), int(px.size()), c.series[2], 3.0f);
    }
    if (!qx.empty()) plot::markers(tr("QAT models"), qx.data(), qy.data(), int(qx.size()), c.series[5], 5.5f);
}

}  // namespace quantlab::ui
