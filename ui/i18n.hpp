// i18n.hpp: English and Japanese UI text. Code writes the English text; tr() returns the Japanese one
// when Japanese is selected (the English text where a translation is missing). The Japanese glyphs the UI
// needs are exactly those of these tables plus the notebook's symbols: scripts/make_font_subset.py cuts
// IPAPGothic down to them (assets/fonts/quantlab-ui.ttf) and theme.cpp builds ImGui's glyph ranges from here.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "ui/state.hpp"

namespace quantlab::ui {

void set_language(Lang lang);
Lang language();
const char* tr(const char* english);
// snprintf of tr(english_format): a message with numbers in the current language (at most 1,000 bytes).
std::string tr_format(const char* english_format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
// Every (English, Japanese) pair of the table, in its order: for the tests.
std::vector<std::pair<const char*, const char*>> translations();
// CIFAR-10 class c as the notebook names it (plane, car, ...), in the current language.
const char* class_name(int c);
// Class c of a `classes`-class model: CIFAR-10's names (in the UI's language) for 10, CIFAR-100's fine label
// names (core/dataset.hpp, the list of the data set's fine_label_names.txt; English) for 100, else the index.
std::string class_label(int classes, int c);
// Every string of the tables (both languages) and the symbols the UI draws: for the font's glyph ranges.
std::string all_ui_text();

}  // namespace quantlab::ui
