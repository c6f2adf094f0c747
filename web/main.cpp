// web/main.cpp: the page's entry point. Opens a WebGL2 (OpenGL ES 3.0) canvas through Emscripten's GLFW,
// runs the shared ui::App over ImGui's GLFW + OpenGL3 backends, and exports the few C functions the page's
// glue.js calls (open a file, URL state, status for tests, a benchmark, training). It holds no UI of its own and
// no quantization logic: panels live in ui/, numbers in core/, training in core/train (through ui/core_trainer, or
// without threads ui/remote_trainer and its Web Worker, web/train_worker.cpp).
// Web only (the desktop entry is native/gui).
//
// [SECTION] main loop macros   [SECTION] canvas and HiDPI   [SECTION] exported functions   [SECTION] main
#include <emscripten.h>
#include <emscripten/html5.h>
#define GLFW_INCLUDE_ES3
#include <GLFW/glfw3.h>

#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/quantizer.hpp"
#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/parallel.hpp"
#include "core/model_file.hpp"
#include "ui/app.hpp"
#include "ui/core_trainer.hpp"
#include "ui/remote_trainer.hpp"
#include "ui/frame_look.hpp"
#include "ui/frame_policy.hpp"
#include "ui/glfw_input.hpp"
#include "ui/layout_probe.hpp"

namespace {

using quantlab::Status;
using quantlab::ui::App;

// Milliseconds of background work (evaluation) App may do per frame in a build without threads (with them,
// evaluation runs on a Web Worker): 12 ms beside the UI's own 2-4 ms keeps a frame's work under the 33 ms
// the page promises.
constexpr float kEvalBudgetMs = 12.0f;
constexpr const char* kAssetsDir = "/assets";  // --preload-file target (web/CMakeLists.txt)

// ---- [SECTION] main loop macros ----------------------------------------------------------------
// As imgui's examples/libs/emscripten/emscripten_mainloop_stub.h: the loop body is written once inside
// main(), whose locals stay alive because emscripten_set_main_loop(..., simulate_infinite_loop = true)
// never returns to main's caller.
std::function<void()> g_main_loop_body;
void main_loop_trampoline() { g_main_loop_body(); }
#define QUANTLAB_MAINLOOP_BEGIN g_main_loop_body = [&]()
#define QUANTLAB_MAINLOOP_END ; emscripten_set_main_loop(main_loop_trampoline, 0, true)

// ---- state shared with the exported functions -------------------------------------------------
App* g_app = nullptr;
// The training panel's trainer, core's engine: on a worker thread with threads, else in a Web Worker of its own
// (ui/remote_trainer.hpp; web/train_worker.cpp). Both offer what the exported functions below call.
#if defined(__EMSCRIPTEN_PTHREADS__)
using PageTrainer = quantlab::ui::CoreTrainer;
#else
using PageTrainer = quantlab::ui::RemoteTrainer;
#endif
PageTrainer* g_trainer = nullptr;
bool g_train_data_requested = false;             // glue.js was asked for the training images
// When a frame is drawn or held back (ui/frame_policy.hpp: the page's configuration, set up in main()).
quantlab::ui::FramePolicy g_frames{quantlab::ui::page_frame_timing(0)};
std::string g_text;                 // backing store of the last const char* handed to JS
std::string g_text_error;           // the last training call's error (ql_train_error)
std::string g_published_state;      // the state string last written to the URL
quantlab::Cifar10 g_bench_data;     // the largest CIFAR-10 batch opened so far (for ql_benchmark)
struct FrameStats {
    int64_t frames = 0;
    int64_t drawn = 0;  // frames the policy had drawn (ui/frame_policy.hpp)
    int64_t drawn_without_estimate = 0;  // of those, frames showing a setting whose first estimate was missing
    double last_ms = 0, max_ms = 0, sum_ms = 0;
    int64_t counted = 0;
} g_frame_stats;

std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        out += c;
    }
    return out;
}

const char* hand_to_js(std::string s) {
    g_text = std::move(s);
    return g_text.c_str();
}

void show_fatal(const std::string& message) {
    std::fprintf(stderr, "quantlab: %s\n", message.c_str());
    EM_ASM({ if (Module.quantlabFatal) Module.quantlabFatal(UTF8ToString($0)); }, message.c_str());
}

