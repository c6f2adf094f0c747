// app.hpp: the QuantLab user interface as one object, shared by the desktop app (native/gui) and the web
// page (web/). Front ends own the window, the GL context and the ImGui backends; each frame they call
// App::frame() between ImGui::NewFrame() and ImGui::Render(). App never blocks a frame for long: evaluation
// advances by a time-budgeted slice per frame. No LibTorch, no GLFW, no Emscripten in here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace quantlab::ui {

// Live training: the desktop app implements this over the LibTorch trainer, the web page over core's engine
// (ui/core_trainer.hpp), and hands it to App; without one the training panel says why there is none.
class TrainerHooks;
class FramePolicy;

struct AppOptions {
    std::string assets_dir;          // folder holding the bundled weights, test sample and fonts
    bool desktop = false;            // shows desktop-only panels (training)
    std::string initial_state;       // a state string (see state_string), e.g. from the page URL
    // Desktop: the folder whose test_batch.bin to evaluate on (core's choose_test_set: --data, $QUANTLAB_DATA, the
    // cache); "" evaluates on the bundled 1,000-image sample. A folder that does not read gives a banner and the
    // sample. test_set_source says how the folder was chosen (for that message).
    std::string test_set_dir;
    std::string test_set_source;
    // The front end's frame timing (ui/frame_policy.hpp), which outlives App: how long the frame that shows a
    // new setting waits for its first batch, and that batch's threads. None: no wait, no extra threads.
    const FramePolicy* frame_policy = nullptr;
};

class App {
public:
    explicit App(AppOptions options);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // Loads fonts (Latin + Japanese subset) and styles; call once after ImGui::CreateContext() and before
    // the first frame. Returns an error (shown in the UI, too) when a font is missing; the UI still works.
    Status init_imgui(float dpi_scale);

    // Call before the backends' NewFrame() (outside NewFrame()..Render()): rebuilds the font atlas and the
    // OpenGL3 backend's font texture when the font scale changed, so text stays crisp at every presenter
    // scale. Optional: without it a changed scale magnifies the already baked font instead.
    void prepare_frame();

    // Draws every window and advances background work for at most budget_ms milliseconds.
    void frame(float budget_ms);

    // A file from drag-and-drop, the file dialog/picker or a preload, told apart by its content:
    // .safetensors/.pth weights or a CIFAR-10 .bin batch. A bad file gives a message (also shown in the
    // UI's error banner) and leaves the current state untouched.
    Status open_file(const std::string& name, const std::vector<uint8_t>& bytes);

    // The whole view as a short query string (weights, per-layer bits, rule, panel, language, presenter
    // mode), and back. apply_state_string ignores unknown keys and reports bad values.
    std::string state_string() const;
    Status apply_state_string(const std::string& state);

    // Loads a bundled model (assets/*.safetensors) by name, "qat_w4a4" or "qat_w4a4.safetensors", starting
    // from its stored settings (the model picker; the page's window.quantlab.chooseModel). An unknown name or a
    // model that does not fit the network gives a message (also in the banner) and keeps the current model.
    Status choose_model(const std::string& name);

    // One line of JSON for tests and the page: {"weights":..., "accuracy":..., "evaluated":..., "total":...,
    // "done":..., "predictions_fnv1a64":..., "first_frame_evaluated":..., "error":..., "panel":..., "bits":...,
    // "models": [the bundled models], "overlay": [the accuracy-vs-bits overlay's points; computed while the Evaluation
    // panel is shown], "sensitivity": [per layer "only" / "all_but" results of "Which layer breaks?"; while shown],
    // "pareto": {the accuracy-vs-size front; only while shown}} (ui/sensitivity_view.hpp).
    std::string status_json() const;

    // The last error message shown in the banner ("" when none).
    const std::string& last_error() const;

    void set_trainer(TrainerHooks* hooks);

    // True while evaluation work is pending (a front end may keep drawing frames then, and idle otherwise).
    bool busy() const;

    // True when the last frame was built before its setting had an estimate (threaded builds): its first
    // batch was still computing. The page holds such frames back for a moment (FramePolicy::decide).
    bool first_estimate_pending() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quantlab::ui
