// test_ui_layout_probe.cpp: ui/layout_probe.hpp. place_legend never lets a legend overlap the data area and
// keeps every entry inside the legend and the region, over many region sizes, entry counts and font sizes;
// fit_tick_labels never picks a mode whose labels would overlap; the probe's JSON says what was recorded.
#include <catch2/catch.hpp>

#include "ui/layout_probe.hpp"

using namespace quantlab::ui;

TEST_CASE("place_legend: hand-worked rows", "[ui]") {
    const Rect region{100, 50, 500, 450};  // 400 x 400
    SECTION("no entries: the whole region is data") {
        const LegendPlacement p = place_legend(region, {}, 20, 4, 40);
        CHECK(p.legend.empty());
        CHECK(p.area.x0 == 100);
        CHECK(p.area.y0 == 50);
        CHECK(p.area.y1 == 450);
        CHECK(p.rows == 0);
    }
    SECTION("two entries in one row") {
        const LegendPlacement p = place_legend(region, {100, 120}, 20, 4, 40);
        REQUIRE(p.entries.size() == 2);
        CHECK(p.rows == 1);
        CHECK(p.entries[0].x0 == 100);
        CHECK(p.entries[1].x0 == 100 + 100 + 20);  // one line height between entries
        CHECK(p.legend.y0 == 50);
        CHECK(p.legend.y1 == 70);
        CHECK(p.area.y0 == 74);  // below the strip, `gap` lower
        CHECK(p.area.y1 == 450);
    }
    SECTION("entries wrap to a second row") {
        const LegendPlacement p = place_legend(region, {250, 250, 100}, 20, 4, 40);
        REQUIRE(p.entries.size() == 3);
        CHECK(p.rows == 3 - 1);  // 250 | 250 + 20 + 100 = 370 fits the second row
        CHECK(p.entries[1].y0 == 70);
        CHECK(p.entries[2].y0 == 70);
        CHECK(p.area.y0 == 94);
    }
    SECTION("an entry wider than the region is clipped to it") {
        const LegendPlacement p = place_legend(region, {900}, 20, 4, 40);
        REQUIRE(p.entries.size() == 1);
        CHECK(p.entries[0].x1 == 500);
    }
    SECTION("a short region drops entries rather than squeezing the data") {
        const LegendPlacement p = place_legend({0, 0, 100, 70}, {90, 90, 90}, 20, 4, 40);
        CHECK(p.entries.size() == 1);  // 70 - 40 - 4 = 26 px: one row
        CHECK(p.area.height() >= 40);
    }
}

TEST_CASE("place_legend: never overlaps the data area, for many sizes", "[ui]") {
    int cases = 0;
    for (float w = 40; w <= 1900; w += 37) {
        for (float h = 30; h <= 1000; h += 53) {
            for (float line_h : {13.0f, 16.0f, 24.0f, 32.0f, 48.0f}) {
                for (int n = 0; n <= 6; ++n) {
                    std::vector<float> widths;
                    for (int i = 0; i < n; ++i) widths.push_back(line_h * (2.0f + float((i * 7) % 9)));
                    const Rect region{10, 20, 10 + w, 20 + h};
                    const LegendPlacement p = place_legend(region, widths, line_h, line_h * 0.25f, line_h * 3);
                    ++cases;
                    INFO("region " << w << " x " << h << ", line " << line_h << ", entries " << n);
                    REQUIRE_FALSE(p.legend.overlaps(p.area));
                    REQUIRE(region.contains(p.area));
                    REQUIRE(p.entries.size() <= widths.size());
                    if (!p.legend.empty()) {
                        REQUIRE(region.contains(p.legend));
                        REQUIRE(p.legend.y1 <= p.area.y0);
                    }
                    for (const Rect& e : p.entries) {
                        REQUIRE(p.legend.contains(e));
                        REQUIRE_FALSE(e.overlaps(p.area));
                    }
                    for (size_t i = 0; i < p.entries.size(); ++i)
                        for (size_t j = i + 1; j < p.entries.size(); ++j) REQUIRE_FALSE(p.entries[i].overlaps(p.entries[j]));
                    // Every entry placed when there is room: at most one row per entry above the minimum area.
                    if (h - line_h * 3 - line_h * 0.25f >= float(n) * line_h) REQUIRE(p.entries.size() == widths.size());
                }
            }
        }
    }
    CHECK(cases > 10000);
}

