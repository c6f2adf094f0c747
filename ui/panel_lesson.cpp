// panel_lesson.cpp: the lesson card (see panel_lesson.hpp). A bottom strip rather than a side card: the panels
// above keep their full width (plots need it), and the text wraps over a long line, so it stays a few lines
// high even in presenter mode. Left: title, text, question, try buttons; right: k / 8, Close, Previous, Next.
#include "ui/panel_lesson.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "ui/i18n.hpp"
#include "ui/lessons.hpp"
#include "ui/plot.hpp"

namespace quantlab::ui {

namespace {

// Width of the right column (the navigation buttons side by side).
float nav_width() {
    const ImGuiStyle& st = ImGui::GetStyle();
    const float b1 = ImGui::CalcTextSize(tr("← Previous")).x + st.FramePadding.x * 2;
    const float b2 = ImGui::CalcTextSize(tr("Next →")).x + st.FramePadding.x * 2;
    return b1 + b2 + st.ItemSpacing.x;
}

std::string title_line(const UiState& s) {
    const Lesson& l = lesson(s.lesson);
    char head[64];
    std::snprintf(head, sizeof head, "%s %d / %d: ", tr("Lesson"), s.lesson, kNumLessons);
    return head + std::string(lesson_text(l.title_en, l.title_ja, s.lang));
}

std::string question_line(const UiState& s) {
    const Lesson& l = lesson(s.lesson);
    return std::string(tr("Q:")) + " " + lesson_text(l.question_en, l.question_ja, s.lang);
}

bool has_tries(const Lesson& l) { return l.tries[0].label_en != nullptr; }

}  // namespace

float lesson_card_height(const UiState& s, float width, float max_height) {
    const ImGuiStyle& st = ImGui::GetStyle();
    const Lesson& l = lesson(s.lesson);
    const float text_w = std::max(1.0f, width - nav_width() - st.WindowPadding.x * 2 - st.ItemSpacing.x * 2);
    auto h = [&](const std::string& t) { return ImGui::CalcTextSize(t.c_str(), nullptr, false, text_w).y + st.ItemSpacing.y; };
    float total = st.WindowPadding.y * 2 + h(title_line(s)) + h(lesson_text(l.text_en, l.text_ja, s.lang)) + h(question_line(s));
    if (has_tries(l)) total += ImGui::GetFrameHeightWithSpacing();
    return std::min(total + 2, max_height);
}

std::string draw_lesson_card(const UiState& s, float width, float height) {
    const plot::Colors& c = plot::colors();
    const ImGuiStyle& st = ImGui::GetStyle();
    const Lesson& l = lesson(s.lesson);
    std::string action;
    ImVec4 tint = ImGui::ColorConvertU32ToFloat4(c.series[0]);
    tint.w = 0.10f;
    ImGui::PushStyleColor(ImGuiCol_ChildBg, tint);
    ImGui::PushStyleColor(ImGuiCol_Border, c.series[0]);
    if (ImGui::BeginChild("##lesson", ImVec2(width, height), true, ImGuiWindowFlags_NoScrollbar)) {
        const float nav_w = nav_width();
        const float text_w = ImGui::GetContentRegionAvail().x - nav_w - st.ItemSpacing.x * 2;
        // Left: the step. Scrolls if a large font makes it taller than the card may be.
        if (ImGui::BeginChild("##lesson_text", ImVec2(text_w, 0), false)) {
            ImGui::PushStyleColor(ImGuiCol_Text, c.series[0]);
            ImGui::TextWrapped("%s", title_line(s).c_str());
            ImGui::PopStyleColor();
            ImGui::TextWrapped("%s", lesson_text(l.text_en, l.text_ja, s.lang));
            ImGui::PushStyleColor(ImGuiCol_Text, c.warn);
            ImGui::TextWrapped("%s", question_line(s).c_str());
            ImGui::PopStyleColor();
            if (has_tries(l)) {
                ImGui::AlignTextToFramePadding();
                ImGui::TextUnformatted(tr("Try:"));
                for (int i = 0; i < 4 && l.tries[i].label_en; ++i) {
                    ImGui::SameLine();
                    ImGui::PushID(i);
                    if (ImGui::Button(lesson_text(l.tries[i].label_en, l.tries[i].label_ja, s.lang))) action = l.tries[i].state;
                    ImGui::PopID();
                }
            }
        }
        ImGui::EndChild();
        // Right: where we are, and the way on.
        ImGui::SameLine(0, st.ItemSpacing.x * 2);
        ImGui::BeginGroup();
        char where[32];
        std::snprintf(where, sizeof where, "%d / %d", s.lesson, kNumLessons);
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(where);
        const float close_w = ImGui::CalcTextSize(tr("Close")).x + st.FramePadding.x * 2;
        ImGui::SameLine();
        ImGui::SetCursorPosX(ImGui::GetWindowContentRegionMax().x - close_w);
        if (ImGui::Button(tr("Close"))) action = "lesson=0";
        ImGui::BeginDisabled(s.lesson <= 1);
        if (ImGui::Button(tr("← Previous"))) action = "lesson=" + std::to_string(s.lesson - 1);
        ImGui::EndDisabled();
        ImGui::SameLine();
        ImGui::BeginDisabled(s.lesson >= kNumLessons);
        if (ImGui::Button(tr("Next →"))) action = "lesson=" + std::to_string(s.lesson + 1);
        ImGui::EndDisabled();
        ImGui::EndGroup();
    }
    ImGui::EndChild();
    ImGui::PopStyleColor(2);
    return action;
}

}  // namespace quantlab::ui
