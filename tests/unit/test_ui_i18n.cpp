// test_ui_i18n.cpp: the Japanese table (ui/i18n) against its English keys: a translated format string keeps the
// key's printf conversions in their order (tr_format passes the English arguments to it), and tr_format gives
// the English text in English and the table's text, numbers filled in, in Japanese.
#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include "ui/i18n.hpp"

using namespace quantlab::ui;

namespace {

// The printf conversions of s in order ("%%" included: it takes no argument, but a lost one changes the text).
std::vector<std::string> conversions(const std::string& s) {
    static const std::regex conv("%[-+ #0]*[0-9*]*(\\.[0-9*]+)?(hh|h|ll|l|z|j|t|L)?[diouxXeEfFgGaAcsp%]");
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), conv); it != std::sregex_iterator(); ++it) out.push_back(it->str());
    return out;
}

}  // namespace

TEST_CASE("every translation keeps its key's printf conversions", "[ui][i18n]") {
    CHECK(conversions("a %d b %.2f %% %lld %s") == std::vector<std::string>{"%d", "%.2f", "%%", "%lld", "%s"});
    const auto pairs = translations();
    REQUIRE(pairs.size() > 100);
    for (const auto& [en, ja] : pairs) {
        INFO(en << " -> " << ja);
        CHECK(conversions(en) == conversions(ja));
    }
}

TEST_CASE("tr_format fills the current language's text", "[ui][i18n]") {
    set_language(Lang::kEn);
    CHECK(tr_format("%lld training / %lld validation images (%s)", 1200LL, 300LL, "sample") ==
          "1200 training / 300 validation images (sample)");
    CHECK(tr_format("not in the table: %d", 7) == "not in the table: 7");
    set_language(Lang::kJa);
    CHECK(tr_format("%lld training / %lld validation images (%s)", 1200LL, 300LL, "sample") == "学習画像 1200 枚 / 検証画像 300 枚 (sample)");
    CHECK(tr_format("finished: test accuracy %.2f %% (%lld test images; before training %.2f %%), validation %.2f %%", 61.2, 1000LL, 56.6,
                    70.0) == "完了: テスト精度 61.20 % (テスト画像 1000 枚、学習前 56.60 %)、検証精度 70.00 %");
    CHECK(tr_format("not in the table: %d", 7) == "not in the table: 7");
    set_language(Lang::kEn);
}