// ---- [SECTION] canvas and HiDPI ----------------------------------------------------------------
// The canvas fills the window through CSS; its backing store is CSS size x devicePixelRatio, and that
// pixel size is GLFW's window size, ImGui's DisplaySize and the framebuffer (Emscripten's GLFW reports
// the mouse in backing-store pixels too). So ImGui works in device pixels and App scales fonts and
// style by the ratio (init_imgui(dpr)): crisp text on HiDPI screens, no blurry upscaling.
struct CanvasSize {
    int width = 0, height = 0;
    double dpr = 1.0;
};

CanvasSize canvas_size() {
    CanvasSize s;
    double css_w = 0, css_h = 0;
    emscripten_get_element_css_size("#canvas", &css_w, &css_h);
    s.dpr = emscripten_get_device_pixel_ratio();
    if (!(s.dpr > 0)) s.dpr = 1.0;
    s.width = std::max(1, int(std::lround(css_w * s.dpr)));
    s.height = std::max(1, int(std::lround(css_h * s.dpr)));
    return s;
}

void sync_canvas_size(GLFWwindow* window) {
    const CanvasSize s = canvas_size();
    int w = 0, h = 0;
    glfwGetWindowSize(window, &w, &h);
    // Not glfwSetWindowSize: Emscripten's version asks for fullscreen when the size equals the screen's
    // (a maximised window at ratio 1), which the browser refuses outside a click. Browser.setCanvasSize
    // resizes the canvas and tells GLFW through its resize listener, as a user resize would.
    if (w != s.width || h != s.height) EM_ASM({ Module.setCanvasSize($0, $1); }, s.width, s.height);
    // A ratio change later (browser zoom, another screen) resizes the canvas; the fonts keep the scale
    // init_imgui() built them at (App owns FontGlobalScale) until the page is reloaded.
}

// Any pointer or key input in this frame (ImGui 1.86's IO, after NewFrame).
bool had_input(const ImGuiIO& io) {
    if (io.MouseDelta.x != 0 || io.MouseDelta.y != 0 || io.MouseWheel != 0 || io.MouseWheelH != 0) return true;
    if (io.InputQueueCharacters.Size > 0) return true;
    for (bool down : io.MouseDown)
        if (down) return true;
    for (bool down : io.KeysDown)
        if (down) return true;
    return false;
}

void publish_state_if_changed() {
    std::string state = g_app->state_string();
    if (state == g_published_state) return;
    g_published_state = state;
    EM_ASM({ if (Module.quantlabStateChanged) Module.quantlabStateChanged(UTF8ToString($0)); }, state.c_str());
}

}  // namespace

// ---- [SECTION] exported functions (glue.js and the browser tests call these) ------------------
extern "C" {

// Opens a dropped, picked or fetched file (weights or a CIFAR-10 batch; App tells them apart by content).
// Returns 0 on success, else 1 with the message in ql_last_error(). The bytes are copied.
EMSCRIPTEN_KEEPALIVE int ql_open_file(const char* name, const uint8_t* data, int size) {
    if (!g_app) return 1;
    g_frames.note_input(emscripten_get_now());
    std::vector<uint8_t> bytes(data, data + (size > 0 ? size : 0));
    const Status s = g_app->open_file(name, bytes);
    if (s.ok()) {
        quantlab::Result<quantlab::Cifar10> c = quantlab::read_cifar10_bytes(bytes.data(), bytes.size(), name);
        if (c.ok() && c.value.count >= g_bench_data.count) g_bench_data = std::move(c.value);
    }
    return s.ok() ? 0 : 1;
}

EMSCRIPTEN_KEEPALIVE const char* ql_last_error() { return hand_to_js(g_app ? g_app->last_error() : "not started"); }
EMSCRIPTEN_KEEPALIVE const char* ql_status_json() { return hand_to_js(g_app ? g_app->status_json() : "{}"); }
// Where the last frame put each plot's data area and legend, and how tall its headline was (ui/layout_probe.hpp).
EMSCRIPTEN_KEEPALIVE const char* ql_layout_json() { return hand_to_js(quantlab::ui::layout_probe().to_json()); }
EMSCRIPTEN_KEEPALIVE const char* ql_state_string() { return hand_to_js(g_app ? g_app->state_string() : ""); }

// Applies a state string (from a hashchange or a test); 0 on success, else 1 (see ql_last_error).
EMSCRIPTEN_KEEPALIVE int ql_apply_state(const char* state) {
    if (!g_app) return 1;
    g_frames.note_input(emscripten_get_now());
    const Status s = g_app->apply_state_string(state);
    publish_state_if_changed();
    return s.ok() ? 0 : 1;
}

// Loads a bundled model by name (window.quantlab.chooseModel; the picker's action): 0 on success, else 1 with
// the message in ql_last_error() (also in the page's banner); the current model stays then.
EMSCRIPTEN_KEEPALIVE int ql_choose_model(const char* name) {
    if (!g_app) return 1;
    g_frames.note_input(emscripten_get_now());
    const Status s = g_app->choose_model(name);
    publish_state_if_changed();
    return s.ok() ? 0 : 1;
}

// {"frames":N,"drawn":N,"drawn_without_estimate":N,"last_ms":..,"max_ms":..,"mean_ms":..}: main-loop runs,
// of those the frames drawn (see FramePolicy), and of those the ones that showed a setting before its
// first estimate (the hold ran out), all since the page started; and since the last reset, how long
// main-loop bodies took (input, App::frame with its evaluation slice, ImGui render and the GL calls), not the
// display interval.
EMSCRIPTEN_KEEPALIVE const char* ql_frame_stats(int reset) {
    const FrameStats& f = g_frame_stats;
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "{\"frames\":%lld,\"drawn\":%lld,\"drawn_without_estimate\":%lld,\"last_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f}",
                  (long long)f.frames, (long long)f.drawn, (long long)f.drawn_without_estimate, f.last_ms, f.max_ms,
                  f.counted ? f.sum_ms / double(f.counted) : 0.0);
    if (reset) {
        g_frame_stats.max_ms = g_frame_stats.sum_ms = 0;
        g_frame_stats.counted = 0;
    }
    return hand_to_js(buf);
}

