// test_ui_classes.cpp: class counts other than CIFAR-10's in the UI's ImGui-free part: class names for 10 and
// 100 classes (ui/i18n class_label), the evaluation panel's list of the most confused pairs (ui/plot_data
// top_confused), and the desktop's check of a model file (core's check_cifar_net: 10 or 100 classes).
#include <catch2/catch.hpp>

#include "core/model_file.hpp"
#include "core/network.hpp"
#include "ui/i18n.hpp"
#include "ui/plot_data.hpp"

using namespace quantlab;
using namespace quantlab::ui;

TEST_CASE("class labels for 10 and 100 classes", "[ui][classes]") {
    set_language(Lang::kEn);
    CHECK(class_label(10, 0) == "plane");
    CHECK(class_label(10, 0) == class_name(0));
    CHECK(class_label(100, 0) == "apple");
    CHECK(class_label(100, 99) == "worm");
    CHECK(class_label(100, 100) == "100");
    CHECK(class_label(7, 3) == "3");
}

TEST_CASE("top_confused: the largest off-diagonal cells, largest first", "[ui][classes]") {
    // 3 classes: rows = true. Diagonal cells (however large) never count; ties keep row-major order.
    const std::vector<int64_t> conf = {50, 2, 7,
                                       7, 40, 0,
                                       1, 9, 30};
    const std::vector<Confusion> top = top_confused(conf, 3, 3);
    REQUIRE(top.size() == 3);
    CHECK((top[0].truth == 2 && top[0].predicted == 1 && top[0].count == 9));
    CHECK((top[1].truth == 0 && top[1].predicted == 2 && top[1].count == 7));
    CHECK((top[2].truth == 1 && top[2].predicted == 0 && top[2].count == 7));
    CHECK(top_confused(conf, 3, 10).size() == 5);  // 6 off-diagonal cells, the zero left out
    CHECK(top_confused(std::vector<int64_t>(100 * 100, 0), 100, 5).empty());
}

TEST_CASE("the desktop takes CIFAR-10 and CIFAR-100 networks", "[ui][classes]") {
    CHECK(check_cifar_net(notebook_net(), "a").ok());
    CHECK(check_cifar_net(with_classes(notebook_net(), 100), "b").ok());
    const Status s = check_cifar_net(with_classes(notebook_net(), 20), "c.safetensors");
    CHECK(s.message.find("c.safetensors") != std::string::npos);
    CHECK(s.message.find("20 classes") != std::string::npos);
}
