// panel_lesson.cpp: the lesson card (see panel_lesson.hpp). A bottom strip rather than a side card: the panels
// above keep their full width (plots need it), and the text wraps over a long line, so it stays a few lines
// high even in presenter mode. Left: title, text, question, try buttons; right: k / 8, Close, Previous, Next.
#include "ui/panel_lesson.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "ui/app_context.hpp"
#include "ui/i18n.hpp"
#include "ui/lessons.hpp"
#include "ui/plot.hpp"

namespace quantlab::ui {

namespace {

// One UTF-8 character at s[i]: its code point and byte length (a stray byte counts as one character).
unsigned decode_utf8(const std::string& s, size_t i, size_t* len) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size() || n == 1) return *len = 1, c;
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    *len = n;
    return cp;
}

bool is_cjk(unsigned cp) { return cp >= 0x3000; }
// Characters a line should not start with (Japanese closing punctuation, and ASCII punctuation after a CJK run).
bool no_break_before(unsigned cp) {
    static const unsigned kClosing[] = {0x3001, 0x3002, 0xFF0C, 0xFF0E, 0xFF09, 0x300D, 0x300F, 0xFF01, 0xFF1F, 0xFF1A, 0x30FC, 0x30FB};
    for (unsigned c : kClosing)
        if (cp == c) return true;
    return cp < 0x80 && std::strchr(",.;:!?)%]", int(cp)) != nullptr;
}

// `text` with line breaks so that no line is wider than `width` at font size `size`. ImGui's own wrapping
// breaks at spaces only, which leaves a Japanese sentence (no spaces) as one long unbreakable word; here a
// line may also break between two characters of a CJK run.
std::string wrap(const std::string& text, float width, float size) {
    ImFont* font = ImGui::GetFont();
    const float k = size / font->FontSize;
    std::string out;
    size_t line = 0, brk = std::string::npos, brk_next = 0, i = 0;
    float w = 0;
    bool prev_cjk = false;
    auto width_of = [&](size_t a, size_t b) {
        float x = 0;
        for (size_t j = a, n = 0; j < b; j += n) x += font->GetCharAdvance(ImWchar(decode_utf8(text, j, &n))) * k;
        return x;
    };
    while (i < text.size()) {
        size_t n;
        const unsigned cp = decode_utf8(text, i, &n);
        const bool cjk = is_cjk(cp);
        if (cp == '\n') {  // a break of the text's own
            out.append(text, line, i + 1 - line);
            line = i + 1, brk = std::string::npos, w = 0, prev_cjk = false, i += n;
            continue;
        }
        if (cp == ' ') brk = i, brk_next = i + 1;  // the line ends before the space; the next starts after it
        else if ((cjk || prev_cjk) && !no_break_before(cp) && i > line) brk = i, brk_next = i;
        const float adv = font->GetCharAdvance(ImWchar(cp)) * k;
        if (w + adv > width && brk != std::string::npos && brk > line) {
            out.append(text, line, brk - line).push_back('\n');
            line = brk_next;
            brk = std::string::npos;
            w = width_of(line, i);
        }
        w += adv;
        prev_cjk = cjk;
        i += n;
    }
    out.append(text, line, std::string::npos);
    return out;
}

struct CardLayout {
    std::string title, body, question;  // wrapped
    float body_size = 0;                // the body's font size (smaller in presenter mode)
    float body_h = 0;                   // the body's height, spacing included
    float nav_w = 0, text_w = 0, height = 0;
    float content_h = 0;                // title, body, question, tries: height before the navigation's minimum
};

// Everything the card's size depends on, for lesson_card_height and draw_lesson_card alike.
CardLayout layout(const UiState& s, float width, bool folded, bool column = false) {
    const ImGuiStyle& st = ImGui::GetStyle();
    const Lesson& l = lesson(s.lesson);
    CardLayout c;
    auto button_w = [&](const char* label) { return ImGui::CalcTextSize(label, nullptr, true).x + st.FramePadding.x * 2; };
    c.nav_w = std::max(button_w(tr("← Previous")) + button_w(tr("Next →")),
                       button_w(tr("Show text")) + button_w(tr("Close"))) + st.ItemSpacing.x;
    c.text_w = std::max(1.0f, width - (column ? 0.0f : c.nav_w + st.ItemSpacing.x * 2) - st.WindowPadding.x * 2 - st.ScrollbarSize);
    const float fs = ImGui::GetFontSize();
    // Presenter mode: the body a size smaller, so the card leaves the panel above room; title and question
    // (what the room reads) keep the presenter size.
    c.body_size = s.font_scale >= 1.5f ? fs * 0.75f : fs;
    char head[64];
    std::snprintf(head, sizeof head, "%s %d / %d: ", tr("Lesson"), s.lesson, kNumLessons);
    c.title = wrap(head + std::string(lesson_text(l.title_en, l.title_ja, s.lang)), c.text_w, fs);
    c.question = wrap(std::string(tr("Q:")) + " " + lesson_text(l.question_en, l.question_ja, s.lang), c.text_w, fs);
    auto h = [&](const std::string& t, float size) {
        return ImGui::GetFont()->CalcTextSizeA(size, 1e9f, 0, t.c_str()).y + st.ItemSpacing.y;
    };
    c.height = st.WindowPadding.y * 2 + h(c.title, fs) + h(c.question, fs);
    if (!folded) {
        c.body = wrap(lesson_text(l.text_en, l.text_ja, s.lang), c.text_w, c.body_size);
        c.body_h = h(c.body, c.body_size);
        c.height += c.body_h;
        if (l.tries[0].label_en) c.height += ImGui::GetFrameHeightWithSpacing();
    }
    // The navigation's two rows and room below them for the web page's own "Open file" button, which sits over
    // the window's bottom-right corner (about 28 px, whatever the font size) and must not cover Next.
    const float row = ImGui::GetFrameHeightWithSpacing();
    c.content_h = c.height;
    c.height = std::max(c.height, st.WindowPadding.y * 2 + row * 2 + std::min(row, 30.0f));
    return c;
}

}  // namespace