// For tests: how long App::frame waits for a new setting's first batch (the page's timing says 0: see
// ui/frame_policy.hpp), and how long the page holds back frames without it. Long values make "the first
// frame with a new setting shows its estimate" independent of the machine's speed.
EMSCRIPTEN_KEEPALIVE void ql_set_first_estimate_wait_ms(double ms) { g_frames.timing().first_estimate_wait_ms = std::max(0.0, ms); }
EMSCRIPTEN_KEEPALIVE void ql_set_first_estimate_hold_ms(double ms) { g_frames.timing().first_estimate_hold_ms = std::max(0.0, ms); }

// ---- training (the training panel's trainer; window.quantlab.train* in glue.js) ----
// The training images (CIFAR-10 binary records: glue.js fetches cifar10_train_2000.bin when a run asks, or a
// test hands its own): 0 on success, else 1 with the message in ql_last_error() (the waiting runs fail with it).
EMSCRIPTEN_KEEPALIVE int ql_set_train_data(const char* name, const uint8_t* data, int size) {
    if (!g_trainer) return 1;
    const Status s = g_trainer->set_train_data(name, data, size_t(size > 0 ? size : 0));  // no copy: 150 MB for all five batches
    g_text_error = s ? std::string() : s.message;
    return s.ok() ? 0 : 1;
}
// The download of the training images failed: the waiting runs fail with this message.
EMSCRIPTEN_KEEPALIVE void ql_train_data_failed(const char* message) {
    if (g_trainer) g_trainer->train_data_failed(message);
    g_train_data_requested = false;
}
EMSCRIPTEN_KEEPALIVE const char* ql_train_status() { return hand_to_js(g_trainer ? g_trainer->status_json() : "{}"); }
// Tests: the first N training images, a step limit, validation every N iterations, the seed (for runs started
// from now on; -1 / 0: none, as the panel).
EMSCRIPTEN_KEEPALIVE void ql_train_test_options(double limit_train, double max_steps, double val_every, double seed) {
    if (g_trainer) g_trainer->set_test_options(int64_t(limit_train), int64_t(max_steps), int64_t(val_every), uint64_t(seed));
}
// Starts a run as the panel's Start does, fine-tuning the loaded model: the run's id, or -1 with the message in
// ql_last_error(). optimizer 0 sgd, 1 adam; qat 0/1 at wb/ab bits; ste 0 identity, 1 clipped.
// quantizer: 0 fixed (range rule + ste), 1 lsq, 2 pact (QuantizerKind's order).
EMSCRIPTEN_KEEPALIVE int ql_train_start(int epochs, int batch, double lr, int optimizer, int augment, int qat, int wb, int ab, int ste,
                                        int quantizer, const char* rule, int asymmetric, int per_channel) {
    if (!g_trainer || !g_app) return -1;
    if (quantizer < 0 || quantizer > 2) {
        g_text_error = "train: the quantizer must be fixed, lsq or pact";
        return -1;
    }
    quantlab::ui::TrainRunConfig c;
    const quantlab::Result<quantlab::RangeRule> range_rule = quantlab::parse_range_rule(rule ? rule : "");
    if (!range_rule.ok()) {
        g_text_error = "train: " + range_rule.message();
        return -1;
    }
    c.quant.rule = range_rule.value;
    c.quant.symmetric = asymmetric == 0;
    c.quant.per_channel = per_channel != 0;
    c.epochs = epochs;
    c.batch = batch;
    c.lr = lr;
    c.optimizer = optimizer ? quantlab::Optimizer::kAdam : quantlab::Optimizer::kSgd;
    c.augment = augment != 0;
    c.qat = qat != 0;
    c.weight_bits = wb;
    c.act_bits = ab;
    c.ste = ste ? quantlab::SteRule::kClipped : quantlab::SteRule::kIdentity;
    c.quantizer = quantlab::QuantizerKind(quantizer);
    c.init_weights = "loaded";
    quantlab::Result<int> r = g_trainer->start(c);
    g_text_error = r.ok() ? std::string() : r.message();
    return r.ok() ? r.value : -1;
}
EMSCRIPTEN_KEEPALIVE int ql_train_stop(int id) { return g_trainer && g_trainer->stop(id).ok() ? 0 : 1; }
EMSCRIPTEN_KEEPALIVE int ql_train_resume(int id) { return g_trainer && g_trainer->resume(id).ok() ? 0 : 1; }
// The run's current weights as a .safetensors file, handed to Module.quantlabTrainedWeights (a Uint8Array): 0, or 1
// with the message in ql_last_error().
EMSCRIPTEN_KEEPALIVE int ql_train_weights(int id) {
    if (!g_trainer) return 1;
    quantlab::Result<std::vector<uint8_t>> w = g_trainer->weights_file(id);
    if (!w.ok()) {
        g_text_error = w.message();
        return 1;
    }
    EM_ASM({ Module.quantlabTrainedWeights = HEAPU8.slice($0, $0 + $1); }, w.value.data(), int(w.value.size()));
    return 0;
}
// The run's weights as the current model (the panel's "Use as model"): 0, or 1 (ql_last_error()).
EMSCRIPTEN_KEEPALIVE int ql_train_use(int id) {
    if (!g_trainer || !g_app) return 1;
    quantlab::Result<std::vector<uint8_t>> w = g_trainer->weights_file(id);
    const Status s = w.ok() ? g_app->open_file("run" + std::to_string(id) + ".safetensors", w.value) : w.status;
    g_text_error = s ? std::string() : s.message;
    publish_state_if_changed();
    return s.ok() ? 0 : 1;
}
#if !defined(__EMSCRIPTEN_PTHREADS__)
// The training worker's messages (glue.js, its onmessage): JSON and the payload glue.js copied into the heap.
EMSCRIPTEN_KEEPALIVE void ql_worker_message(const char* json, const uint8_t* bytes, int size) {
    if (g_trainer) g_trainer->receive(json, bytes, size_t(size > 0 ? size : 0));
}
// The training worker could not start or died: its runs fail with the message.
EMSCRIPTEN_KEEPALIVE void ql_worker_failed(const char* message) {
    if (g_trainer) g_trainer->worker_failed(message);
}
#endif
// The message of the last ql_train_* / ql_set_train_data call that failed.
EMSCRIPTEN_KEEPALIVE const char* ql_train_error() { return hand_to_js(g_text_error); }

