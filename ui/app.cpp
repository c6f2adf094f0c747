// app.cpp: App (ui/app.hpp): loading files, the evaluation jobs the state asks for, keyboard shortcuts, the
// top bar and error banner, and dispatch to the four panels (panel_*.cpp).
// [SECTION] loading files
// [SECTION] jobs and keyboard
// [SECTION] top bar, banner, frame
// [SECTION] public API
#include "ui/app.hpp"

#include <imgui.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/file_io.hpp"
#include "core/model_file.hpp"
#include "core/network.hpp"
#include "ui/app_context.hpp"
#include "ui/file_browser.hpp"
#include "ui/frame_policy.hpp"
#include "ui/i18n.hpp"
#include "ui/layout_probe.hpp"
#include "ui/lessons.hpp"
#include "ui/panel_lesson.hpp"
#include "ui/model_catalog.hpp"
#include "ui/model_widgets.hpp"
#include "ui/plot.hpp"
#include "ui/sensitivity_view.hpp"
#include "ui/theme.hpp"
#include "ui/trainer_hooks.hpp"

namespace quantlab::ui {

namespace {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
constexpr bool kThreaded = false;  // no worker threads: evaluation runs inside frame() with a time budget
#else
constexpr bool kThreaded = true;
#endif

constexpr const char* kDefaultWeights = "notebook_pretrain.safetensors";
constexpr const char* kDefaultData = "cifar10_test_1000.bin";

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of("/\\");
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "10,000": a count with thousands separators.
std::string grouped(int64_t n) {  // n >= 0
    std::string d = std::to_string(n), out;
    for (size_t i = 0; i < d.size(); ++i) {
        if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
        out += d[i];
    }
    return out;
}

// What the status line calls the data: the full test set, the bundled sample, or a file's name.
std::string data_label(const Document& doc) {
    if (!doc.data) return "-";
    const std::string n = grouped(doc.data->count);
    if (doc.data_name == kDefaultData) return std::string(tr("bundled sample")) + " (" + n + ")";
    if (doc.data_name == "test_batch.bin" && doc.data->count == kCifar10BatchImages) return std::string(tr("full test set")) + " (" + n + ")";
    return doc.data_name + " (" + n + " " + tr("images") + ")";
}

bool ends_with(const std::string& s, const char* e) {
    const size_t n = std::strlen(e);
    return s.size() >= n && s.compare(s.size() - n, n, e) == 0;
}
}  // namespace

struct App::Impl {
    AppOptions opt;
    UiState state;
    Document doc;
    EvalService eval{kThreaded};
    Theme theme;
    float dpi = 1;
    std::string error;
    TrainerHooks* trainer = nullptr;
    uint64_t trainer_generation = ~uint64_t(0);  // the doc.generation last handed to trainer->set_loaded
    std::unique_ptr<PanelView> panels[kNumPanels];
    FileBrowser browser;
    std::vector<std::string> job_keys;
    std::string current_key, float_key;
    std::string shown_key;  // current_key as the last frame showed it ("" before the first frame)
    int64_t first_frame_evaluated = 0;  // images behind the estimate on the first frame that showed shown_key
    bool estimate_pending = false;  // this frame was built before current_key had an estimate (see frame())
    std::vector<std::string> sweep_keys;
    std::vector<std::string> sensitivity_keys;  // the network view's "Which layer breaks?" or accuracy-vs-size cases, while shown
    bool prepared = false;
    std::string pending_state;  // a lesson step or view to apply after this frame (App::frame, apply_state_string)
    bool lesson_folded = false;  // the lesson card shows its title and question only
    bool lesson_column = false;  // the lesson card is a column at the right (scarce lines, a wide window)
    int lesson_seen = 0;         // the step lesson_folded was chosen for
    std::shared_ptr<const ModelCatalog> models = std::make_shared<const ModelCatalog>();  // the bundled models
    std::vector<OverlayJob> overlay;  // the accuracy-vs-bits overlay's points (ui/model_catalog.hpp)
    std::string picked_model;         // chosen in the picker this frame, loaded at the frame's end

    // [SECTION] loading files ------------------------------------------------------------------------

    void set_error(const std::string& message) {
        error = message;
        if (!message.empty()) std::fprintf(stderr, "quantlab: %s\n", message.c_str());
    }