TEST_CASE("fit_tick_labels: the chosen mode keeps labels apart", "[ui]") {
    SECTION("room enough: horizontal") {
        const TickLabelFit f = fit_tick_labels(40, 30, 60, 16, 100);
        CHECK(f.mode == TickLabelMode::kHorizontal);
        CHECK(f.height == 16);
    }
    SECTION("too narrow for horizontal, wide enough across at 45 degrees") {
        const TickLabelFit f = fit_tick_labels(80, 30, 30, 16, 100);
        CHECK(f.mode == TickLabelMode::kRotated45);
        CHECK(f.height > 80 * 0.7f);
    }
    SECTION("rotated would touch its neighbour: shortened") {
        const TickLabelFit f = fit_tick_labels(96, 30, 44, 32, 200);  // 44 * 0.707 = 31 < 32
        CHECK(f.mode == TickLabelMode::kShortened);
    }
    SECTION("nothing fits: every step-th label") {
        const TickLabelFit f = fit_tick_labels(96, 64, 20, 32, 40);
        CHECK(f.mode == TickLabelMode::kSparse);
        CHECK(float(f.step) * 20 >= 64);
    }
    // Over many sizes: horizontal and shortened labels fit their spacing; rotated ones are a line apart.
    for (float spacing = 4; spacing < 200; spacing += 3)
        for (float widest = 10; widest < 300; widest += 11)
            for (float line_h : {13.0f, 16.0f, 32.0f}) {
                const float shortw = widest * 0.5f;
                const TickLabelFit f = fit_tick_labels(widest, shortw, spacing, line_h, 120);
                INFO("spacing " << spacing << " widest " << widest << " line " << line_h);
                switch (f.mode) {
                    case TickLabelMode::kHorizontal: REQUIRE(widest < spacing); break;
                    case TickLabelMode::kShortened: REQUIRE(shortw < spacing); break;
                    case TickLabelMode::kRotated45: REQUIRE(spacing * 0.7071f >= line_h); break;
                    case TickLabelMode::kVertical: REQUIRE(spacing >= line_h); break;
                    case TickLabelMode::kSparse: REQUIRE(float(f.step) * spacing > shortw); break;
                }
                REQUIRE(f.step >= 1);
            }
}

TEST_CASE("LayoutProbe: records a frame and writes it as JSON", "[ui]") {
    LayoutProbe probe;
    probe.add_plot({"sweep", {0, 0, 100, 100}, {10, 30, 90, 90}, {10, 10, 60, 26}, false});
    probe.add_plot({"classes", {0, 100, 100, 200}, {10, 110, 90, 190}, {}, true});
    probe.add_headline({"eval", 56, {0, 0, 300, 56}});
    probe.note_unsettled();
    const std::string j = probe.to_json();
    CHECK(j.find("\"id\":\"sweep\"") != std::string::npos);
    CHECK(j.find("\"legend\":[10.0,10.0,60.0,26.0]") != std::string::npos);
    CHECK(j.find("\"legend\":null") != std::string::npos);
    CHECK(j.find("\"title_clipped\":true") != std::string::npos);
    CHECK(j.find("\"height\":56.0") != std::string::npos);
    CHECK(j.find("\"unsettled\":true") != std::string::npos);
    probe.begin_frame();
    CHECK(probe.plots().empty());
    CHECK(probe.headlines().empty());
    CHECK_FALSE(probe.unsettled());
    CHECK(probe.to_json() == "{\"plots\":[],\"headlines\":[],\"unsettled\":false}");
}
