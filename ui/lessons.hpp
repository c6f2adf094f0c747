// lessons.hpp: the lesson mode's steps as data. Each step walks one part of the lab notebook (class_03): a
// title, a short text (what to look at), one question, in English and Japanese, and the view it sets, which
// is just a state string (ui/state.hpp) applied on top of a fresh UiState. A step may offer a few "try"
// views (a partial state string applied on top of the current one). Plain C++ with no ImGui: unit-tested.
// The card that shows a step is ui/panel_lesson.cpp; App applies the views (ui/app.cpp).
#pragma once
#include <string>

#include "core/status.hpp"
#include "ui/state.hpp"

namespace quantlab::ui {

constexpr int kNumLessons = 8;  // UiState::lesson is 0 (off) or 1..kNumLessons

struct LessonTry {
    const char* label_en;
    const char* label_ja;
    const char* state;  // applied on top of the current state (the step stays the same)
};

struct Lesson {
    const char* title_en;
    const char* title_ja;
    const char* text_en;
    const char* text_ja;
    const char* question_en;
    const char* question_ja;
    const char* view;        // the state string this step sets (on top of a default UiState)
    LessonTry tries[4];      // unused entries have label_en == nullptr
};

// Step n, 1..kNumLessons (clamped).
const Lesson& lesson(int n);
// A lesson text in the given language.
inline const char* lesson_text(const char* en, const char* ja, Lang lang) { return lang == Lang::kJa ? ja : en; }

// The state step n sets: a default UiState that keeps `from`'s language and presenter settings, with the step's
// view applied and lesson = n. n = 0 returns `from` with the lesson mode off (the view stays).
UiState lesson_view(const UiState& from, int n);

// decode_state with lessons: when the text moves to another step (lesson=N with N differing from s->lesson),
// the step's view is set first and the text's other keys apply on top, so "lesson=3" opens step 3 and a URL
// the page wrote in step 3 ("lesson=3&...") reopens what was on screen. Bad values are reported as
// decode_state reports them and leave their fields unchanged.
Status decode_state_with_lessons(const std::string& text, UiState* s);

// Every Japanese string of the lessons, for the font's glyph ranges (ui/i18n.cpp's all_ui_text).
std::string all_lesson_text();

}  // namespace quantlab::ui
