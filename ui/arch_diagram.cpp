// arch_diagram.cpp: the network as a row of blocks with its fake-quant points (see arch_diagram.hpp).
// The lines of a block row, top to bottom: weight labels (W4), weight markers on a stem into their layer, the
// blocks joined by arrows with an input marker on the arrow into each conv/linear layer, the input labels (A4).
// Every size is a multiple of one text size t, so the row shrinks with t when the panel is narrow (presenter
// mode), or wraps into two rows where there is height for them.
#include "ui/arch_diagram.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "ui/i18n.hpp"
#include "ui/plot.hpp"

namespace quantlab::ui {

namespace {

struct Block {
    std::string label;
    int quant = -1;  // index among the conv/linear layers, -1 for the others
    float x = 0, w = 0;
};

constexpr float kRows = 4.4f;    // a row's height in line heights (see the file comment)
constexpr float kRowGap = 0.6f;  // between two rows, in line heights: the wrap's line runs there

std::vector<Block> blocks_of(const NetworkDesc& net) {
    std::vector<Block> b;
    b.push_back({tr("input"), -1});
    int q = 0;
    for (const LayerDesc& l : net.layers) {
        switch (l.kind) {
            case LayerKind::kConv2d: b.push_back({l.name, q++}); break;
            case LayerKind::kLinear: b.push_back({l.name, q++}); break;
            case LayerKind::kBatchNorm2d: b.push_back({"BN", -1}); break;
            case LayerKind::kReLU: b.push_back({"ReLU", -1}); break;
            case LayerKind::kMaxPool2d: b.push_back({"pool", -1}); break;
            case LayerKind::kFlatten: b.push_back({"flatten", -1}); break;
        }
    }
    b.push_back({tr("logits"), -1});
    return b;
}

std::string bits_label(const char* what, int bits) {
    return bits == kFloatBits ? std::string(what) + " fp32" : what + std::to_string(bits);
}

void diamond(ImDrawList* dl, ImVec2 c, float r, ImU32 col, bool filled) {
    const ImVec2 p[4] = {{c.x, c.y - r}, {c.x + r, c.y}, {c.x, c.y + r}, {c.x - r, c.y}};
    if (filled) dl->AddQuadFilled(p[0], p[1], p[2], p[3], col);
    else dl->AddQuad(p[0], p[1], p[2], p[3], col, 1.5f);
}

}  // namespace

float arch_diagram_height() { return ImGui::GetTextLineHeight() * 1.2f * kRows; }

int draw_arch_diagram(const NetworkDesc& net, const UiState& s, float width, float max_height) {
    const plot::Colors& c = plot::colors();
    ImFont* font = ImGui::GetFont();
    const float fs = ImGui::GetFontSize();
    std::vector<Block> blocks = blocks_of(net);

    // Rows of blocks [begin, end): one, or two split after flatten (else halfway) when one row's text would be
    // small and two rows fit in max_height. Each row's natural width at text size t; shrink t until all fit.
    auto text_w = [&](const std::string& t, float size) { return font->CalcTextSizeA(size, 1e9f, 0, t.c_str()).x; };
    using Row = std::pair<size_t, size_t>;
    auto row_width = [&](const Row& r, float t) {
        float w = r.first > 0 ? 1.8f * t : 0.0f;  // a wrapped row starts with the arrow into its first block
        for (size_t i = r.first; i < r.second; ++i) w += text_w(blocks[i].label, t) + t;  // half a text size of padding each side
        return w + float(r.second - r.first - 1) * 1.8f * t;                             // arrows, room for a marker
    };
    auto fit = [&](const std::vector<Row>& rows) {
        float t = fs;
        for (const Row& r : rows) {
            const float natural = row_width(r, fs);
            if (natural > width) t = std::min(t, fs * width / natural);
        }
        return std::max(fs * 0.45f, t);
    };
    std::vector<Row> rows{{0, blocks.size()}};
    float t = fit(rows);
    float row_h = arch_diagram_height();  // one row keeps the height sized for t = fs
    if (t < fs * 0.8f && blocks.size() >= 4) {
        size_t split = blocks.size() / 2;
        for (size_t i = 1; i + 1 < blocks.size(); ++i)
            if (blocks[i].label == "flatten") split = i + 1;
        const std::vector<Row> two{{0, split}, {split, blocks.size()}};
        // Two rows take the height their text needs: the text is as large as the width and max_height allow.
        const float t2 = std::min(fit(two), max_height / (1.2f * (2 * kRows + kRowGap)));
        if (t2 > t) rows = two, t = t2, row_h = t2 * 1.2f * kRows;
    }
    const float gap = 1.8f * t, pad = 0.5f * t, line = t * 1.2f;
    const float row_gap = rows.size() > 1 ? line * kRowGap : 0.0f;
    const float height = row_h * float(rows.size()) + row_gap * float(rows.size() - 1);

    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("##arch", ImVec2(std::max(width, 1.0f), height));
    const bool clicked = ImGui::IsItemClicked();
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    ImDrawList* dl = ImGui::GetWindowDrawList();

    // Vertical layout: each row centred in its share of `height`, which was sized for t = fs. All rows start at
    // the same x (the widest row centred), so a wrapped row reads on from the left like text.
    const float used = line * kRows;
    float widest = 0;
    for (const Row& r : rows) widest = std::max(widest, row_width(r, t));
    const float left = origin.x + std::max(0.0f, (width - widest) * 0.5f);
    std::vector<float> mids(rows.size());
    int hit = -1;
    const float r = t * 0.32f;
    for (size_t ri = 0; ri < rows.size(); ++ri) {
        const float top = origin.y + (row_h + row_gap) * float(ri) + (row_h - used) * 0.5f;
        const float box_top = top + line * 1.9f, box_bot = box_top + line * 1.3f, mid = (box_top + box_bot) * 0.5f;
        mids[ri] = mid;
        float x = left + (ri > 0 ? gap : 0.0f);
        for (size_t i = rows[ri].first; i < rows[ri].second; ++i) {
            blocks[i].w = text_w(blocks[i].label, t) + 2 * pad;
            blocks[i].x = x;
            x += blocks[i].w + gap;
        }
        if (ri > 0) {
            // The wrap: from the end of the row above, down between the rows, back to the left, into this row.
            const Block& last = blocks[rows[ri - 1].second - 1];
            const float x_end = last.x + last.w, y_between = origin.y + (row_h + row_gap) * float(ri) - row_gap * 0.5f;
            const ImVec2 path[] = {{x_end, mids[ri - 1]}, {x_end + gap * 0.5f, mids[ri - 1]}, {x_end + gap * 0.5f, y_between},
                                   {left, y_between}, {left, mid}, {blocks[rows[ri].first].x - r, mid}};
            dl->AddPolyline(path, 6, c.axis, 0, 1.5f);
            const float x1 = blocks[rows[ri].first].x;
            dl->AddTriangleFilled(ImVec2(x1, mid), ImVec2(x1 - r * 1.2f, mid - r * 0.8f), ImVec2(x1 - r * 1.2f, mid + r * 0.8f), c.axis);
        }
        for (size_t i = rows[ri].first; i < rows[ri].second; ++i) {
            const Block& b = blocks[i];
            const ImVec2 p0(b.x, box_top), p1(b.x + b.w, box_bot);
            const bool quant = b.quant >= 0;
            const bool selected = quant && b.quant == s.net_layer;
            ImU32 fill = c.frame_bg, border = c.text_dim;
            if (quant) {
                ImVec4 f = ImGui::ColorConvertU32ToFloat4(c.series[0]);
                f.w = 0.28f;
                fill = ImGui::ColorConvertFloat4ToU32(f);
                border = c.series[0];
            }
            dl->AddRectFilled(p0, p1, fill, t * 0.25f);
            dl->AddRect(p0, p1, selected ? c.text : border, t * 0.25f, 0, selected ? 3.0f : 1.5f);
            dl->AddText(font, t, ImVec2(b.x + pad, mid - t * 0.5f), c.text, b.label.c_str());
            if (clicked && quant && mouse.x >= p0.x && mouse.x <= p1.x && mouse.y >= top && mouse.y <= box_bot) hit = b.quant;

            if (i + 1 < rows[ri].second) {  // the arrow to the next block in the row
                const float x0 = b.x + b.w, x1 = blocks[i + 1].x;
                dl->AddLine(ImVec2(x0, mid), ImVec2(x1 - r, mid), c.axis, 1.5f);
                dl->AddTriangleFilled(ImVec2(x1, mid), ImVec2(x1 - r * 1.2f, mid - r * 0.8f), ImVec2(x1 - r * 1.2f, mid + r * 0.8f), c.axis);
            }
            if (!quant) continue;
            // The weight's quantizer: a marker on a stem into the layer, its bits above.
            const int wb = layer_weight_spec(s, b.quant).bits, ab = layer_act_spec(s, b.quant).bits;
            const float cx = b.x + b.w * 0.5f, wy = top + line * 1.3f;
            dl->AddLine(ImVec2(cx, wy + r), ImVec2(cx, box_top), c.series[1], 1.5f);
            diamond(dl, ImVec2(cx, wy), r, c.series[1], wb != kFloatBits);
            const std::string wl = bits_label("W", wb);
            dl->AddText(font, t, ImVec2(cx - text_w(wl, t) * 0.5f, top), c.text, wl.c_str());
            // The input's quantizer: a marker on the arrow into the layer, its bits below.
            const float ax = b.x - gap * 0.5f;
            diamond(dl, ImVec2(ax, mid), r, c.series[1], ab != kFloatBits);
            const std::string al = bits_label("A", ab);
            dl->AddText(font, t, ImVec2(ax - text_w(al, t) * 0.5f, box_bot + line * 0.2f), c.text, al.c_str());
        }
    }
    return hit;
}

}  // namespace quantlab::ui