    Status load_weights(const std::string& name, const std::vector<uint8_t>& bytes, bool apply_file_config) {
        Result<ModelFile> file = open_model_bytes(bytes.data(), bytes.size(), name);
        if (!file.ok()) return file.status;
        if (Status s = check_cifar_net(file.value.net(), name); !s) return s;
        // A QuantLab file may say how it was quantized (a QAT export): start from those bits, and evaluate
        // that setting with the file's calibrated ranges (as `quantlab eval`'s "file (static)" row). Settings
        // that do not read are ignored here (`quantlab eval` reports them).
        QuantConfig file_config;
        const Result<QuantConfig>& qc = file.value.stored_config;
        if (qc.ok() && qc.value.act_mode == ActMode::kStatic && qc.value.act_ranges.size() == qc.value.layers.size())
            file_config = qc.value;
        // The UI's settings can say bits per layer, one rule and the mode; a file may hold more (learned steps as
        // scales, unsigned inputs after a ReLU). The setting that stands for the file is evaluated as the file's.
        UiState as_file = state;
        if (qc.ok() && !qc.value.layers.empty()) {
            as_file.weight_bits.clear();
            as_file.act_bits.clear();
            for (const LayerQuant& l : qc.value.layers) {
                as_file.weight_bits.push_back(l.weight.bits);
                as_file.act_bits.push_back(l.act.bits);
            }
            set_network_rule(as_file, qc.value.layers.front().weight);
            as_file.act_mode = qc.value.act_mode;
            if (apply_file_config) {
                state.weight_bits = as_file.weight_bits;
                state.act_bits = as_file.act_bits;
                state.quant = as_file.quant;
                state.act_mode = as_file.act_mode;
            }
        }
        Document d = doc;
        d.file_key = file_config.layers.empty() ? std::string() : config_key(network_config(as_file, file.value.net()), Backend::kFast);
        d.model = std::make_shared<const Model>(std::move(file.value.model));
        d.file_config = std::move(file_config);
        d.weights_name = name;
        d.layer_names.clear();
        const NetworkDesc& net = d.model->desc();
        for (int li : net.quant_layers()) d.layer_names.push_back(net.layers[size_t(li)].name);
        ++d.generation;
        doc = std::move(d);
        state.weights = name;
        fit_layers(state, doc.num_layers());
        eval.set_source(doc.model, doc.data);
        job_keys.clear();
        return Status::success();
    }

    Status load_data(const std::string& name, const std::vector<uint8_t>& bytes, Dataset dataset = Dataset::kCifar10) {
        Result<Cifar10> data = read_dataset_bytes(bytes.data(), bytes.size(), dataset, name);
        if (!data.ok()) return data.status;
        doc.data = std::make_shared<const Cifar10>(std::move(data.value));
        doc.data_name = name;
        doc.dataset = dataset;
        ++doc.generation;
        state.gallery_page = 0;
        eval.set_source(doc.model, doc.data);
        job_keys.clear();
        return Status::success();
    }

    Status open_file(const std::string& path_or_name, const std::vector<uint8_t>& bytes) {
        const std::string name = base_name(path_or_name);
        const size_t n = bytes.size();
        const bool zip = n >= 4 && bytes[0] == 'P' && bytes[1] == 'K';
        const bool safetensors = n >= 9 && bytes[8] == '{';
        const bool weights_name = ends_with(name, ".safetensors") || ends_with(name, ".pth") || ends_with(name, ".pt");
        Status s;
        if (zip || safetensors || (weights_name && n % kCifar10RecordBytes != 0)) {
            s = load_weights(name, bytes, true);
            if (s) doc.weights_path = path_or_name;
        } else if (n > 0 && n % kCifar10RecordBytes == 0) {
            s = load_data(name, bytes);
        } else if (n > 0 && n % dataset_info(Dataset::kCifar100).record_bytes() == 0) {  // CIFAR-100: coarse + fine label
            s = load_data(name, bytes, Dataset::kCifar100);
        } else {
            char head[64] = "";
            for (size_t i = 0; i < std::min<size_t>(n, 8); ++i)
                std::snprintf(head + std::strlen(head), sizeof head - std::strlen(head), "%02x", bytes[i]);
            s = Status::error(name + ": not a weights file (.safetensors or a torch.save .pth zip) nor a CIFAR-10 batch "
                              "(a non-empty multiple of 3073 bytes) nor a CIFAR-100 file (of 3074 bytes); found " + std::to_string(n) + " bytes" +
                              (n ? std::string(" starting ") + head : std::string()));
        }
        // The framing in the UI's language; the detail (core's message: the file, what was expected and found) as is.
        set_error(s ? std::string() : std::string(tr("Could not open this file:")) + " " + s.message);
        return s;
    }

    // A weights name from the state string: load it from the assets folder when it is not loaded yet.
    Status load_named_weights(const std::string& name) {
        if (name == doc.weights_name && doc.model) return Status::success();
        std::string path = opt.assets_dir + "/" + name;
        Result<std::vector<uint8_t>> bytes = read_file_bytes(path, "weights");
        for (const char* ext : {".safetensors", ".pth"}) {
            if (bytes.ok()) break;
            bytes = read_file_bytes(path + ext, "weights");
            if (bytes.ok()) path += ext;
        }
        if (!bytes.ok() || bytes.value.empty()) {
            Result<const CatalogEntry*> known = pick_model(*models, name);  // a message in the UI's language
            return Status::error(known.ok() ? "weights '" + name + "': no such file in " + opt.assets_dir : known.message());
        }
        Status s = load_weights(base_name(path), bytes.value, false);
        if (s) doc.weights_path = path;
        else s = Status::error(std::string(tr("This model does not fit the network:")) + " " + s.message);
        return s;
    }

