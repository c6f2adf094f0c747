// sensitivity_view.cpp: the "Which layer breaks?" chart (ui/sensitivity_view.hpp).
#include "ui/sensitivity_view.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/sensitivity.hpp"
#include "ui/i18n.hpp"
#include "ui/plot.hpp"

namespace quantlab::ui {

bool sensitivity_shown(const UiState& s) { return s.panel == Panel::kNetwork && s.panel_view == kNetViewSensitivity; }

std::vector<QuantConfig> sensitivity_configs(const UiState& s, const NetworkDesc& net) {
    std::vector<QuantConfig> out;
    for (SensitivityCase& c : sensitivity_cases_for(network_config(s, net))) out.push_back(std::move(c.config));
    return out;
}

namespace {

// One bar's value: the accuracy so far (partial while in progress), whether it is final.
struct Bar {
    float accuracy = 0;
    bool have = false, done = false;
};

Bar bar_of(const EvalService& eval, const std::string& key) {
    Bar b;
    std::shared_ptr<const EvalSnapshot> s = key.empty() ? nullptr : eval.get(key);
    if (!s || s->result.evaluated == 0) return b;
    b.accuracy = float(s->result.accuracy());
    b.have = true;
    b.done = s->done;
    return b;
}

nlohmann::json entry_json(const EvalService& eval, const std::string& key) {
    std::shared_ptr<const EvalSnapshot> s = eval.get(key);
    char hash[32] = "";
    if (s) std::snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->result.predictions_hash());
    return {{"accuracy", s ? s->result.accuracy() : 0.0}, {"correct", s ? s->result.correct : 0},
            {"evaluated", s ? s->result.evaluated : 0}, {"done", s ? s->done : false}, {"error", s ? s->error : std::string()},
            {"predictions_fnv1a64", hash}};
}

}  // namespace

void draw_sensitivity(AppContext& ctx, ImVec2 size) {
    const plot::Colors& c = plot::colors();
    const int n = ctx.doc.num_layers();
    const std::vector<std::string>& keys = ctx.sensitivity_keys;
    if (n == 0 || int(keys.size()) != 2 * n) {
        ImGui::TextDisabled("%s", tr("Which layer breaks? (no network)"));
        return;
    }
    std::vector<Bar> only(static_cast<size_t>(n)), all_but(static_cast<size_t>(n));
    int done = 0;
    for (int q = 0; q < n; ++q) {
        only[size_t(q)] = bar_of(ctx.eval, keys[size_t(q)]);
        all_but[size_t(q)] = bar_of(ctx.eval, keys[size_t(n + q)]);
        done += only[size_t(q)].done + all_but[size_t(q)].done;
    }
    // Final bars in full colour, bars still being evaluated (their accuracy so far) faded.
    auto series = [&](const std::vector<Bar>& bars, bool final_ones) {
        std::vector<float> v(size_t(n), 0.0f);
        for (int q = 0; q < n; ++q)
            if (bars[size_t(q)].have && bars[size_t(q)].done == final_ones) v[size_t(q)] = bars[size_t(q)].accuracy;
        return v;
    };
    const Bar flt = bar_of(ctx.eval, ctx.float_key), cur = bar_of(ctx.eval, ctx.current_key);

    std::vector<double> tv;
    std::vector<std::string> tl;
    for (int q = 0; q < n; ++q) tv.push_back(q), tl.push_back(ctx.doc.layer_names[size_t(q)]);
    char title[256];
    std::snprintf(title, sizeof title, "%s (%s: %s; %s)", tr("Which layer breaks?"), tr("bits"), bits_summary(ctx.state).c_str(),
                  tr("accuracy on the evaluation images"));
    if (done < 2 * n) {
        const size_t len = std::strlen(title);
        std::snprintf(title + len, sizeof title - len, "  %d / %d", done, 2 * n);
    }
    plot::set_x_ticks(tv, tl);
    // From 0 (bars start there) to a little above the highest value, in steps of 10 %: the differences between
    // layers stay visible without magnifying them.
    float top = std::max(flt.accuracy, cur.accuracy);
    for (int q = 0; q < n; ++q) top = std::max({top, only[size_t(q)].accuracy, all_but[size_t(q)].accuracy});
    const plot::Limits lim{-0.6, double(n) - 0.4, 0, std::min(100.0, 10.0 * std::ceil((top + 8.0) / 10.0))};
    if (!plot::begin_plot("##sensitivity", title, size, lim, nullptr, "%", plot::kYPercent)) return;  // the ticks name the layers
    const ImU32 c_only = c.series[0], c_all_but = c.series[2];
    const char* l_only = tr("only this layer quantized");
    const char* l_all_but = tr("all quantized, this layer at 8");
    const std::vector<float> only_done = series(only, true), all_but_done = series(all_but, true);
    const std::vector<float> only_part = series(only, false), all_but_part = series(all_but, false);
    plot::bars(l_only, only_done.data(), n, -0.2f, 0.38f, c_only);
    plot::bars(l_all_but, all_but_done.data(), n, 0.2f, 0.38f, c_all_but);
    plot::bars("##only_part", only_part.data(), n, -0.2f, 0.38f, plot::with_alpha(c_only, 0.35f));
    plot::bars("##all_but_part", all_but_part.data(), n, 0.2f, 0.38f, plot::with_alpha(c_all_but, 0.35f));
    if (flt.done) {
        plot::hline(flt.accuracy, c.series[1], 2.0f, true);
        plot::line(tr("float"), nullptr, nullptr, 0, c.series[1]);
    }
    if (cur.have) {
        plot::hline(cur.accuracy, c.series[3], 2.0f, true);
        plot::line(tr("current setting"), nullptr, nullptr, 0, c.series[3]);
    }
    // Each final bar's value above it, when a bar is wide enough for the number and the plot tall enough.
    const float slot = size.x / float(n + 1);
    if (slot * 0.38f >= ImGui::CalcTextSize("88.8").x && size.y >= ImGui::GetFontSize() * 14) {
        char v[16];
        for (int q = 0; q < n; ++q) {
            const std::pair<const Bar*, float> both[] = {{&only[size_t(q)], -0.2f}, {&all_but[size_t(q)], 0.2f}};
            for (const auto& [b, dx] : both) {
                if (!b->done) continue;
                std::snprintf(v, sizeof v, "%.1f", b->accuracy);
                plot::text(q + dx, b->accuracy, v, c.text, ImVec2(0.5f, 1.0f));
            }
        }
    }
    plot::end_plot();
}

nlohmann::json sensitivity_json(const EvalService& eval, const std::vector<std::string>& keys, const std::vector<std::string>& layer_names) {
    nlohmann::json out = nlohmann::json::array();
    const size_t n = layer_names.size();
    if (keys.size() != 2 * n) return out;
    for (size_t q = 0; q < n; ++q)
        out.push_back({{"layer", layer_names[q]}, {"only", entry_json(eval, keys[q])}, {"all_but", entry_json(eval, keys[n + q])}});
    return out;
}

}  // namespace quantlab::ui