float lesson_card_height(const UiState& s, float width, float max_height, bool folded) {
    return std::min(layout(s, width, folded).height + 2, max_height);
}

std::string draw_lesson_card(const UiState& s, float width, float height, bool* folded, bool column) {
    const plot::Colors& colors = plot::colors();
    const ImGuiStyle& st = ImGui::GetStyle();
    const Lesson& l = lesson(s.lesson);
    const CardLayout c = layout(s, width, *folded, column);
    std::string action;
    ImVec4 tint = ImGui::ColorConvertU32ToFloat4(colors.series[0]);
    tint.w = 0.10f;
    ImGui::PushStyleColor(ImGuiCol_ChildBg, tint);
    ImGui::PushStyleColor(ImGuiCol_Border, colors.series[0]);
    // Show / hide the text, close; previous, next: two rows, right of the text (strip) or above it (column).
    auto navigation = [&] {
        ImGui::BeginGroup();
        if (ImGui::Button(*folded ? tr("Show text") : tr("Hide text"))) *folded = !*folded;
        ImGui::SameLine();
        ImGui::SetCursorPosX(ImGui::GetWindowContentRegionMax().x - (ImGui::CalcTextSize(tr("Close")).x + st.FramePadding.x * 2));
        if (ImGui::Button(tr("Close"))) action = "lesson=0";
        ImGui::BeginDisabled(s.lesson <= 1);
        if (ImGui::Button(tr("← Previous"))) action = "lesson=" + std::to_string(s.lesson - 1);
        ImGui::EndDisabled();
        ImGui::SameLine();
        ImGui::SetCursorPosX(ImGui::GetWindowContentRegionMax().x - (ImGui::CalcTextSize(tr("Next →")).x + st.FramePadding.x * 2));
        ImGui::BeginDisabled(s.lesson >= kNumLessons);
        if (ImGui::Button(tr("Next →"))) action = "lesson=" + std::to_string(s.lesson + 1);
        ImGui::EndDisabled();
        ImGui::EndGroup();
    };
    if (ImGui::BeginChild("##lesson", ImVec2(width, height), true, ImGuiWindowFlags_NoScrollbar)) {
        if (column) navigation();
        // The step. Title, question and try buttons stay in view; the text between them scrolls when the
        // card is capped below what it needs (presenter mode in a small window).
        ImGui::BeginGroup();
        ImGui::PushStyleColor(ImGuiCol_Text, colors.series[0]);
        ImGui::TextUnformatted(c.title.c_str());
        ImGui::PopStyleColor();
        // The text, scrolling in what is left: between title and question in a strip, last in a column (which
        // keeps clear of the page's "Open file" button over the window's bottom-right corner).
        auto body = [&](float room) {
            ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0, 0, 0, 0));
            if (ImGui::BeginChild("##lesson_text", ImVec2(c.text_w + st.ScrollbarSize, std::max(c.body_size * 1.3f, std::min(c.body_h, room))), false)) {
                ImGui::SetWindowFontScale(c.body_size / ImGui::GetFontSize());
                ImGui::TextUnformatted(c.body.c_str());
                ImGui::SetWindowFontScale(1.0f);
            }
            ImGui::EndChild();
            ImGui::PopStyleColor();
        };
        if (!*folded && !column) body(height - 2 - (c.height - c.body_h));
        ImGui::PushStyleColor(ImGuiCol_Text, colors.warn);
        ImGui::TextUnformatted(c.question.c_str());
        ImGui::PopStyleColor();
        if (!*folded && l.tries[0].label_en) {
            ImGui::AlignTextToFramePadding();
            ImGui::TextUnformatted(tr("Try:"));
            for (int i = 0; i < 4 && l.tries[i].label_en; ++i) {
                const char* label = lesson_text(l.tries[i].label_en, l.tries[i].label_ja, s.lang);
                if (column) same_line_if_fits(ImGui::CalcTextSize(label).x + st.FramePadding.x * 2);
                else ImGui::SameLine();
                ImGui::PushID(i);
                if (ImGui::Button(label)) action = l.tries[i].state;
                ImGui::PopID();
            }
        }
        if (!*folded && column) body(ImGui::GetContentRegionAvail().y - 30.0f);
        ImGui::EndGroup();
        if (!column) {
            ImGui::SameLine(c.text_w + st.ScrollbarSize + st.WindowPadding.x + st.ItemSpacing.x * 2);
            navigation();
        }
    }
    ImGui::EndChild();
    ImGui::PopStyleColor(2);
    return action;
}

}  // namespace quantlab::ui