    // The model picker and window.quantlab.chooseModel: a bundled model by name, starting from its own settings
    // (a QAT export's bits and ranges), as opening the file does. An unknown name or a file that does not fit
    // keeps the current model and says why in the banner.
    Status choose_model(const std::string& name) {
        Result<const CatalogEntry*> e = pick_model(*models, name);
        Status s = e.status;
        if (s) {
            Result<std::vector<uint8_t>> bytes = read_file_bytes(e.value->path, "weights");
            s = bytes.ok() ? load_weights(e.value->file, bytes.value, true) : bytes.status;
            if (s) doc.weights_path = e.value->path;
            else s = Status::error(std::string(tr("This model does not fit the network:")) + " " + s.message);
        }
        set_error(s ? std::string() : s.message);
        return s;
    }

    // [SECTION] jobs and keyboard -----------------------------------------------------------------------

    void sync_jobs() {
        if (!doc.model || !doc.data) return;
        const NetworkDesc& net = doc.model->desc();
        fit_layers(state, doc.num_layers());
        std::vector<EvalJob> jobs;
        auto add = [&](QuantConfig c) {
            if (has_file_settings(c)) c = doc.file_config;
            EvalJob j = eval_job(c, state.backend);
            for (const EvalJob& o : jobs)
                if (o.key == j.key) return j.key;
            jobs.push_back(j);
            return j.key;
        };
        current_key = add(network_config(state, net));
        float_key = add(make_config(net, kFloatBits, kFloatBits, state.act_mode));
        // "Which layer breaks?" right after them while it is shown: it is what the user looks at then.
        sensitivity_keys.clear();
        for (QuantConfig& c : sensitivity_configs(state, net)) sensitivity_keys.push_back(add(std::move(c)));
        sweep_keys.clear();
        for (int b : sweep_bits()) {
            UiState s = state;
            s.weight_bits.assign(size_t(doc.num_layers()), b);
            s.act_bits.assign(size_t(doc.num_layers()), b);
            sweep_keys.push_back(add(network_config(s, net)));
        }
        // Last, so they never delay the current setting: the overlay's points (other models than the loaded one),
        // while the Evaluation panel, which plots them, is shown (results stay cached when it is left).
        if (overlay.empty() || overlay.front().job.backend != state.backend) overlay = overlay_jobs(*models, sweep_bits(), state.backend);
        if (state.panel == Panel::kEval)
            for (const OverlayJob& o : overlay) jobs.push_back(o.job);
        std::vector<std::string> keys;
        for (const EvalJob& j : jobs) keys.push_back(j.key);
        if (keys != job_keys) {
            job_keys = keys;
            eval.set_jobs(std::move(jobs));
        }
    }

    // The setting that stands for the weights file's own (its bits, its first layer's rule, static mode; see
    // load_weights): evaluated as the file's config, with its ranges and learned scales.
    bool has_file_settings(const QuantConfig& c) const {
        if (doc.file_key.empty() || c.act_mode != ActMode::kStatic) return false;
        QuantConfig g = c;
        g.act_ranges.clear();
        return config_key(g, Backend::kFast) == doc.file_key;
    }

    void step_bits(int delta) {
        if (state.panel == Panel::kQuantizer) {
            state.lab_spec.bits = std::clamp(state.lab_spec.bits + delta, kMinBits, kMaxBits);
            return;
        }
        int b = uniform_bits(state);
        if (!b) b = state.weight_bits.empty() ? 8 : *std::max_element(state.weight_bits.begin(), state.weight_bits.end());
        const int nb = next_bits(b, delta);
        std::fill(state.weight_bits.begin(), state.weight_bits.end(), nb);
        std::fill(state.act_bits.begin(), state.act_bits.end(), nb);
    }

    void toggle_presenter() {
        const bool on = state.font_scale > 1.0f || state.high_contrast;
        state.font_scale = on ? 1.0f : 2.0f;
        state.high_contrast = !on;
    }