// Benchmark (not used by the UI): evaluates the bundled notebook weights at `bits` (weights and
// activations, 32 = float; the notebook's symmetric max-abs quantizer, dynamic activation scales, batch
// 128) over the largest CIFAR-10 batch opened so far, `repeats` times, with backend 0 = reference,
// 1 = fast (fake-quant float), 2 = integer. Returns JSON {"images_per_s" (best pass), "mean_images_per_s",
// "images", "best_seconds", "accuracy", "predictions_fnv1a64"} or {"error":..}. Blocks the page while it runs.
EMSCRIPTEN_KEEPALIVE const char* ql_benchmark(int backend, int bits, int repeats) {
    using namespace quantlab;
    auto fail = [](const std::string& m) { return hand_to_js("{\"error\":\"" + json_escape(m) + "\"}"); };
    if (g_bench_data.count == 0) return fail("no CIFAR-10 data loaded");
    Result<ModelFile> file = open_model(std::string(kAssetsDir) + "/notebook_pretrain.safetensors");
    if (!file.ok()) return fail(file.message());
    Model& model = file.value.model;
    if (Status s = model.configure(make_config(model.desc(), bits, bits)); !s) return fail(s.message);
    const Backend b = backend == 0 ? Backend::kReference : backend == 1 ? Backend::kFast : Backend::kInteger;
    // Each pass timed alone: the best pass is the figure least disturbed by whatever else the machine runs.
    EvalResult last;
    double best = 0, total = 0;
    for (int r = 0; r < std::max(1, repeats); ++r) {
        const double t0 = emscripten_get_now();
        Result<EvalResult> e = evaluate(model, g_bench_data, 128, b);
        if (!e.ok()) return fail(e.message());
        const double seconds = (emscripten_get_now() - t0) / 1000.0;
        best = r == 0 ? seconds : std::min(best, seconds);
        total += seconds;
        last = std::move(e.value);
    }
    const double images = double(last.evaluated);
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "{\"images_per_s\":%.1f,\"mean_images_per_s\":%.1f,\"images\":%lld,\"best_seconds\":%.4f,\"accuracy\":%.4f,"
                  "\"predictions_fnv1a64\":\"%016llx\"}",
                  images / best, images * std::max(1, repeats) / total, (long long)last.evaluated, best, last.accuracy(),
                  (unsigned long long)last.predictions_hash());
    return hand_to_js(buf);
}

}  // extern "C"

