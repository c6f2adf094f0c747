// sensitivity_view.cpp: the "Which layer breaks?" chart (ui/sensitivity_view.hpp).
#include "ui/sensitivity_view.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/mixed_precision.hpp"
#include "core/model_size.hpp"
#include "core/sensitivity.hpp"
#include "ui/i18n.hpp"
#include "ui/plot.hpp"

namespace quantlab::ui {

bool sensitivity_shown(const UiState& s) {
    return s.panel == Panel::kNetwork && (s.panel_view == kNetViewSensitivity || s.panel_view == kNetViewPareto);
}

const std::vector<int>& pareto_widths() {
    static const std::vector<int> w{8, 4, 3, 2};
    return w;
}

std::vector<QuantConfig> sensitivity_configs(const UiState& s, const NetworkDesc& net) {
    std::vector<QuantConfig> out;
    if (!sensitivity_shown(s)) return out;
    if (s.panel_view == kNetViewSensitivity) {
        for (SensitivityCase& c : sensitivity_cases_for(network_config(s, net))) out.push_back(std::move(c.config));
        return out;
    }
    const size_t n = net.quant_layers().size();
    for (size_t q = 0; q < n; ++q)
        for (int w : pareto_widths()) {
            UiState t = s;
            t.weight_bits.assign(n, kFloatBits);
            t.act_bits.assign(n, kFloatBits);
            t.weight_bits[q] = t.act_bits[q] = w;
            out.push_back(network_config(t, net));
        }
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

namespace {

// The front from the one-layer losses (float minus only-layer-q-at-w accuracy), once all are final.
struct Front {
    int done = 0, total = 0;
    bool ready = false;
    std::string error;
    std::vector<BitAssignment> points;  // by bytes
    std::vector<float> proxy;           // float accuracy minus each point's summed loss, floored at 0
};

Front front_of(const EvalService& eval, const std::vector<std::string>& keys, const std::string& float_key, const NetworkDesc& net) {
    Front f;
    const std::vector<int>& widths = pareto_widths();
    const size_t nw = widths.size(), n = net.quant_layers().size();
    f.total = int(n * nw);
    if (n == 0 || keys.size() != n * nw) return f;
    const Bar flt = bar_of(eval, float_key);
    std::vector<std::vector<double>> loss(n, std::vector<double>(nw, 0.0));
    for (size_t q = 0; q < n; ++q)
        for (size_t w = 0; w < nw; ++w) {
            const Bar b = bar_of(eval, keys[q * nw + w]);
            f.done += b.done;
            loss[q][w] = double(flt.accuracy) - double(b.accuracy);
        }
    if (f.done < f.total || !flt.done) return f;
    Result<PrecisionCosts> costs = precision_costs(net, widths, loss);
    if (!costs.ok()) {
        f.error = costs.message();
        return f;
    }
    f.ready = true;
    f.points = pareto_front(costs.value, net);
    // The proxy can fall below 0 (summed losses of several narrow layers exceed the float accuracy): floored there.
    for (const BitAssignment& a : f.points) f.proxy.push_back(std::max(0.0f, float(double(flt.accuracy) - a.loss)));
    return f;
}

}  // namespace

void draw_pareto(AppContext& ctx, ImVec2 size) {
    const plot::Colors& c = plot::colors();
    const int n = ctx.doc.num_layers();
    const NetworkDesc& net = ctx.doc.model->desc();
    const Bar flt = bar_of(ctx.eval, ctx.float_key), cur = bar_of(ctx.eval, ctx.current_key);
    const Front f = front_of(ctx.eval, ctx.sensitivity_keys, ctx.float_key, net);
    if (!f.error.empty()) {
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(c.bad), "%s", f.error.c_str());
        return;
    }
    if (!f.ready) {
        char text[160];
        std::snprintf(text, sizeof text, "%s: %d / %d", tr("measuring each layer alone at 8, 4, 3 and 2 bits"), f.done, f.total);
        plot::progress(f.total ? float(f.done) / float(f.total) : 0.0f, text, ImVec2(-1, 0));
        return;
    }
    const std::vector<BitAssignment>& front = f.points;
    std::vector<float> x, y = f.proxy;
    for (const BitAssignment& a : front) x.push_back(float(a.bytes) / 1e3f);
    // The current setting: its real accuracy at its size.
    const float cur_kb = float(model_size(net, ctx.state.weight_bits).bytes) / 1e3f;
    float lo_y = std::min(cur.accuracy, flt.accuracy), hi_y = flt.accuracy;
    float lo_x = cur_kb, hi_x = cur_kb;
    for (size_t i = 0; i < x.size(); ++i) lo_y = std::min(lo_y, y[i]), lo_x = std::min(lo_x, x[i]), hi_x = std::max(hi_x, x[i]);
    const char* title = tr("accuracy vs size (proxy, on the evaluation images)");
    const plot::Limits lim = plot::pad_limits(lo_x, hi_x, std::max(0.0f, lo_y), hi_y);
    if (!plot::begin_plot("##pareto", title, size, lim, tr("model size (KB)"), "%", plot::kYPercent | plot::kNoHover)) return;
    plot::hline(flt.accuracy, c.series[1], 2.0f, true);
    plot::line(tr("float"), nullptr, nullptr, 0, c.series[1]);
    plot::line(tr("best settings (click one to use it)"), x.data(), y.data(), int(x.size()), c.series[0], 1.5f);
    plot::markers("##front", x.data(), y.data(), int(x.size()), c.series[0], 4.5f);
    if (cur.have) plot::markers(tr("current setting (measured)"), &cur_kb, &cur.accuracy, 1, c.series[3], 6.0f);
    // The point under the mouse: its bits in a tooltip; a click sets them.
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const float reach = ImGui::GetFontSize() * 0.6f;
    int hit = -1;
    float best = reach * reach;
    for (size_t i = 0; i < x.size(); ++i) {
        const ImVec2 p = plot::to_pixels(x[i], y[i]);
        const float d = (p.x - mouse.x) * (p.x - mouse.x) + (p.y - mouse.y) * (p.y - mouse.y);
        if (d < best) best = d, hit = int(i);
    }
    // (The plot frame itself becomes the active item on a press: hovered "even when blocked" by it.)
    if (hit >= 0 && ImGui::IsWindowHovered(ImGuiHoveredFlags_AllowWhenBlockedByActiveItem)) {
        const BitAssignment& a = front[size_t(hit)];
        std::string bits;
        for (int q = 0; q < n; ++q) bits += (q ? ", " : "") + ctx.doc.layer_names[size_t(q)] + "=" + std::to_string(a.bits[size_t(q)]);
        ImGui::SetTooltip("%s\n%s: %s\n%s: %.1f %%", bits.c_str(), tr("size"), format_bytes(a.bytes).c_str(), tr("proxy accuracy"),
                          double(y[size_t(hit)]));
        if (ImGui::IsMouseClicked(0)) {
            ctx.state.weight_bits = a.bits;
            ctx.state.act_bits = a.bits;
        }
    }
    plot::end_plot();
}

nlohmann::json pareto_json(const EvalService& eval, const std::vector<std::string>& keys, const std::string& float_key,
                           const NetworkDesc& net) {
    const Front f = front_of(eval, keys, float_key, net);
    nlohmann::json out = {{"done", f.done}, {"total", f.total}, {"ready", f.ready}, {"front", nlohmann::json::array()}};
    for (size_t i = 0; i < f.points.size(); ++i)
        out["front"].push_back({{"bits", f.points[i].bits}, {"bytes", f.points[i].bytes}, {"loss", f.points[i].loss}, {"proxy", f.proxy[i]}});
    return out;
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