    void handle_keys() {
        ImGuiIO& io = ImGui::GetIO();
        if (io.WantTextInput || ImGui::IsAnyItemActive() || ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) return;
        auto pressed = [](ImGuiKey_ k) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(k)); };
        if (pressed(ImGuiKey_UpArrow)) step_bits(+1);
        if (pressed(ImGuiKey_DownArrow)) step_bits(-1);
        if (state.lesson > 0) {  // lesson mode: the page keys (a presenter's clicker) and Left / Right step
            if (pressed(ImGuiKey_RightArrow) || pressed(ImGuiKey_PageDown)) pending_state = "lesson=" + std::to_string(std::min(state.lesson + 1, kNumLessons));
            if (pressed(ImGuiKey_LeftArrow) || pressed(ImGuiKey_PageUp)) pending_state = "lesson=" + std::to_string(std::max(state.lesson - 1, 1));
            if (pressed(ImGuiKey_Escape)) pending_state = "lesson=0";
        }
        if (state.lesson == 0 && (pressed(ImGuiKey_RightArrow) || pressed(ImGuiKey_PageDown))) state.panel = Panel((int(state.panel) + 1) % kNumPanels);
        if (state.lesson == 0 && (pressed(ImGuiKey_LeftArrow) || pressed(ImGuiKey_PageUp))) state.panel = Panel((int(state.panel) + kNumPanels - 1) % kNumPanels);
        for (ImWchar c : io.InputQueueCharacters) {
            switch (c) {
                case '+': case '=': step_bits(+1); break;
                case '-': case '_': step_bits(-1); break;
                case '1': case '2': case '3': case '4': state.panel = Panel(c - '1'); break;
                case 'n': case 'N': state.panel = Panel((int(state.panel) + 1) % kNumPanels); break;
                case 'p': case 'P': toggle_presenter(); break;
                case 'h': case 'H': state.high_contrast = !state.high_contrast; break;
                case 'l': case 'L': state.lang = state.lang == Lang::kEn ? Lang::kJa : Lang::kEn; break;
                case ']': state.font_scale = std::min(3.0f, state.font_scale + 0.25f); break;
                case '[': state.font_scale = std::max(1.0f, state.font_scale - 0.25f); break;
                default: break;
            }
        }
    }

    // [SECTION] top bar, banner, frame --------------------------------------------------------------------

    // The window's height in lines of text at the current font size.
    static float io_display_lines() { return ImGui::GetIO().DisplaySize.y / ImGui::GetFontSize(); }

    void draw_top_bar() {
        const char* names[kNumPanels] = {tr("Quantizer"), tr("Network"), tr("Evaluation"), tr("Training")};
        // Large fonts in a small window (presenter at 1280 px): the name, then the panels' numbers (keys 1-4)
        // go before the bar takes two lines.
        bool show_brand = true, show_numbers = true;
        const char* right_labels[] = {opt.desktop ? tr("Open...") : "", tr("Lessons"), state.lang == Lang::kEn ? "日本語" : "English",
                                      tr("Presenter"), tr("View")};
        // What the bar needs at frame padding `pad`: panel buttons, the right side's buttons, the spacing.
        auto bar_width = [&](float pad) {
            const ImGuiStyle& st = ImGui::GetStyle();
            float need = st.ItemSpacing.x * 9;
            for (int i = 0; i < kNumPanels; ++i) need += ImGui::CalcTextSize(names[i]).x + pad * 2;
            for (const char* t : right_labels)
                if (t[0]) need += ImGui::CalcTextSize(t).x + pad * 2;
            return need;
        };
        const float avail = ImGui::GetContentRegionAvail().x;
        const float numbers = ImGui::CalcTextSize("1 ").x * kNumPanels;
        // Still too wide without them: narrower button padding, so the bar keeps one line (a line of plot).
        float pad = ImGui::GetStyle().FramePadding.x;
        if (bar_width(pad) > avail) pad = std::max(2.0f, std::floor(ImGui::GetFontSize() * 0.2f));
        ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(pad, ImGui::GetStyle().FramePadding.y));
        show_brand = bar_width(pad) + numbers + ImGui::CalcTextSize("QuantLab").x <= avail;
        show_numbers = bar_width(pad) + numbers <= avail;
        if (show_brand) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(plot::colors().series[0]));
            ImGui::TextUnformatted("QuantLab");
            ImGui::PopStyleColor();
        }
        for (int i = 0; i < kNumPanels; ++i) {
            if (i > 0 || show_brand) ImGui::SameLine();
            char label[96];
            if (show_numbers) std::snprintf(label, sizeof label, "%d %s###panel%d", i + 1, names[i], i);
            else std::snprintf(label, sizeof label, "%s###panel%d", names[i], i);
            const bool on = int(state.panel) == i;
            if (on) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_Header));
            if (on) ImGui::PushStyleColor(ImGuiCol_Border, ImGui::GetStyleColorVec4(ImGuiCol_CheckMark));
            if (on) ImGui::PushStyleVar(ImGuiStyleVar_FrameBorderSize, 2.0f);
            if (ImGui::Button(label)) state.panel = Panel(i);
            if (on) ImGui::PopStyleVar();
            if (on) ImGui::PopStyleColor(2);
        }
        // Right side: open, language, presenter, view options.
        const float fs = ImGui::GetFontSize();
        const float right = ImGui::GetWindowContentRegionMax().x;
        const char* lang_label = state.lang == Lang::kEn ? "日本語###lang" : "English###lang";
        const float spacing = ImGui::GetStyle().ItemSpacing.x;
        float total = -spacing;
        for (const char* t : right_labels)
            if (t[0]) total += ImGui::CalcTextSize(t).x + pad * 2 + spacing;
        // On the panel buttons' line when it has room, else right-aligned on a line of their own (large fonts).
        const float tabs_end = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x;
        if (tabs_end + spacing <= right - total) ImGui::SameLine(right - total);
        else ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX(), right - total));
        if (opt.desktop) {
            if (ImGui::Button(tr("Open..."))) browser.open(opt.assets_dir);
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr("Weights (.safetensors, .pth) or CIFAR-10 batches (.bin); files can also be dropped onto the window"));
            ImGui::SameLine();
        }
        if (state.lesson > 0) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_Header));
        if (ImGui::Button(tr("Lessons"))) pending_state = state.lesson > 0 ? "lesson=0" : "lesson=1";
        if (state.lesson > 0) ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr("Walk through the notebook in 8 steps"));
        ImGui::SameLine();
        if (ImGui::Button(lang_label)) state.lang = state.lang == Lang::kEn ? Lang::kJa : Lang::kEn;
        ImGui::SameLine();
        const bool presenter = state.font_scale > 1.0f || state.high_contrast;
        if (presenter) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_Header));
        if (ImGui::Button(tr("Presenter"))) toggle_presenter();
        if (presenter) ImGui::PopStyleColor();
        ImGui::SameLine();
        if (ImGui::Button(tr("View"))) ImGui::OpenPopup("##view");
        ImGui::PopStyleVar();  // the bar's frame padding
        if (ImGui::BeginPopup("##view")) {
            ImGui::SetNextItemWidth(fs * 10);
            ImGui::SliderFloat(tr("font scale"), &state.font_scale, 1.0f, 3.0f, "%.2fx");
            state.font_scale = std::round(state.font_scale * 4.0f) / 4.0f;  // 0.25 steps: a few atlas sizes
            ImGui::Checkbox(tr("high contrast"), &state.high_contrast);
            ImGui::Separator();
            ImGui::TextUnformatted(tr("Keyboard"));
            ImGui::BulletText("%s", tr("Up / Down, + / -: bits up / down"));
            ImGui::BulletText("%s", tr("Left / Right, N, 1-4: panels"));
            ImGui::BulletText("%s", tr("P: presenter mode, H: high contrast, L: language, [ ]: font size"));
            ImGui::BulletText("%s", tr("Lessons: Page Down / Up or Right / Left: next / previous step, Esc: close"));
            ImGui::EndPopup();
        }

        // The line below: what is loaded (the model picker, with what the model is) and the data.
        std::string info = std::string(tr("data")) + ": " +
                           data_label(doc);
        if (io_display_lines() >= 30) {  // not when lines are scarce (presenter, small window)
            ImGui::TextDisabled("%s", info.c_str());
            ImGui::SameLine(0, fs * 1.5f);
        }
        // Loaded after the panels have drawn (end of frame), as a file from the browser is: they hold this frame's doc.
        model_picker(*models, doc.model ? doc.weights_name : std::string(), &picked_model);
        if (!error.empty()) {
            const ImVec4 bad = ImGui::ColorConvertU32ToFloat4(plot::colors().bad);
            ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(bad.x, bad.y, bad.z, 0.15f));
            ImGui::PushStyleColor(ImGuiCol_Border, bad);
            const float h = ImGui::GetTextLineHeightWithSpacing() * 2.3f;
            if (ImGui::BeginChild("##error", ImVec2(0, h), true, ImGuiWindowFlags_NoScrollbar)) {
                ImGui::PushTextWrapPos(ImGui::GetContentRegionMax().x - fs * 5);
                ImGui::TextColored(bad, "%s", error.c_str());
                ImGui::PopTextWrapPos();
                ImGui::SameLine(ImGui::GetContentRegionMax().x - fs * 4);
                if (ImGui::Button(tr("Dismiss"))) error.clear();
            }
            ImGui::EndChild();
            ImGui::PopStyleColor(2);
        }
    }

    void frame(float budget_ms) {
        ImGuiIO& io = ImGui::GetIO();
        layout_probe().begin_frame();
        set_language(state.lang);
        theme.request(state.font_scale, state.high_contrast, dpi);
        // A front end that does not call prepare_frame() gets magnified (not rebaked) text at other scales.
        io.FontGlobalScale = prepared ? 1.0f : theme.magnification();
        prepared = false;
        theme.apply_style();
        handle_keys();
        sync_jobs();
        if (trainer && doc.generation != trainer_generation) {  // runs start from what is loaded now
            trainer->set_loaded(doc.model, doc.weights_name, doc.data);
            trainer_generation = doc.generation;
        }
        if (!eval.threaded()) {
            const auto t0 = std::chrono::steady_clock::now();
            eval.pump(budget_ms);
            // Without threads a training run takes what evaluation left of the budget (at least one step).
            const double used = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            if (trainer) trainer->pump(std::max(0.0, budget_ms - used));
        }
        if (current_key != shown_key) {
            // A new setting: wait briefly for its first batch (FrameTiming::first_estimate_wait_ms). Not on the
            // first frame, which would wait for the trace as well and should come at once.
            if (eval.threaded() && !shown_key.empty() && opt.frame_policy)
                eval.wait_for(current_key, opt.frame_policy->timing().first_estimate_wait_ms);
            std::shared_ptr<const EvalSnapshot> first = eval.get(current_key);
            first_frame_evaluated = first ? first->result.evaluated : 0;
            shown_key = current_key;
        }
        // Decided before the panels read the results: a snapshot that lands while they draw cannot make a frame
        // that shows no estimate count as one that does (the page holds such frames back).
        estimate_pending = eval.threaded() && !current_key.empty() && !eval.get(current_key);

        AppContext ctx{state, doc, eval, trainer, false, nullptr, {}, {}, {}, {}, 1.0f, {}, {}};
        ctx.desktop = opt.desktop;
        ctx.trace = eval.trace();
        ctx.current_key = current_key;
        ctx.float_key = float_key;
        ctx.sweep_keys = sweep_keys;
        ctx.sensitivity_keys = sensitivity_keys;
        ctx.report_error = [this](const std::string& m) { set_error(m); };
        ctx.open_file = [this](const std::string& name, const std::vector<uint8_t>& bytes) { return open_file(name, bytes); };
        ctx.scale = theme.scale();

        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(io.DisplaySize);
        const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                                       ImGuiWindowFlags_NoBringToFrontOnFocus;
        ImGui::Begin("##quantlab", nullptr, flags);
        draw_top_bar();
        ImGui::Separator();
        if (!doc.model || !doc.data) {
            ImGui::TextWrapped("%s", tr("Loading... (no weights or no test data yet: drop a file or use Open...)"));
        } else {
            // Lesson mode: the card takes a strip at the bottom, at most 30 % of the window. Where lines are
            // scarce (presenter mode at 720-800 px) a wide window gives it a column at the right instead (the
            // panels there are short of height, not of width); a narrow one opens each step folded (title and
            // question) so the panel keeps room for its plots; "Show text" unfolds it.
            const bool scarce = io_display_lines() < 30;
            // Not beside the network panel, whose layer table needs the window's width.
            const bool column = state.lesson > 0 && scarce && io.DisplaySize.x >= io.DisplaySize.y * 1.4f && state.panel != Panel::kNetwork;
            if (state.lesson != lesson_seen || column != lesson_column) {
                lesson_folded = state.lesson > 0 && scarce && !column;
                lesson_seen = state.lesson;
                lesson_column = column;
            }
            const ImVec2 avail = ImGui::GetContentRegionAvail();
            const float sp = ImGui::GetStyle().ItemSpacing.x;
            const float card_w = column ? std::floor(avail.x * 0.3f) : avail.x;
            const float card_h = column ? avail.y
                                 : state.lesson > 0 ? lesson_card_height(state, card_w, io.DisplaySize.y * 0.3f, lesson_folded) : 0.0f;
            const ImVec2 panel_size = column ? ImVec2(-(card_w + sp), 0.0f)
                                             : ImVec2(0.0f, card_h > 0 ? -(card_h + ImGui::GetStyle().ItemSpacing.y) : 0.0f);
            if (ImGui::BeginChild("##panel", panel_size, false)) panels[int(state.panel)]->draw(ctx);
            ImGui::EndChild();
            if (column) ImGui::SameLine(0, sp);
            if (card_h > 0)
                if (std::string a = draw_lesson_card(state, card_w, card_h, &lesson_folded, column); !a.empty()) pending_state = a;
        }
        ImGui::End();

        if (opt.desktop && browser.draw(tr("Open a file"))) {
            Result<std::vector<uint8_t>> bytes = read_file_bytes(browser.path(), "open");
            if (!bytes.ok()) set_error(browser.path() + ": cannot read the file");
            else open_file(browser.path(), bytes.value);
        }
        if (!picked_model.empty()) choose_model(picked_model), picked_model.clear();
        // A widget may have changed the state while this frame was built: hand the new jobs to the worker now,
        // so the first batch computes while this frame is rendered, not from the next frame on. (Cheap: the
        // jobs go to the service only when their keys changed.) The next frame waits for what is still missing.
        sync_jobs();
    }
};

