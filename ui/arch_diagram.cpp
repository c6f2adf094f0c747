// arch_diagram.cpp: the network as a row of blocks with its fake-quant points (see arch_diagram.hpp).
// Rows, top to bottom: weight labels (W4), weight markers on a stem into their layer, the blocks joined by
// arrows with an input marker on the arrow into each conv/linear layer, the input labels (A4). Every size is
// a multiple of one text size t, so the whole row shrinks with t when the panel is narrow (presenter mode).
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

constexpr float kRows = 4.4f;  // the height in line heights (see the file comment)

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

int draw_arch_diagram(const NetworkDesc& net, const UiState& s, float width) {
    const plot::Colors& c = plot::colors();
    ImFont* font = ImGui::GetFont();
    const float fs = ImGui::GetFontSize();
    std::vector<Block> blocks = blocks_of(net);

    // Natural width at the font size; shrink the text size t until the row fits.
    auto text_w = [&](const std::string& t, float size) { return font->CalcTextSizeA(size, 1e9f, 0, t.c_str()).x; };
    auto row_width = [&](float t) {
        float w = 0;
        for (const Block& b : blocks) w += text_w(b.label, t) + t;  // half a text size of padding each side
        return w + float(blocks.size() - 1) * 1.8f * t;             // arrows, room for a marker
    };
    float t = fs;
    const float natural = row_width(t);
    if (natural > width) t = std::max(fs * 0.45f, t * width / natural);
    const float gap = 1.8f * t, pad = 0.5f * t, line = t * 1.2f;
    const float height = arch_diagram_height();

    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("##arch", ImVec2(std::max(width, 1.0f), height));
    const bool clicked = ImGui::IsItemClicked();
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    ImDrawList* dl = ImGui::GetWindowDrawList();

    // Vertical layout: centred in `height`, which was sized for t = fs.
    const float used = line * kRows;
    const float top = origin.y + (height - used) * 0.5f;
    const float box_top = top + line * 1.9f, box_bot = box_top + line * 1.3f, mid = (box_top + box_bot) * 0.5f;
    float x = origin.x + std::max(0.0f, (width - row_width(t)) * 0.5f);
    for (Block& b : blocks) {
        b.w = text_w(b.label, t) + 2 * pad;
        b.x = x;
        x += b.w + gap;
    }

    int hit = -1;
    const float r = t * 0.32f;
    for (size_t i = 0; i < blocks.size(); ++i) {
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

        if (i + 1 < blocks.size()) {  // the arrow to the next block
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
    return hit;
}

}  // namespace quantlab::ui
