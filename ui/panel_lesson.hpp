// panel_lesson.hpp: the lesson card, a strip along the bottom of the window (or a column at its right, where
// lines are scarce) while the lesson mode is on
// (UiState::lesson > 0): "Lesson k / 8" and the step's title, its text and question in the current language,
// its "try" buttons, Previous / Next, Hide text and Close. It changes nothing itself: it returns the state string App should apply
// (through App::apply_state_string, so a step's view takes the same path as a link).
#pragma once
#include <string>

#include "ui/state.hpp"

namespace quantlab::ui {

// The height the card needs for s.lesson across `width` pixels (text wrapped), at most max_height. Folded:
// the title and the question only.
float lesson_card_height(const UiState& s, float width, float max_height, bool folded);

// Draws the card at the cursor in a child of `width` x `height`; its "Hide text" / "Show text" button flips
// *folded (the front end's to keep; not part of the URL). Returns a state string to apply ("lesson=4",
// "lesson=0" to close, a try's view), or "" when nothing was clicked.
// column: the card as a column beside the panel (a wide window short of lines: presenter mode at 720-800 px),
// the navigation on top and the text below it, rather than a strip with the navigation at its right.
std::string draw_lesson_card(const UiState& s, float width, float height, bool* folded, bool column = false);

}  // namespace quantlab::ui
