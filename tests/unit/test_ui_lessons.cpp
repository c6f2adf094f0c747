// test_ui_lessons.cpp: the lesson mode's data and its state string (ui/lessons.hpp, the lesson key of
// ui/state.hpp): every step's view and try views decode cleanly and round-trip, "lesson=N" opens step N's view
// in both languages, a URL written inside a step reopens what was on screen, and bad lesson values are
// reported without changing anything else. ImGui-free (links quantlab_ui_logic).
#include <catch2/catch.hpp>

#include <fstream>

#include "ui/i18n.hpp"
#include "ui/lessons.hpp"
#include "ui/state.hpp"

using namespace quantlab;
using namespace quantlab::ui;

namespace {

// What each step shows, written out here independently of lessons.cpp: the notebook's order.
const Panel kExpectedPanel[kNumLessons] = {Panel::kQuantizer, Panel::kQuantizer, Panel::kQuantizer, Panel::kNetwork,
                                           Panel::kEval,      Panel::kQuantizer, Panel::kEval,      Panel::kTrain};

bool has_non_ascii(const char* s) {
    for (; *s; ++s)
        if (static_cast<unsigned char>(*s) >= 0x80) return true;
    return false;
}

bool asset_exists(const std::string& name) { return std::ifstream(std::string(QUANTLAB_ASSETS_DIR) + "/" + name).good(); }

}  // namespace

TEST_CASE("ui lessons", "[ui]") {
    SECTION("every step has its texts in both languages and a view that decodes cleanly") {
        for (int n = 1; n <= kNumLessons; ++n) {
            INFO("step " << n);
            const Lesson& l = lesson(n);
            for (const char* t : {l.title_en, l.text_en, l.question_en}) CHECK(std::string(t).size() > 5);
            for (const char* t : {l.title_ja, l.text_ja, l.question_ja}) CHECK(std::string(t).size() > 5);
            CHECK(has_non_ascii(l.text_ja));
            CHECK(has_non_ascii(l.question_ja));
            CHECK(std::string(l.text_en) != l.text_ja);
            UiState s;
            CHECK(decode_state(l.view, &s).ok());
            CHECK(s.panel == kExpectedPanel[n - 1]);
            for (const LessonTry& t : l.tries) {
                if (!t.label_en) continue;
                INFO("try " << t.label_en);
                CHECK(t.label_ja != nullptr);
                UiState u = s;
                CHECK(decode_state(t.state, &u).ok());
                CHECK(u.panel == s.panel);  // a try changes the view within its step, not the panel
                if (u.weights != UiState().weights) CHECK(asset_exists(u.weights));
            }
            if (s.weights != UiState().weights) CHECK(asset_exists(s.weights));
        }
    }
    SECTION("lesson=N opens step N's view, in English and in Japanese") {
        for (const char* lang : {"en", "ja"}) {
            for (int n = 1; n <= kNumLessons; ++n) {
                INFO(lang << " step " << n);
                UiState s;
                const std::string link = "lesson=" + std::to_string(n) + "&lang=" + lang;
                REQUIRE(decode_state_with_lessons(link, &s).ok());
                CHECK(s.lesson == n);
                CHECK(s.panel == kExpectedPanel[n - 1]);
                CHECK(s.lang == (std::string(lang) == "ja" ? Lang::kJa : Lang::kEn));
                UiState view;
                decode_state(lesson(n).view, &view);
                view.lesson = n;
                view.lang = s.lang;
                CHECK(s == view);
                // The view round-trips through the string the page writes into its URL.
                const std::string url = encode_state(s);
                CHECK(url.rfind("lesson=" + std::to_string(n), 0) == 0);
                UiState t;
                REQUIRE(decode_state_with_lessons(url, &t).ok());
                CHECK(t == s);
                CHECK(encode_state(t) == url);
            }
        }
    }
    SECTION("the step's specific settings: the notebook's plot, the +-std exercise, the QAT model") {
        UiState s;
        REQUIRE(decode_state_with_lessons("lesson=1", &s).ok());
        CHECK(s.lab_source == LabSource::kSynthetic);
        CHECK(s.lab_spec.bits == 3);
        CHECK(s.lab_spec.rule == RangeRule::kMaxAbs);
        REQUIRE(decode_state_with_lessons("lesson=2", &s).ok());
        CHECK(s.lab_spec.rule == RangeRule::kMeanStd);
        CHECK(s.lab_spec.k == 1.0);
        REQUIRE(decode_state_with_lessons("lesson=7", &s).ok());
        CHECK(s.weights == "qat_w2a2.safetensors");
        CHECK(s.act_mode == ActMode::kStatic);
        REQUIRE(decode_state_with_lessons("lesson=8", &s).ok());
        CHECK(s.weights == UiState().weights);  // a step's view starts from the defaults
    }
    SECTION("next / previous round-trip, and a step keeps language and presenter settings") {
        UiState s;
        REQUIRE(decode_state("lang=ja&fs=2&hc=1", &s).ok());
        std::vector<UiState> seen;
        for (int n = 1; n <= kNumLessons; ++n) {
            REQUIRE(decode_state_with_lessons("lesson=" + std::to_string(n), &s).ok());
            CHECK(s.lang == Lang::kJa);
            CHECK(s.font_scale == 2.0f);
            CHECK(s.high_contrast);
            seen.push_back(s);
        }
        for (int n = kNumLessons - 1; n >= 1; --n) {
            REQUIRE(decode_state_with_lessons("lesson=" + std::to_string(n), &s).ok());
            CHECK(s == seen[size_t(n - 1)]);
        }
    }
    SECTION("a URL written inside a step reopens what was on screen; the same step does not reset") {
        UiState s;
        REQUIRE(decode_state_with_lessons("lesson=3", &s).ok());
        s.lab_spec.bits = 2;  // the student pressed "b = 2"
        const std::string url = encode_state(s);
        UiState t;
        REQUIRE(decode_state_with_lessons(url, &t).ok());
        CHECK(t == s);
        REQUIRE(decode_state_with_lessons("lesson=3", &t).ok());
        CHECK(t.lab_spec.bits == 2);
        REQUIRE(decode_state_with_lessons("lesson=0", &t).ok());  // closing keeps the view
        CHECK(t.lesson == 0);
        CHECK(t.lab_spec.bits == 2);
        CHECK(encode_state(t).find("lesson") == std::string::npos);
    }
    SECTION("bad lesson values are reported and change nothing") {
        for (const char* bad : {"9", "-1", "abc", "2.5", "", "1e9", "%zz"}) {
            INFO("lesson=" << bad);
            UiState s;
            REQUIRE(decode_state_with_lessons("lesson=4", &s).ok());
            const UiState before = s;
            const Status st = decode_state_with_lessons(std::string("lesson=") + bad, &s);
            CHECK_FALSE(st.ok());
            CHECK(st.message.find("lesson=") != std::string::npos);
            CHECK(s == before);
        }
        UiState s;
        const Status st = decode_state_with_lessons("lesson=12&wb=3", &s);
        CHECK_FALSE(st.ok());
        CHECK(st.message.find("lesson step 1..8") != std::string::npos);
        CHECK(s.lesson == 0);
        CHECK(s.weight_bits == std::vector<int>{3});  // the good keys still apply
    }
    SECTION("the font's glyph list holds the lessons' Japanese text") {
        const std::string all = all_ui_text();
        CHECK(all.find(lesson(5).text_ja) != std::string::npos);
        CHECK(all.find(lesson(8).tries[0].label_ja ? lesson(8).tries[0].label_ja : lesson(8).title_ja) != std::string::npos);
    }
}
