// test_ui_train_curves.cpp: the training panel's curves as data (ui/train_curves): the x axis values, the CSV
// files (hand-written expected text), and the PNG rasteriser (pixels where the layout puts a point, the
// background elsewhere, and a PNG that reads back to the same pixels).
#include <catch2/catch.hpp>

#include <filesystem>

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_image.h>

#include "ui/train_curves.hpp"

using namespace quantlab;
using namespace quantlab::ui;

namespace {

TrainRun two_point_run() {
    TrainRun r;
    r.id = 3;
    r.config.epochs = 2;
    r.state = TrainState::kFinished;
    r.message = "finished: test accuracy 61.20 %, \"static\"";
    auto point = [](double epoch, int64_t step, double seconds, double loss, double val, double ips) {
        TrainPoint p;
        p.epoch = epoch, p.step = step, p.seconds = seconds, p.loss = loss, p.val_accuracy = val, p.images_per_s = ips;
        return p;
    };
    r.points = {point(0.5, 10, 2.5, 1.25, -1, 800), point(1.0, 20, 5.0, 0.75, 60.5, 900)};
    return r;
}

// Whether colour c is within one pixel of (x, y) (the line is stamped 2 pixels wide from rounded points).
bool near(const RgbaImage& im, int x, int y, uint32_t c) {
    for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx)
            if (im.pixel(x + dx, y + dy) == c) return true;
    return false;
}

}  // namespace

TEST_CASE("train curves: axis values and CSV text", "[ui][train]") {
    const TrainRun r = two_point_run();
    CHECK(axis_value(r.points[1], TrainAxis::kEpoch) == 1.0);
    CHECK(axis_value(r.points[1], TrainAxis::kStep) == 20.0);
    CHECK(axis_value(r.points[1], TrainAxis::kSeconds) == 5.0);
    CHECK(std::string(train_axis_name(TrainAxis::kSeconds)) == "seconds");
    CHECK(curves_csv({r}, {"#3 sgd, lr 0.01"}) ==
          "run,label,epoch,step,seconds,loss,val_accuracy,test_accuracy,images_per_s\n"
          "3,\"#3 sgd, lr 0.01\",0.5,10,2.500,1.25,,,800.0\n"
          "3,\"#3 sgd, lr 0.01\",1,20,5.000,0.75,60.50,,900.0\n");
    // The page's trainer adds points that carry a test accuracy only (loss < 0): the loss field stays empty.
    TrainRun t = r;
    TrainPoint only_test;
    only_test.epoch = 1, only_test.step = 20, only_test.loss = -1, only_test.test_accuracy = 58.25;
    t.points = {only_test};
    CHECK(curves_csv({t}, {"x"}) == "run,label,epoch,step,seconds,loss,val_accuracy,test_accuracy,images_per_s\n3,x,1,20,0.000,,,58.25,0.0\n");
    CHECK(results_csv({r}, {"#3 sgd"}) ==
          "run,label,state,epochs,points,epoch,step,seconds,loss,last_val_accuracy,best_val_accuracy,images_per_s,message\n"
          "3,#3 sgd,finished,2,2,1,20,5.000,0.75,60.50,60.50,900.0,\"finished: test accuracy 61.20 %, \"\"static\"\"\"\n");
    TrainRun empty;
    empty.id = 1;
    CHECK(results_csv({empty}, {}).find("\n1,#1,queued,10,0,0,0,0.000,,,,0.0,\n") != std::string::npos);
}

TEST_CASE("train curves: the PNG shows each point where the layout puts it", "[ui][train]") {
    const TrainRun r = two_point_run();
    const uint32_t orange = 0xff0090e0;  // 0xAABBGGRR
    for (TrainAxis axis : {TrainAxis::kEpoch, TrainAxis::kStep, TrainAxis::kSeconds}) {
        const RgbaImage im = render_curves({r}, {"run"}, {orange}, axis, 800, 500);
        REQUIRE(im.width == 800);
        REQUIRE(im.height == 500);
        const CurvesLayout l = curves_layout({r}, axis, 800, 500);
        // x spans 0 .. the largest value on this axis; loss 0 .. 1.05 x the largest loss; accuracy 0 .. 100.
        CHECK(l.loss.xhi == axis_value(r.points[1], axis));
        CHECK(l.loss.yhi == Approx(1.25 * 1.05));
        CHECK(l.val.yhi == 100);
        INFO(train_axis_name(axis));
        // Both loss points and the middle of the segment between them, and the validation marker.
        CHECK(near(im, l.loss.px(axis_value(r.points[0], axis)), l.loss.py(1.25), orange));
        CHECK(near(im, l.loss.px(axis_value(r.points[1], axis)), l.loss.py(0.75), orange));
        const double xm = (axis_value(r.points[0], axis) + axis_value(r.points[1], axis)) / 2;
        CHECK(near(im, l.loss.px(xm), l.loss.py(1.0), orange));
        CHECK(near(im, l.val.px(axis_value(r.points[1], axis)), l.val.py(60.5), orange));
        // No validation curve where none was measured; white outside the plots.
        CHECK(!near(im, l.val.px(axis_value(r.points[0], axis)), l.val.py(60.5), orange));
        CHECK(im.pixel(0, 0) == 0xffffffff);
        CHECK(im.pixel(799, 499) == 0xffffffff);
    }
}

TEST_CASE("train curves: write_png reads back; a bad path is named", "[ui][train]") {
    const RgbaImage im = render_curves({two_point_run()}, {"run"}, {0xff0090e0}, TrainAxis::kEpoch, 320, 240);
    const std::string path = (std::filesystem::temp_directory_path() / "quantlab_test_curves.png").string();
    REQUIRE(write_png(path, im).ok());
    int w = 0, h = 0, ch = 0;
    unsigned char* px = stbi_load(path.c_str(), &w, &h, &ch, 4);
    REQUIRE(px);
    CHECK(w == 320);
    CHECK(h == 240);
    CHECK(std::equal(im.rgba.begin(), im.rgba.end(), px));
    stbi_image_free(px);
    std::filesystem::remove(path);
    const Status bad = write_png("/nonexistent-dir/x.png", im);
    CHECK(bad.message.find("/nonexistent-dir/x.png") != std::string::npos);
    CHECK(write_text_file("/nonexistent-dir/x.csv", "a").message.find("/nonexistent-dir/x.csv") != std::string::npos);
}

TEST_CASE("train curves: the PNG's text is ASCII whatever the labels hold", "[ui][train]") {
    // stb_easy_font draws ' '..'~' only; a UTF-8 label (a Japanese run name) would index outside its glyph table.
    CHECK(printable_ascii("#2 sgd lr 0.01") == "#2 sgd lr 0.01");
    CHECK(printable_ascii("#1 学習 W4A4") == "#1 ?? W4A4");  // one '?' per character, not per byte
    CHECK(printable_ascii(std::string("a\tb\x7f" "c")) == "a?b?c");
    CHECK(printable_ascii("") == "");
    // Drawn: the same pixels as the label with its '?' already in place.
    const TrainRun r = two_point_run();
    const RgbaImage ja = render_curves({r}, {"#1 学習 W4A4"}, {0xff0090e0}, TrainAxis::kEpoch, 480, 320);
    const RgbaImage ascii = render_curves({r}, {"#1 ?? W4A4"}, {0xff0090e0}, TrainAxis::kEpoch, 480, 320);
    CHECK(ja.rgba == ascii.rgba);
}