// [SECTION] public API ----------------------------------------------------------------------------------

App::App(AppOptions options) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.opt = std::move(options);
    m.panels[0] = make_quantizer_panel();
    m.panels[1] = make_network_panel();
    m.panels[2] = make_eval_panel();
    m.panels[3] = make_train_panel();
    if (m.opt.frame_policy) m.eval.set_first_batch_threads(m.opt.frame_policy->timing().first_batch_threads);
    std::string errors;
    if (!m.opt.initial_state.empty())
        if (Status s = decode_state_with_lessons(m.opt.initial_state, &m.state); !s) errors = s.message;
    set_language(m.state.lang);  // start-up messages (an unknown model in the URL) in the URL's language
    if (!errors.empty()) errors = std::string(tr("This link has a value QuantLab cannot use:")) + " " + errors;
    m.models = std::make_shared<const ModelCatalog>(scan_models(m.opt.assets_dir));
    m.doc.models = m.models;
    bool have_data = false;
    if (!m.opt.test_set_dir.empty()) {  // the desktop's full test set (as `quantlab eval`), else the sample below
        // A CIFAR-100 folder (test.bin, no test_batch.bin) is CIFAR-100's test set.
        std::string path = m.opt.test_set_dir + "/test_batch.bin";
        Dataset ds = Dataset::kCifar10;
        if (!std::filesystem::exists(path) && std::filesystem::exists(m.opt.test_set_dir + "/test.bin"))
            path = m.opt.test_set_dir + "/test.bin", ds = Dataset::kCifar100;
        Result<std::vector<uint8_t>> full = read_file_bytes(path, "test data");
        Status s = full.ok() ? m.load_data(std::filesystem::path(path).filename().string(), full.value, ds) : full.status;
        if (!s)
            errors += (errors.empty() ? "" : "; ") + s.message + " (" + path + ", " + m.opt.test_set_source + "); " +
                      tr("evaluating on the bundled sample of 1,000 test images instead");
        have_data = s.ok();
    }
    if (!have_data) {
        const std::string data_path = m.opt.assets_dir + "/" + kDefaultData;
        Result<std::vector<uint8_t>> bytes = read_file_bytes(data_path, "test data");
        if (!bytes.ok()) errors += (errors.empty() ? "" : "; ") + std::string("test data: cannot read ") + data_path;
        else if (Status s = m.load_data(kDefaultData, bytes.value); !s) errors += (errors.empty() ? "" : "; ") + s.message;
    }
    const UiState wanted = m.state;
    Status s = m.load_named_weights(m.state.weights);
    if (!s && m.state.weights != kDefaultWeights) {
        errors += (errors.empty() ? "" : "; ") + s.message;
        s = m.load_named_weights(kDefaultWeights);
    }
    if (!s) errors += (errors.empty() ? "" : "; ") + s.message;
    // Keep the state string's per-layer bits (loading resets nothing else, but fit them to the network).
    m.state.weight_bits = wanted.weight_bits;
    m.state.act_bits = wanted.act_bits;
    if (m.doc.model) fit_layers(m.state, m.doc.num_layers());
    m.set_error(errors);
}

