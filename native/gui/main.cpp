// main.cpp: quantlab-gui, the desktop app. Owns the GLFW window, the OpenGL 3 context and ImGui's backends,
// and runs ui/'s App in a frame-capped loop (Xvfb has no vsync). Files arrive by drag-and-drop or App's own
// file dialog. Evaluation runs on App's worker thread and training on the trainer's: core's engine
// (ui/core_trainer.hpp, every build; ui/train_data_feeder.hpp reads its images) or LibTorch's
// (GuiTrainer, builds with LibTorch), chosen with --engine. A frame only draws; --frame-stats and the status
// file report frame work times, also while training.
// Test hooks: --state, --status-file, --screenshot, --quit-after, --train (start runs), --train-limit.
#include <CLI/CLI.hpp>
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <nlohmann/json.hpp>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

#include "core/archive/archive.hpp"
#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/file_io.hpp"
#include "core/parallel.hpp"
#include "native/gui/frame_stats.hpp"
#include "native/trainer/thread_priority.hpp"
#include "native/trainer/trainer.hpp"
#include "ui/app.hpp"
#include "ui/core_trainer.hpp"
#include "ui/frame_policy.hpp"
#include "ui/glfw_input.hpp"
#include "ui/run_spec.hpp"
#include "ui/train_data_feeder.hpp"
#if QUANTLAB_HAVE_TORCH
#include "native/gui/gui_trainer.hpp"
#endif

namespace {

std::atomic<bool> g_quit{false};

struct Options {
    std::string assets;
    std::string state;
    std::vector<std::string> open;
    int width = 1280, height = 800;
    double fps = 60;
    bool frame_stats = false;
    std::string status_file;
    std::string screenshot;
    int screenshot_after = -1;       // frames
    bool screenshot_when_idle = false;
    bool quit_after_screenshot = false;
    int quit_after = -1;             // frames
    int threads = 0;
    bool vsync = true;
    // training
#if QUANTLAB_HAVE_TORCH
    std::string engine = "torch";
#else
    std::string engine = "core";
#endif
    std::string data;                // CIFAR-10 folder; default $QUANTLAB_DATA, else the per-user cache
    std::string runs_dir;            // torch: run checkpoints; default default_runs_dir()
    int keep_runs_days = 30;         // earlier sessions' run folders idle longer than this are removed (0: keep all)
    std::string device = "auto";
    std::vector<std::string> train;  // runs to start at launch (parse_run_spec)
    int64_t train_limit = -1;        // hidden: tiny runs for tests and screenshots
};

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void open_path(quantlab::ui::App& app, const std::string& path) {
    quantlab::Result<std::vector<uint8_t>> bytes = quantlab::read_file_bytes(path, "open");
    // A file that cannot be read is shown in the banner like any other bad file (as an empty one); the app
    // keeps running.
    app.open_file(path, bytes.ok() ? bytes.value : std::vector<uint8_t>{});
}

// The window's user pointer: where dropped files go.
struct DropTarget {
    quantlab::ui::App* app = nullptr;
    quantlab::ui::CoreTrainer* trainer = nullptr;  // core's engine: dropped data_batch_N.bin become its training images
};

// As on the page (web/glue.js): with core's trainer, CIFAR-10 training batches dropped together are its training
// images (bad records fail the runs waiting for images, an unreadable file is reported on stderr; either way the
// images it had are kept); every other file goes to the app (weights, a test batch).
void drop_callback(GLFWwindow* window, int count, const char** paths) {
    const auto* to = static_cast<const DropTarget*>(glfwGetWindowUserPointer(window));
    std::vector<std::string> batches;
    for (int i = 0; i < count; ++i) {
        if (to->trainer && quantlab::ui::is_train_batch_name(paths[i])) batches.push_back(paths[i]);
        else open_path(*to->app, paths[i]);
    }
    if (batches.empty()) return;
    quantlab::Result<quantlab::ui::TrainBatches> b = quantlab::ui::read_batch_files(batches);
    const quantlab::Status s = b.ok() ? to->trainer->set_train_data(b.value.name, b.value.bytes) : b.status;
    if (!s) std::fprintf(stderr, "quantlab-gui: %s\n", s.message.c_str());
}

// Writes text through a temporary file and a rename: readers never see half a file.
void write_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!(f << text)) return;
    }
    std::rename(tmp.c_str(), path.c_str());
}