// ---- [SECTION] main ------------------------------------------------------------------------------
// argv: glue.js passes ["--state", STATE] when the URL carries one (Module.arguments).
int main(int argc, char** argv) {
    std::string initial_state;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--state") initial_state = argv[i + 1];

    glfwSetErrorCallback([](int code, const char* what) { std::fprintf(stderr, "glfw error %d: %s\n", code, what); });
    if (!glfwInit()) {
        show_fatal("GLFW could not start in this browser.");
        return 1;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);  // ES 3.0 = WebGL2 (with -sMAX_WEBGL_VERSION=2)
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    const CanvasSize size = canvas_size();
    GLFWwindow* window = glfwCreateWindow(size.width, size.height, "QuantLab", nullptr, nullptr);
    if (!window) {
        show_fatal("This browser could not create a WebGL2 context. QuantLab needs WebGL2 "
                   "(a current Chrome, Firefox, Edge or Safari, with hardware acceleration or its software fallback).");
        return 1;
    }
    glfwMakeContextCurrent(window);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // the page's state lives in the URL, not in imgui.ini

    quantlab::ui::AppOptions options;
    options.assets_dir = kAssetsDir;
    options.desktop = false;
    options.initial_state = initial_state;
#if defined(__EMSCRIPTEN_PTHREADS__)
    // The evaluation worker splits each batch with up to 3 more threads, leaving one core to the main thread
    // and the browser's compositor: with every core computing, frames on a 2-core laptop came 75-85 ms apart
    // and the first estimate after a change waited for them. The first batch after a change is the exception:
    // the page holds its frames back for it (ui/frame_policy.hpp), so it gets every core, up to 4.
    // PTHREAD_POOL_SIZE in web/CMakeLists.txt pre-starts the Workers (the evaluation worker, up to 3 helpers
    // and a spare).
    const int cores = int(std::thread::hardware_concurrency());
    quantlab::set_num_threads(std::clamp(cores - 1, 1, 4));
    g_frames = quantlab::ui::FramePolicy(quantlab::ui::page_frame_timing(std::clamp(cores, 1, 4)));
#endif
    options.frame_policy = &g_frames;
    static App app(options);  // static: alive for the page's lifetime, also after main() "returns"
    g_app = &app;
    // Training on the page: core's engine beside the frames, on a worker thread (threads build) or in a Web
    // Worker with its own wasm instance (glue.js's Module.quantlabTrainWorkerSend starts it with the first run).
    // Export = a download (glue.js makes a Blob of the bytes).
    const auto download = [](const std::string& name, const std::vector<uint8_t>& bytes) {
        EM_ASM({ if (Module.quantlabDownload) Module.quantlabDownload(UTF8ToString($0), HEAPU8.slice($1, $1 + $2)); }, name.c_str(),
               bytes.data(), int(bytes.size()));
        return Status::success();
    };
#if defined(__EMSCRIPTEN_PTHREADS__)
    quantlab::ui::CoreTrainerOptions topt;
    topt.threaded = true;
    topt.device = "browser, core engine, worker thread";
#else
    quantlab::ui::RemoteTrainerOptions topt;
    topt.device = "browser, core engine, Web Worker";
    topt.send = [](const std::string& json, const uint8_t* bytes, size_t size) {
        EM_ASM({ Module.quantlabTrainWorkerSend(UTF8ToString($0), HEAPU8.slice($1, $1 + $2)); }, json.c_str(), bytes, int(size));
    };
#endif
    topt.save_file = download;
    static PageTrainer trainer(topt);
    g_trainer = &trainer;
    app.set_trainer(&trainer);
    if (Status s = app.init_imgui(float(size.dpr)); !s) std::fprintf(stderr, "quantlab: %s\n", s.message.c_str());
    if (const std::string& e = app.last_error(); !e.empty()) std::fprintf(stderr, "quantlab: %s\n", e.c_str());
    {
        // The bundled sample is what App starts on; keep a copy for the benchmark until a larger set arrives.
        quantlab::Result<quantlab::Cifar10> c = quantlab::read_cifar10_batch(std::string(kAssetsDir) + "/cifar10_test_1000.bin");
        if (c.ok()) g_bench_data = std::move(c.value);
    }
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    quantlab::ui::queue_glfw_input(window);  // no key press lost between two frames (ui/input_queue.hpp)
    ImGui_ImplOpenGL3_Init("#version 300 es");
    g_published_state.clear();  // the first frame writes the canonical form of the state into the URL
    bool first_frame = true;
    uint64_t last_drawn = 0;  // frame_look of the frame on the canvas

    QUANTLAB_MAINLOOP_BEGIN {
        const double t0 = emscripten_get_now();
        glfwPollEvents();
        quantlab::ui::feed_queued_input();
        sync_canvas_size(window);
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        // Frozen or coarse clocks (headless virtual time, privacy-rounded timers) can give a zero step.
        ImGuiIO& io = ImGui::GetIO();
        if (!(io.DeltaTime > 0.0f)) io.DeltaTime = 1.0f / 1000.0f;
        ImGui::NewFrame();
        const bool input = had_input(io);
        app.frame(kEvalBudgetMs);
        if (g_trainer->wants_train_data() && !g_train_data_requested) {  // a run waits for the training images
            g_train_data_requested = true;
            EM_ASM({ if (Module.quantlabNeedTrainData) Module.quantlabNeedTrainData(); });
        }
        ImGui::Render();
        int fb_w = 0, fb_h = 0;
        glfwGetFramebufferSize(window, &fb_w, &fb_h);
        const uint64_t look = quantlab::ui::frame_look(ImGui::GetDrawData(), fb_w, fb_h);
        const bool pending = app.first_estimate_pending();
        if (g_frames.decide({t0, input, look != last_drawn, app.busy(), pending}) == quantlab::ui::FrameAction::kDraw) {
            glViewport(0, 0, fb_w, fb_h);
            glClearColor(0.10f, 0.10f, 0.12f, 1.0f);
            glClear(GL_COLOR_BUFFER_BIT);
            ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
            last_drawn = look;
            ++g_frame_stats.drawn;
            if (pending) ++g_frame_stats.drawn_without_estimate;
        }
        publish_state_if_changed();

        const double ms = emscripten_get_now() - t0;
        FrameStats& f = g_frame_stats;
        ++f.frames;
        f.last_ms = ms;
        if (f.frames > 2) {  // the first frames build font textures and shaders
            f.max_ms = std::max(f.max_ms, ms);
            f.sum_ms += ms;
            ++f.counted;
        }
        if (first_frame) {
            first_frame = false;
            EM_ASM({ if (Module.quantlabFirstFrame) Module.quantlabFirstFrame(); });
        }
    }
    QUANTLAB_MAINLOOP_END;
    return 0;
}