App::~App() = default;

Status App::init_imgui(float dpi_scale) {
    Impl& m = *impl_;
    m.dpi = dpi_scale > 0 ? dpi_scale : 1.0f;
    Status s = m.theme.load_font(m.opt.assets_dir + "/fonts/quantlab-ui.ttf");
    m.theme.request(m.state.font_scale, m.state.high_contrast, m.dpi);
    m.theme.rebake();
    m.theme.apply_style();
    if (!s) m.set_error(m.error.empty() ? s.message : m.error + "; " + s.message);
    return s;
}

void App::prepare_frame() {
    Impl& m = *impl_;
    m.theme.request(m.state.font_scale, m.state.high_contrast, m.dpi);
    if (m.theme.needs_rebake()) m.theme.rebake();
    m.prepared = true;
}

void App::frame(float budget_ms) {
    impl_->frame(budget_ms);
    // A lesson step or view asked for this frame goes the way a link goes (weights loaded, bad values reported).
    if (!impl_->pending_state.empty()) apply_state_string(std::exchange(impl_->pending_state, std::string()));
}

// Both below run between frames (a dropped file, a URL change): the worker starts on what they changed at
// once instead of at the next frame, which then finds the first estimate ready or nearly so.
Status App::open_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    Status s = impl_->open_file(name, bytes);
    impl_->sync_jobs();
    return s;
}