bool save_screenshot(const std::string& path, int w, int h) {
    std::vector<unsigned char> px(size_t(w) * size_t(h) * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
    for (size_t i = 3; i < px.size(); i += 4) px[i] = 255;
    stbi_flip_vertically_on_write(1);
    const std::string tmp = path + ".tmp.png";
    if (!stbi_write_png(tmp.c_str(), w, h, 4, px.data(), w * 4)) return false;
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// training_json: the trainer's status ("" for none), written as "training" with "engine" added. The two trainers'
// schemas differ (CoreTrainer::status_json: "runs" is the list; GuiTrainer::status_json: "runs" counts, "runs_list").
std::string status_text(const quantlab::ui::App& app, const quantlab::gui::FrameStats& stats, long frames, const std::string& training_json,
                        const char* engine) {
    nlohmann::json j = nlohmann::json::parse(app.status_json(), nullptr, false);
    if (j.is_discarded()) j = nlohmann::json::object();
    if (!training_json.empty()) {
        nlohmann::json t = nlohmann::json::parse(training_json, nullptr, false);
        if (t.is_object()) t["engine"] = engine;
        j["training"] = std::move(t);
    }
    j["frames"] = frames;
    j["frame_ms"] = nlohmann::json::parse(stats.json());
    return j.dump() + "\n";
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    const char* env_assets = std::getenv("QUANTLAB_ASSETS");
    o.assets = env_assets ? env_assets : QUANTLAB_ASSETS_DIR;
    CLI::App cli("quantlab-gui: QuantLab's desktop app (quantizer lab, network view, evaluation, training)");
    cli.set_version_flag("--version", std::string("quantlab-gui ") + QUANTLAB_VERSION);
    cli.add_option("--assets", o.assets, "folder with the bundled weights, test sample and fonts (or $QUANTLAB_ASSETS)")->capture_default_str();
    cli.add_option("--state", o.state, "start from a state string, e.g. 'panel=eval&wb=4&ab=4'");
    cli.add_option("--open", o.open, "weights (.safetensors/.pth) or CIFAR-10/CIFAR-100 .bin files to open at start");
    cli.add_option("--width", o.width, "window width")->capture_default_str();
    cli.add_option("--height", o.height, "window height")->capture_default_str();
    cli.add_option("--fps", o.fps, "frame-rate cap (the loop sleeps; Xvfb has no vsync)")->capture_default_str();
    cli.add_option("--threads", o.threads, "evaluation threads (0: all cores but one, at least 1)")->capture_default_str();
    cli.add_flag("!--no-vsync", o.vsync, "do not wait for the display's vertical blank (the frame cap still applies)");
    cli.add_flag("--frame-stats", o.frame_stats, "print frame work times (median/p95/max, all and while evaluating) at exit");
    cli.add_option("--status-file", o.status_file, "write App's status JSON + frame stats here 4x a second and at exit");
    cli.add_option("--screenshot", o.screenshot, "save the window as PNG (see --screenshot-after / --screenshot-when-idle)");
    cli.add_option("--screenshot-after", o.screenshot_after, "take the screenshot after N frames");
    cli.add_flag("--screenshot-when-idle", o.screenshot_when_idle, "wait until evaluation (and training) is done before the screenshot");
    cli.add_flag("--quit-after-screenshot", o.quit_after_screenshot, "exit once the screenshot is saved");
    cli.add_option("--quit-after", o.quit_after, "exit after N frames");
    cli.add_option("--data", o.data,
                   "CIFAR-10 binary folder: evaluation on its test_batch.bin (else the bundled 1,000-image sample) and "
                   "training (default: $QUANTLAB_DATA, else the per-user cache); a CIFAR-100 folder (cifar-100-binary, "
                   "test.bin) is evaluated with a 100-class model (--open it)");
    cli.add_option("--engine", o.engine,
#if QUANTLAB_HAVE_TORCH
                   "training engine: core (core/train, CPU) or torch (LibTorch); default: torch in this build"
#else
                   "training engine: core (core/train, CPU) or torch (LibTorch: not in this build); default: core in this build"
#endif
                   )->capture_default_str();
    cli.add_option("--runs-dir", o.runs_dir, "torch engine: where training runs keep their checkpoints (default: ~/.local/share/quantlab/runs/TIME-PID)");
    cli.add_option("--keep-runs", o.keep_runs_days,
                   "torch engine: days to keep earlier launches' run checkpoints in the default runs folder (0: keep them all)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000));
    cli.add_option("--device", o.device, "training device: auto, cpu or cuda (cuda: torch engine only)")->capture_default_str();
    cli.add_option("--train", o.train, "start a training run at launch: epochs=2,batch=64,lr=0.01,optimizer=adam,schedule=cosine,"
                                       "augment=1,cutout=16,jitter=0.4,dataset=cifar10|cifar100,qat=1,wb=4,ab=4,rule=mse,asym=1,pc=1,ste=clipped,quantizer=lsq|pact|fixed,init=FILE|scratch,label=TEXT (repeatable; queued in order). "
                                       "Core engine: CIFAR-10 only, and runs fine-tune the loaded model (--open FILE) unless init=scratch");
    cli.add_option("--train-limit", o.train_limit, "tests: train on the first N images (torch: also evaluate N test images; core: the app's test set)")->group("");
    CLI11_PARSE(cli, argc, argv);

    const unsigned hw = std::thread::hardware_concurrency();
    // Leave a core to the frame loop: evaluation and training never compete with drawing on a 2-core machine.
    const int work_threads = o.threads > 0 ? o.threads : std::max(1, int(hw) - 1);
    quantlab::set_num_threads(work_threads);
    const quantlab::Result<quantlab::trainer::Engine> engine = quantlab::trainer::parse_engine(o.engine);
    if (!engine.ok()) {
        std::fprintf(stderr, "quantlab-gui: %s\n", engine.message().c_str());
        return 2;
    }
#if !QUANTLAB_HAVE_TORCH
    if (engine.value == quantlab::trainer::Engine::kTorch) {
        std::fprintf(stderr, "quantlab-gui: --engine torch: this quantlab-gui was built without LibTorch; use --engine core (the default "
                             "here), or build with LibTorch (scripts/setup.sh installs it)\n");
        return 2;
    }
#endif
    const bool core_engine = engine.value == quantlab::trainer::Engine::kCore;
    const quantlab::Result<quantlab::trainer::Device> train_device = quantlab::trainer::parse_device(o.device);
    if (!train_device.ok()) {
        std::fprintf(stderr, "quantlab-gui: %s\n", train_device.message().c_str());
        return 2;
    }
    if (core_engine && train_device.value == quantlab::trainer::Device::kCuda) {
        std::fprintf(stderr, "quantlab-gui: --device cuda needs --engine torch (core's engine trains on the CPU)\n");
        return 2;
    }
    std::vector<quantlab::ui::TrainRunConfig> start_runs;
    for (const std::string& spec : o.train) {
        quantlab::Result<quantlab::ui::TrainRunConfig> c = quantlab::ui::parse_run_spec(spec);
        if (!c.ok()) {
            std::fprintf(stderr, "quantlab-gui: %s\n", c.message().c_str());
            return 2;
        }
        // Core's trainer fine-tunes the model the app has loaded (as the panel's Start does); it opens no file itself.
        if (core_engine && !c.value.init_weights.empty() && c.value.init_weights != quantlab::ui::kDefaultRunInit) {
            std::fprintf(stderr, "quantlab-gui: --train '%s': init=%s: --engine core fine-tunes the model the app has loaded; open it with "
                                 "--open %s and leave init out (or init=scratch)\n", spec.c_str(), c.value.init_weights.c_str(),
                         c.value.init_weights.c_str());
            return 2;
        }
        start_runs.push_back(c.value);
    }
    std::signal(SIGINT, [](int) { g_quit = true; });
    std::signal(SIGTERM, [](int) { g_quit = true; });

    glfwSetErrorCallback([](int code, const char* msg) { std::fprintf(stderr, "quantlab-gui: GLFW error %d: %s\n", code, msg); });
    if (!glfwInit()) {
        std::fprintf(stderr, "quantlab-gui: cannot initialise GLFW (no display? set DISPLAY, or run under Xvfb)\n");
        return 1;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    GLFWwindow* window = glfwCreateWindow(o.width, o.height, "QuantLab", nullptr, nullptr);
    if (!window) {
        std::fprintf(stderr, "quantlab-gui: cannot create an OpenGL 3.3 window\n");
        glfwTerminate();
        return 1;
    }
    glfwMakeContextCurrent(window);
    glfwSwapInterval(o.vsync ? 1 : 0);  // vsync where there is one; the cap below handles displays without

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini: the state string is the app's memory
    float xs = 1, ys = 1;
    glfwGetWindowContentScale(window, &xs, &ys);
    int ret = 0;
    {
        // The frame that shows a new setting sleeps briefly for its first estimate (ui/frame_policy.hpp); every
        // frame is drawn.
        const quantlab::ui::FramePolicy frame_policy(quantlab::ui::desktop_frame_timing());
        quantlab::ui::AppOptions ao;
        ao.assets_dir = o.assets;
        ao.desktop = true;
        ao.initial_state = o.state;
        // Evaluate on the full test set where one is found, as `quantlab eval` does (core's one choice).
        const quantlab::TestSetChoice test_set = quantlab::choose_test_set(o.data);
        if (test_set.use_dir) ao.test_set_dir = test_set.dir;
        ao.test_set_source = test_set.source;
        ao.frame_policy = &frame_policy;
        quantlab::ui::App app(ao);
        app.init_imgui(xs);  // a missing font is reported in the banner; the app runs with ImGui's font
        ImGui_ImplGlfw_InitForOpenGL(window, true);
        quantlab::ui::queue_glfw_input(window);  // no key press lost between two frames (ui/input_queue.hpp)
        ImGui_ImplOpenGL3_Init("#version 330 core");
        // The trainer: core's engine (CIFAR-10 images from the data folder, read when the first run asks) or LibTorch's.
        // Declared after App, so they would go before it; App's pointer is cleared before that anyway (below).
        std::unique_ptr<quantlab::ui::CoreTrainer> core_trainer;
        std::unique_ptr<quantlab::ui::TrainDataFeeder> feeder;
#if QUANTLAB_HAVE_TORCH
        std::unique_ptr<quantlab::gui::GuiTrainer> torch_trainer;
#endif
        quantlab::ui::TrainerHooks* trainer = nullptr;
        if (core_engine) {
            quantlab::ui::CoreTrainerOptions co;
            co.threaded = true;
            co.device = "cpu, core engine";
            co.threads = work_threads;
            co.seed = quantlab::trainer::TrainOptions().seed;  // as `quantlab train --engine core`
            // co.save_file stays empty: Export writes the file the user named.
            co.on_worker_start = quantlab::trainer::lower_this_thread_priority;  // as LibTorch's worker
            core_trainer = std::make_unique<quantlab::ui::CoreTrainer>(co);
            // Tests: the first N training images (as `quantlab train --limit-train`); the test accuracy is measured on
            // the app's test set, as every core run's is.
            if (o.train_limit > 0) core_trainer->set_test_options(o.train_limit, -1, co.val_every, co.seed);
            feeder = std::make_unique<quantlab::ui::TrainDataFeeder>(core_trainer.get(), test_set.dir, test_set.source);
            trainer = core_trainer.get();
        }
#if QUANTLAB_HAVE_TORCH
        else {
            quantlab::gui::GuiTrainerOptions to;
            to.data_dir = test_set.dir;
            to.data_source = test_set.explicit_dir ? test_set.source : test_set.source + "; neither --data nor $QUANTLAB_DATA was given";
            // CIFAR-100 runs: --data when it names a CIFAR-100 folder, else the per-user cache (`quantlab data fetch
            // --dataset cifar100`); the panel says when neither holds it.
            to.cifar100_dir = !o.data.empty() && quantlab::verify_dataset_dir(o.data, quantlab::Dataset::kCifar100).ok()
                                  ? o.data
                                  : quantlab::find_dataset_dir("", quantlab::Dataset::kCifar100);
            to.runs_dir = o.runs_dir.empty() ? quantlab::gui::default_runs_dir() : o.runs_dir;
            if (o.runs_dir.empty()) {  // only the default folder, where every launch adds a session of its own
                const std::string root = std::filesystem::path(to.runs_dir).parent_path().string();
                const std::vector<std::string> gone = quantlab::gui::prune_runs(root, o.keep_runs_days);
                if (!gone.empty())
                    std::fprintf(stderr, "quantlab-gui: removed %zu training-run folder%s idle for over %d days from %s (--keep-runs DAYS)\n",
                                 gone.size(), gone.size() > 1 ? "s" : "", o.keep_runs_days, root.c_str());
            }
            to.assets_dir = o.assets;
            to.threads = work_threads;
            to.device = train_device.value;
            if (o.train_limit > 0) {
                to.limit_train = o.train_limit;
                to.limit_test = o.train_limit;
                to.calib_images = std::min<int64_t>(to.calib_images, o.train_limit);
            }
            torch_trainer = std::make_unique<quantlab::gui::GuiTrainer>(to);
            trainer = torch_trainer.get();
        }
#endif
        app.set_trainer(trainer);
        DropTarget drop_target{&app, core_trainer.get()};
        glfwSetWindowUserPointer(window, &drop_target);
        glfwSetDropCallback(window, drop_callback);
        for (const std::string& p : o.open) open_path(app, p);
        auto training_now = [&] { return trainer && trainer->busy(); };
        const char* engine_name = quantlab::trainer::engine_name(engine.value);
        auto training_json = [&] {
            if (core_trainer) return core_trainer->status_json();
#if QUANTLAB_HAVE_TORCH
            if (torch_trainer) return torch_trainer->status_json();
#endif
            return std::string();
        };

        quantlab::gui::FrameStats stats;
        long frame = 0;
        bool shot_done = false;
        bool input_left = false;  // key events still queued for the next frames
        double last_status = 0;
        const double frame_ms = o.fps > 0 ? 1000.0 / o.fps : 0;
        while (!glfwWindowShouldClose(window) && !g_quit) {
            const double t0 = now_ms();
            const bool busy = app.busy();
            const bool training = training_now();
            // Idle and nothing to animate: sleep until an event instead of drawing 60 identical frames. While a
            // run trains (on another thread) the curves move, but 20 redraws a second show that well and leave
            // the CPU to the trainer; input still wakes the loop at once (and queued input does not let it sleep).
            if (!busy && !input_left && frame > 10 && (training || (o.screenshot.empty() && o.quit_after < 0)))
                glfwWaitEventsTimeout(training ? 0.05 : 0.25);
            else glfwPollEvents();
            input_left = quantlab::ui::feed_queued_input();
            const double t_work = now_ms();
            app.prepare_frame();
            ImGui_ImplOpenGL3_NewFrame();
            ImGui_ImplGlfw_NewFrame();
            ImGui::NewFrame();
            app.frame(8.0f);
            // --train runs start after the first frame: App hands the trainer its loaded model there (set_loaded), which
            // core's runs fine-tune.
            if (frame == 0)
                for (const quantlab::ui::TrainRunConfig& c : start_runs)
                    if (quantlab::Result<int> r = trainer->start(c); !r.ok())
                        std::fprintf(stderr, "quantlab-gui: --train: %s\n", r.message().c_str());
            if (feeder) feeder->poll();
            const double t_ui = now_ms();
            ImGui::Render();
            int fw = 0, fh = 0;
            glfwGetFramebufferSize(window, &fw, &fh);
            glViewport(0, 0, fw, fh);
            glClearColor(0.96f, 0.96f, 0.97f, 1.0f);
            glClear(GL_COLOR_BUFFER_BIT);
            ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
            ++frame;
            const bool want_shot = !o.screenshot.empty() && !shot_done && frame >= std::max(o.screenshot_after, 2) &&
                                   (!o.screenshot_when_idle || (!app.busy() && !training_now() && frame > 20));
            if (want_shot) {
                if (save_screenshot(o.screenshot, fw, fh)) std::fprintf(stderr, "quantlab-gui: saved %s\n", o.screenshot.c_str());
                else std::fprintf(stderr, "quantlab-gui: cannot write %s\n", o.screenshot.c_str());
                shot_done = true;
                if (o.quit_after_screenshot) g_quit = true;
            }
            const double t_draw = now_ms();
            glfwSwapBuffers(window);
            const double t1 = now_ms();
            if (std::getenv("QUANTLAB_GUI_PROFILE"))
                std::fprintf(stderr, "frame %ld: ui %.1f ms, render %.1f ms, swap %.1f ms\n", frame, t_ui - t_work, t_draw - t_ui, t1 - t_draw);
            if (frame > 3) stats.add(t1 - t_work, t_draw - t_work, busy, training);  // the first frames build fonts and textures
            if (!o.status_file.empty() && (t1 - last_status > 250 || g_quit)) {
                write_atomically(o.status_file, status_text(app, stats, frame, training_json(), engine_name));
                last_status = t1;
            }
            if (o.quit_after >= 0 && frame >= o.quit_after) g_quit = true;
            const double left = frame_ms - (now_ms() - t0);
            if (left > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(left));
        }
#if QUANTLAB_HAVE_TORCH
        // A running run stops after its step and keeps a checkpoint; the worker is joined before App goes.
        if (torch_trainer) torch_trainer->shutdown();
#endif
        feeder.reset();  // waits for a read in progress, which hands its images to the trainer
        if (!o.status_file.empty()) write_atomically(o.status_file, status_text(app, stats, frame, training_json(), engine_name));
        app.set_trainer(nullptr);
        core_trainer.reset();  // stops its worker after the current step
        if (o.frame_stats) std::fprintf(stderr, "%s", stats.text().c_str());
        ImGui_ImplOpenGL3_Shutdown();
        ImGui_ImplGlfw_Shutdown();
        // App (and its GL gallery texture) goes before the context.
    }
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
    return ret;
}