std::string App::state_string() const { return encode_state(impl_->state); }

Status App::choose_model(const std::string& name) {
    Status s = impl_->choose_model(name);
    impl_->sync_jobs();
    return s;
}

Status App::apply_state_string(const std::string& text) {
    Impl& m = *impl_;
    UiState next = m.state;
    Status s = decode_state_with_lessons(text, &next);
    set_language(next.lang);  // a message below (an unknown model) in the language the new state asks for
    if (!s) s = Status::error(std::string(tr("This link has a value QuantLab cannot use:")) + " " + s.message);
    if (next.weights != m.doc.weights_name) {
        const std::vector<int> wb = next.weight_bits, ab = next.act_bits;
        if (Status w = m.load_named_weights(next.weights); !w) {
            next.weights = m.doc.weights_name;
            s = Status::error(s ? w.message : s.message + "; " + w.message);
        }
        next.weight_bits = wb;
        next.act_bits = ab;
    }
    m.state = next;
    if (m.doc.model) fit_layers(m.state, m.doc.num_layers());
    if (!s) m.set_error(s.message);
    m.sync_jobs();
    return s;
}

std::string App::status_json() const {
    const Impl& m = *impl_;
    nlohmann::json j;
    j["weights"] = m.doc.weights_name;
    j["data"] = m.doc.data_name;
    j["data_label"] = data_label(m.doc);
    std::shared_ptr<const EvalSnapshot> cur = m.current_key.empty() ? nullptr : m.eval.get(m.current_key);
    std::shared_ptr<const EvalSnapshot> flt = m.float_key.empty() ? nullptr : m.eval.get(m.float_key);
    j["accuracy"] = cur ? cur->result.accuracy() : 0.0;
    j["correct"] = cur ? cur->result.correct : 0;
    j["evaluated"] = cur ? cur->result.evaluated : 0;
    j["total"] = m.doc.data ? m.doc.data->count : 0;
    j["done"] = cur ? cur->done : false;
    j["compute_seconds"] = cur ? cur->seconds : 0.0;  // the evaluation's own time (set-up + batches), no queueing
    // Images behind the estimate on the first frame that showed this setting; -1 before one has.
    j["first_frame_evaluated"] = !m.current_key.empty() && m.shown_key == m.current_key ? m.first_frame_evaluated : int64_t(-1);
    char hash[32] = "";
    if (cur) std::snprintf(hash, sizeof hash, "%016llx", (unsigned long long)cur->result.predictions_hash());
    j["predictions_fnv1a64"] = hash;
    j["float_accuracy"] = flt && flt->done ? flt->result.accuracy() : -1.0;
    j["error"] = m.error;
    j["panel"] = panel_key(m.state.panel);
    const int ub = uniform_bits(m.state);
    if (ub) j["bits"] = ub;
    else j["bits"] = bits_summary(m.state);
    j["weight_bits"] = m.state.weight_bits;
    j["act_bits"] = m.state.act_bits;
    j["lab_bits"] = m.state.lab_spec.bits;
    j["lang"] = m.state.lang == Lang::kJa ? "ja" : "en";
    j["presenter"] = m.state.font_scale > 1.0f || m.state.high_contrast;
    j["busy"] = m.eval.busy();
    j["state"] = encode_state(m.state);
    j["lesson"] = m.state.lesson;
    j["lessons"] = kNumLessons;
    const Lesson& lesson_shown = lesson(m.state.lesson);
    j["lesson_title"] = m.state.lesson > 0 ? lesson_text(lesson_shown.title_en, lesson_shown.title_ja, m.state.lang) : "";
    // The bundled models (the picker's list) and the accuracy-vs-bits overlay's points evaluated so far.
    j["models"] = nlohmann::json::array();
    for (const CatalogEntry& e : *m.models)
        j["models"].push_back({{"file", e.file}, {"name", e.stem()}, {"usable", e.usable()}, {"qat", e.qat()},
                               {"weight_bits", e.weight_bits}, {"act_bits", e.act_bits}, {"test_accuracy", e.test_accuracy},
                               {"description", describe(e)}});
    // "Which layer breaks?" per layer (only it at its bits; all but it, kept at 8); [] unless the view is shown.
    j["sensitivity"] = sensitivity_json(m.eval, m.sensitivity_keys, m.doc.layer_names);
    // The accuracy-vs-size front (proxy from the one-layer losses) while that view is shown.
    if (m.doc.model && m.state.panel_view == kNetViewPareto) j["pareto"] = pareto_json(m.eval, m.sensitivity_keys, m.float_key, m.doc.model->desc());
    j["overlay"] = nlohmann::json::array();
    for (const OverlayJob& o : m.overlay) {
        std::shared_ptr<const EvalSnapshot> s = m.eval.get(o.job.key);
        char h[32] = "";
        if (s) std::snprintf(h, sizeof h, "%016llx", (unsigned long long)s->result.predictions_hash());
        j["overlay"].push_back({{"model", o.model}, {"kind", o.qat ? "qat" : "ptq"}, {"weight_bits", o.weight_bits},
                                {"act_bits", o.act_bits}, {"accuracy", s ? s->result.accuracy() : 0.0},
                                {"correct", s ? s->result.correct : 0}, {"evaluated", s ? s->result.evaluated : 0},
                                {"done", s ? s->done : false}, {"error", s ? s->error : std::string()}, {"predictions_fnv1a64", h}});
    }
    return j.dump();
}

const std::string& App::last_error() const { return impl_->error; }

void App::set_trainer(TrainerHooks* hooks) {
    impl_->trainer = hooks;
    impl_->trainer_generation = ~uint64_t(0);
}

// A frame whose layout is still settling (a legend strip, the gallery's rows) wants one more frame.
bool App::busy() const { return impl_->eval.busy() || layout_probe().unsettled() || (impl_->trainer && impl_->trainer->busy()); }

bool App::first_estimate_pending() const { return impl_->estimate_pending; }

}  // namespace quantlab::ui
