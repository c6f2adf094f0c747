// panel_train.cpp: live training, drawn through TrainerHooks (trainer_hooks.hpp) so that ui/ never sees LibTorch
// (the desktop: LibTorch's trainer or core's, ui/core_trainer.hpp; the page: core's, on a thread or in a Web Worker,
// ui/remote_trainer.hpp). New run settings (the final assignment's knobs), start / stop / resume, live loss,
// validation- and test-accuracy curves of every run overlaid for comparison (against epochs, steps or wall time), images/s, an LSQ/PACT run's learned step sizes, export (or
// download) of a run's weights and, where the trainer offers them, the trained weights as the current model;
// export of the curves (CSV, PNG: ui/train_curves.hpp). The start point (desktop): the loaded file, or from
// scratch the notebook's net, wide:N or a typed NetworkDesc (core's network_choice).
// Without hooks (a front end that gives none: every one now has core's engine at least) it says training is unavailable.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "ui/app_context.hpp"
#include "ui/i18n.hpp"
#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/format.hpp"
#include "core/train/augment.hpp"
#include "core/network.hpp"
#include "ui/plot.hpp"
#include "ui/train_curves.hpp"
#include "ui/trainer_hooks.hpp"

namespace quantlab::ui {

namespace {

const char* state_name(TrainState s) {
    switch (s) {
        case TrainState::kQueued: return tr("queued");
        case TrainState::kRunning: return tr("running");
        case TrainState::kStopped: return tr("stopped");
        case TrainState::kFinished: return tr("finished");
        case TrainState::kFailed: return tr("failed");
    }
    return "?";
}

std::string run_label(const TrainRun& r) {
    if (!r.config.label.empty()) return "#" + std::to_string(r.id) + " " + r.config.label;
    char b[160];
    std::string q;
    if (r.config.qat) {
        q = " W" + std::to_string(r.config.weight_bits) + "A" + std::to_string(r.config.act_bits);
        if (r.config.quant.rule != RangeRule::kMaxAbs) q += std::string(" ") + range_rule_name(r.config.quant.rule);
        if (!r.config.quant.symmetric) q += " asym";
        else if (r.config.quant.codes == SymmetricCodes::kFull) q += " full";
        if (r.config.quant.per_channel) q += " pc";
        if (r.config.quantizer != QuantizerKind::kFixed) q += std::string(" ") + quantizer_kind_name(r.config.quantizer);
    }
    // ASCII only (the curves PNG draws these with stb_easy_font): the dataset by its CLI name, not its title.
    std::string aug = r.config.augment ? " aug" : "";
    if (r.config.cutout > 0) aug += " cutout" + std::to_string(r.config.cutout);
    if (r.config.jitter > 0) aug += " jitter" + printf_number("%g", r.config.jitter);
    if (r.config.dataset != Dataset::kCifar10) aug += std::string(" ") + dataset_name(r.config.dataset);
    std::snprintf(b, sizeof b, "#%d %s lr %g%s%s", r.id, optimizer_name(r.config.optimizer), r.config.lr, aug.c_str(), q.c_str());
    return b;
}

// The learned steps of one run (lsq / pact) as they move: each layer's step S over its first value (1 = where it
// started, so layers whose steps differ by orders of magnitude share one axis); input steps solid, weight steps dashed,
// one colour per layer.
void learned_steps_plot(const TrainRun& r, double emax, float height, TrainAxis axis, const char* xlabel) {
    double lo = 1, hi = 1;
    const size_t nl = r.layers.size();
    std::vector<float> first_w(nl, 0), first_a(nl, 0);
    for (const TrainPoint& p : r.points)
        for (size_t l = 0; l < nl && l < p.act_steps.size() && l < p.weight_steps.size(); ++l)
            for (bool w : {true, false}) {
                const float s = w ? p.weight_steps[l] : p.act_steps[l];
                float& f = w ? first_w[l] : first_a[l];
                if (!(s > 0)) continue;
                if (f == 0) f = s;
                lo = std::min(lo, double(s / f)), hi = std::max(hi, double(s / f));
            }
    const std::string title = std::string(tr("learned step sizes")) + " (" + run_label(r) + ")";
    if (!plot::begin_plot("##steps", title.c_str(), ImVec2(0, height), plot::pad_limits(0, emax, lo, hi), xlabel, tr("S / first S")))
        return;
    for (size_t l = 0; l < nl; ++l) {
        const ImU32 col = plot::colors().series[l % 8];
        for (bool w : {false, true}) {
            std::vector<float> x, y;
            const float f = w ? first_w[l] : first_a[l];
            if (f == 0) continue;
            for (const TrainPoint& p : r.points) {
                const float s = l < (w ? p.weight_steps : p.act_steps).size() ? (w ? p.weight_steps : p.act_steps)[l] : 0.0f;
                if (s > 0) x.push_back(float(axis_value(p, axis))), y.push_back(s / f);
            }
            const std::string label = r.layers[l] + (w ? tr(" weight") : tr(" input"));
            plot::line(label.c_str(), x.data(), y.data(), int(x.size()), col, w ? 1.4f : 1.8f, w);
        }
    }
    plot::end_plot();
}

class TrainPanel : public PanelView {
public:
    void draw(AppContext& ctx) override;

private:
    void settings(AppContext& ctx, float width);
    void start_point(AppContext& ctx, float width);
    void dataset_choice(AppContext& ctx);
    void curve_files(const std::vector<TrainRun>& runs, AppContext& ctx, float width);
    TrainRunConfig next_;
    bool defaults_set_ = false;  // the page's lighter defaults applied (once a trainer is there)
    int start_ = 0;  // 0 the loaded weights, from scratch: 1 the notebook's net, 2 wide:N, 3 a description
    int wide_ = 2;
    char desc_[1024] = "";
    std::string model_error_;
    std::string data_error_;   // the chosen dataset's images are missing (TrainerHooks::check_data), checked now and then
    double data_checked_ = -1; // ImGui time of that check; < 0: check now
    int axis_ = 0;  // TrainAxis of the curves
    char curves_dir_[512] = "";
    std::string curves_written_;
    std::set<int> hidden_;
    char export_path_[512] = "quantlab_run.safetensors";
    std::string message_;
};

void TrainPanel::settings(AppContext& ctx, float width) {
    TrainRunConfig& c = next_;
    ImGui::TextUnformatted(tr("New run"));
    ImGui::SliderInt(column_field(tr("epochs"), width), &c.epochs, 1, 100);
    int batch_i = c.batch == 32 ? 0 : c.batch == 64 ? 1 : c.batch == 256 ? 3 : c.batch == 512 ? 4 : 2;
    const char* batches[] = {"32", "64", "128", "256", "512"};
    if (ImGui::Combo(column_field(tr("batch size"), width), &batch_i, batches, 5)) c.batch = std::atoi(batches[batch_i]);
    // Typed, not a slider: a learning rate is chosen by its order of magnitude (0.01, 1e-3), and a slider's grab
    // covered its digits in a narrow column. Start checks it (a positive number).
    ImGui::InputDouble(column_field(tr("learning rate"), width), &c.lr, 0.0, 0.0, "%g", ImGuiInputTextFlags_CharsScientific);
    int opt = c.optimizer == Optimizer::kAdam ? 1 : 0;
    const char* opts[] = {"SGD (momentum 0.9)", "Adam"};
    if (ImGui::Combo(column_field(tr("optimizer"), width), &opt, opts, 2)) c.optimizer = opt ? Optimizer::kAdam : Optimizer::kSgd;
    int sch = c.schedule == Schedule::kCosine ? 1 : c.schedule == Schedule::kStep ? 2 : 0;
    const char* schs[] = {tr("constant"), tr("cosine"), tr("step")};
    if (ImGui::Combo(column_field(tr("LR schedule"), width), &sch, schs, 3)) c.schedule = sch == 1 ? Schedule::kCosine : sch == 2 ? Schedule::kStep : Schedule::kNone;
    column_checkbox(tr("augmentation (crop + flip)"), &c.augment);
    // Both trainers apply these (core/train/augment.hpp, the same draws); the limits are check_augment's.
    // Short labels that fit beside their fields; 0 reads "none" in the field, the tooltip says what the value does.
    ImGui::SliderInt(column_field(tr("cutout##t"), width), &c.cutout, 0, int(kCifar10Side), c.cutout > 0 ? "%d px" : tr("none"));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr("Cutout zeroes an N x N square at a random place of each training image (DeVries & Taylor: 16)."));
    float jitter = float(c.jitter);
    if (ImGui::SliderFloat(column_field(tr("colour jitter"), width), &jitter, 0.0f, kMaxJitter, jitter > 0 ? "%.2f" : tr("none")))
        c.jitter = double(jitter);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", tr("Colour jitter scales brightness, contrast and saturation by random factors in [1 - a, 1 + a] (e.g. 0.4)."));
    dataset_choice(ctx);
    column_checkbox(tr("quantization-aware (STE)"), &c.qat);
    if (c.qat) {
        ImGui::SliderInt(column_field(tr("weight bits##t"), width), &c.weight_bits, 1, 16);
        ImGui::SliderInt(column_field(tr("activation bits##t"), width), &c.act_bits, 1, 16);
        rule_controls(&c.quant, width);
        column_checkbox(tr("symmetric (Z = 0)"), &c.quant.symmetric);
        same_line_if_fits(checkbox_width(tr("per-channel weights")));
        column_checkbox(tr("per-channel weights"), &c.quant.per_channel);
        codes_control(&c.quant, width);
        int qk = int(c.quantizer);
        const char* qks[] = {tr("fixed (range rule + STE)"), tr("LSQ (learned step size)"), tr("PACT (learned clipping)")};
        if (ImGui::Combo(column_field(tr("quantizer"), width), &qk, qks, 3)) c.quantizer = QuantizerKind(qk);
        if (c.quantizer == QuantizerKind::kFixed) {
            int ste = int(c.ste);
            ImGui::RadioButton(tr("identity (notebook)"), &ste, 0);
            same_line_if_fits(checkbox_width(tr("clipped")));
            ImGui::RadioButton(tr("clipped"), &ste, 1);
            c.ste = SteRule(ste);
        }
    }
    start_point(ctx, width);
    if (!model_error_.empty()) ImGui::BeginDisabled();
    if (ImGui::Button(tr("Start"))) {
        Result<int> r = ctx.trainer->start(c);
        message_ = r.ok() ? std::string() : r.message();
        if (!r.ok()) ctx.report_error(r.message());
    }
    if (!model_error_.empty()) ImGui::EndDisabled();
}

// The training images: offered only where the trainer trains on more than CIFAR-10 (the page's core trainer has
// its bundled CIFAR-10 sample only). Missing data is said here, before Start, with the trainer's own message.
void TrainPanel::dataset_choice(AppContext& ctx) {
    TrainRunConfig& c = next_;
    if (!ctx.trainer->trains_on(Dataset::kCifar100)) {
        c.dataset = Dataset::kCifar10;
    } else {
        // Radio buttons, not a combo: a narrow field (presenter mode) would cut "CIFAR-100" to "CIFAR-1".
        int ds = c.dataset == Dataset::kCifar100 ? 1 : 0;
        ImGui::AlignTextToFramePadding();  // on the radio buttons' baseline
        ImGui::TextUnformatted(tr("dataset"));
        same_line_if_fits(checkbox_width("CIFAR-10"));
        bool changed = ImGui::RadioButton("CIFAR-10", &ds, 0);
        same_line_if_fits(checkbox_width("CIFAR-100"));
        changed = ImGui::RadioButton("CIFAR-100", &ds, 1) || changed;
        if (changed) {
            c.dataset = ds ? Dataset::kCifar100 : Dataset::kCifar10;
            data_checked_ = -1;
            // The loaded weights' last layer must have the dataset's classes: else the chooser starts from scratch
            // (start_point says why when "fine-tune" is chosen again).
            if (start_ == 0 && ctx.doc.num_classes() != dataset_info(c.dataset).classes) start_ = 1;
        }
    }
    const double now = ImGui::GetTime();
    if (data_checked_ < 0 || now - data_checked_ > 2.0) {  // a folder check, not every frame; sees a later `data fetch`
        const Status s = ctx.trainer->check_data(c.dataset);
        data_error_ = s ? std::string() : s.message;
        data_checked_ = now;
    }
    if (const std::string label = ctx.trainer->train_data_label(); !label.empty()) {  // the page: which images it trains on
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("%s", label.c_str());
        ImGui::PopStyleColor();
    }
    if (!data_error_.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(plot::colors().bad));
        ImGui::TextWrapped("%s", data_error_.c_str());
        ImGui::PopStyleColor();
    }
}

// The start point of a new run. A description that does not parse (or has the wrong class count) disables Start
// and says why, before anything is queued.
void TrainPanel::start_point(AppContext& ctx, float width) {
    TrainRunConfig& c = next_;
    model_error_.clear();
    if (!ctx.desktop) start_ = 0;  // the page's trainer (core's engine) fine-tunes the loaded model only: no choice
    if (start_ == 0 && !ctx.desktop) {
        c.init_weights = ctx.doc.weights_path.empty() ? ctx.doc.weights_name : ctx.doc.weights_path;
        c.model = "notebook";
        return;
    }
    const char* starts[] = {tr("fine-tune loaded file"), tr("scratch: notebook net"), tr("scratch: wide:N"),
                            tr("scratch: description")};
    ImGui::Combo(column_field(tr("start##model"), width), &start_, starts, 4);
    const DatasetInfo& ds = dataset_info(c.dataset);
    if (start_ == 0) {
        c.init_weights = ctx.doc.weights_path.empty() ? ctx.doc.weights_name : ctx.doc.weights_path;
        c.model = "notebook";
        if (ctx.doc.num_classes() != ds.classes) {  // the trainer would refuse it when the run starts
            char b[320];
            std::snprintf(b, sizeof b, tr("The loaded weights have %d outputs but %s has %d classes: choose a start from scratch, or open "
                                          "weights made for %s."),
                          ctx.doc.num_classes(), ds.title, ds.classes, ds.title);
            model_error_ = b;
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(plot::colors().bad));
            ImGui::TextWrapped("%s", model_error_.c_str());
            ImGui::PopStyleColor();
        }
        return;
    }
    c.init_weights.clear();
    if (start_ == 1) {
        c.model = "notebook";
    } else if (start_ == 2) {
        ImGui::SliderInt(column_field(tr("width N##wide"), width), &wide_, 1, 8);
        c.model = "wide:" + std::to_string(wide_);
    } else {
        if (!desc_[0]) std::snprintf(desc_, sizeof desc_, "%s", notebook_net().to_text().c_str());
        ImGui::TextDisabled("%s", tr("layers separated by ';' (conv NAME IN OUT K PAD; bn NAME C; relu; pool K; flatten; linear NAME IN OUT)"));
        ImGui::InputTextMultiline("##desc", desc_, sizeof desc_, ImVec2(width + ImGui::GetFontSize() * 8, ImGui::GetTextLineHeight() * 4.5f),
                                  ImGuiInputTextFlags_NoHorizontalScroll);
        c.model = desc_;
    }
    if (ctx.doc.num_classes() != ds.classes)
        ImGui::TextDisabled("%s", (std::string(ds.title) + ": " + std::to_string(ds.classes) + " " + tr("outputs, from scratch")).c_str());
    Result<NetworkDesc> net = network_choice(c.model, ds.classes);
    if (!net.ok()) {
        model_error_ = net.message();
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(plot::colors().bad));
        ImGui::TextWrapped("%s", model_error_.c_str());
        ImGui::PopStyleColor();
        return;
    }
    int64_t params = 0;
    for (const ParamDesc& p : net.value.params())
        if (p.trainable) params += numel(p.shape);
    ImGui::TextDisabled("%s: %lld", tr("parameters"), (long long)params);
}

// CSV (curves, results) and PNG (the curves against the chosen axis) of the shown runs, into a folder: by
// default the session's runs folder, next to the checkpoints.
void TrainPanel::curve_files(const std::vector<TrainRun>& all, AppContext& ctx, float width) {
    if (!curves_dir_[0]) std::snprintf(curves_dir_, sizeof curves_dir_, "%s", ctx.trainer->runs_dir().empty() ? "." : ctx.trainer->runs_dir().c_str());
    ImGui::InputText(column_field(tr("curves to"), width), curves_dir_, sizeof curves_dir_);
    const bool csv = ImGui::Button(tr("Save CSV"));
    ImGui::SameLine();
    const bool png = ImGui::Button(tr("Save PNG"));
    if (csv || png) {
        std::vector<TrainRun> runs;
        std::vector<std::string> labels;
        std::vector<uint32_t> colours;
        for (const TrainRun& r : all)
            if (!hidden_.count(r.id)) runs.push_back(r), labels.push_back(run_label(r)), colours.push_back(plot::colors().series[size_t(r.id) % 8]);
        const std::filesystem::path dir(curves_dir_);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        Status s;
        if (csv) {
            const std::string a = (dir / "training_curves.csv").string(), b = (dir / "training_results.csv").string();
            s = write_text_file(a, curves_csv(runs, labels));
            if (s) s = write_text_file(b, results_csv(runs, labels));
            curves_written_ = s ? a + ", " + b : std::string();
        } else {
            const std::string a = (dir / "training_curves.png").string();
            s = write_png(a, render_curves(runs, labels, colours, TrainAxis(axis_), 1280, 800));
            curves_written_ = s ? a : std::string();
        }
        if (!s) {
            curves_written_.clear();
            ctx.report_error(s.message);
        }
    }
    if (!curves_written_.empty()) ImGui::TextWrapped("%s %s", tr("wrote"), curves_written_.c_str());
}

void TrainPanel::draw(AppContext& ctx) {
    const float fs = ImGui::GetFontSize();
    if (!defaults_set_ && ctx.trainer && !ctx.desktop) {
        // The page trains on one core (a worker thread, or between frames without threads): a first run that ends
        // within a minute or two.
        next_.epochs = 1;
        next_.batch = 32;
        next_.qat = true;
        next_.weight_bits = next_.act_bits = 4;
    }
    defaults_set_ = defaults_set_ || ctx.trainer;
    if (!ctx.trainer) {
        ImGui::Spacing();
        // Every front end hands one over (core's engine at least), so this is for a front end that does not.
        ImGui::TextWrapped("%s", tr("Training is not available here: this app was given no trainer. Trained models can still be evaluated: drop an "
                                    "exported .safetensors file here."));
        ImGui::Spacing();
        ImGui::TextDisabled("%s", tr("trainer not built"));
        return;
    }
    const std::vector<TrainRun> runs = ctx.trainer->runs();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float left_w = std::clamp(fs * 22.0f, 280.0f, avail.x * 0.34f);
    ImGui::BeginChild("##train_left", ImVec2(left_w, 0), false);
    text_fitted((std::string(tr("device")) + ": " + ctx.trainer->device()).c_str(), true);
    // Fields of at least 45 % of the column, so a combo's choice reads ("constant", not "const"); a label that no
    // longer fits beside its field goes above it (column_field).
    settings(ctx, std::max(left_w - fs * 9, left_w * 0.45f));
    ImGui::Separator();
    ImGui::TextUnformatted(tr("Runs"));
    for (const TrainRun& r : runs) {
        ImGui::PushID(r.id);
        bool shown = !hidden_.count(r.id);
        const ImU32 col = plot::colors().series[size_t(r.id) % 8];
        ImGui::PushStyleColor(ImGuiCol_CheckMark, ImGui::ColorConvertU32ToFloat4(col));
        if (ImGui::Checkbox("##show", &shown)) shown ? (void)hidden_.erase(r.id) : (void)hidden_.insert(r.id);
        ImGui::PopStyleColor();
        ImGui::SameLine();
        const TrainPoint* last = nullptr;  // the last point with a loss (accuracy-only points carry -1)
        for (const TrainPoint& p : r.points)
            if (p.loss >= 0) last = &p;
        ImGui::TextWrapped("%s  [%s]", run_label(r).c_str(), state_name(r.state));  // wrapped: a long label keeps its state
        double val = -1, test = -1;
        for (const TrainPoint& p : r.points) {
            if (p.val_accuracy >= 0) val = p.val_accuracy;
            if (p.test_accuracy >= 0) test = p.test_accuracy;
        }
        if (last)
            ImGui::TextDisabled("   %s %.2f  %s %.3f  %.0f %s", tr("epoch"), last->epoch, tr("loss"), last->loss, last->images_per_s, tr("img/s"));
        if (val >= 0 || test >= 0) {
            // Only what this trainer measures (the desktop's LibTorch runs report their test accuracy at the end).
            std::string line = "  ";
            char b[64];
            if (val >= 0) std::snprintf(b, sizeof b, " %s %.1f %%", tr("val"), val), line += b;
            if (test >= 0) std::snprintf(b, sizeof b, " %s %.1f %%", tr("test"), test), line += b;
            ImGui::TextDisabled("%s", line.c_str());
        }
        if (train_active(r.state)) {
            if (ImGui::SmallButton(tr("Stop"))) ctx.trainer->stop(r.id);
        } else if (r.state == TrainState::kStopped) {
            if (ImGui::SmallButton(tr("Resume"))) ctx.trainer->resume(r.id);
        }
        const bool offer_use = ctx.trainer->offers_weights_file() && r.state != TrainState::kQueued;
        const ImGuiStyle& st = ImGui::GetStyle();
        auto button_w = [&](const char* t) { return ImGui::CalcTextSize(t).x + st.FramePadding.x * 2; };
        if (offer_use) same_line_if_fits(button_w(tr("Use as model")));
        if (offer_use && ImGui::SmallButton(tr("Use as model"))) {
            // The run's weights now, opened as if dropped: every other panel evaluates them.
            Result<std::vector<uint8_t>> w = ctx.trainer->weights_file(r.id);
            Status s = w.ok() ? ctx.open_file("run" + std::to_string(r.id) + ".safetensors", w.value) : w.status;
            message_ = s ? std::string() : s.message;
            if (!s) ctx.report_error(s.message);
        }
        const char* export_label = ctx.trainer->exports_as_download() ? tr("Download") : tr("Export");
        same_line_if_fits(button_w(export_label));
        if (ImGui::SmallButton(export_label)) {
            // The run's own message says where it went (an unfinished run is calibrated and evaluated in the background).
            Status s = ctx.trainer->export_weights(r.id, export_path_);
            message_ = s ? std::string() : s.message;
            if (!s) ctx.report_error(s.message);
        }
        if (!r.message.empty()) ImGui::TextWrapped("%s", r.message.c_str());
        ImGui::PopID();
    }
    ImGui::InputText(column_field(ctx.trainer->exports_as_download() ? tr("file name") : tr("export to"), left_w - fs * 6), export_path_,
                     sizeof export_path_);
    if (!message_.empty()) ImGui::TextWrapped("%s", message_.c_str());
    ImGui::Separator();
    curve_files(runs, ctx, left_w - fs * 6);
    ImGui::EndChild();
    ImGui::SameLine();

    ImGui::BeginChild("##train_plots", ImVec2(0, 0), false);
    const char* axes[] = {tr("epochs"), tr("steps"), tr("wall time (s)")};
    ImGui::SetNextItemWidth(fs * 9);
    ImGui::Combo(tr("x axis##train"), &axis_, axes, 3);
    const TrainAxis axis = TrainAxis(axis_);
    const char* xlabel = axis == TrainAxis::kEpoch ? tr("epoch") : axis == TrainAxis::kStep ? tr("optimizer step") : tr("wall time (s)");
    const ImVec2 a = ImGui::GetContentRegionAvail();
    // The newest shown run with learned steps (lsq / pact) gets a third, smaller plot of them.
    const TrainRun* learned = nullptr;
    for (const TrainRun& r : runs)
        if (!hidden_.count(r.id) && !r.layers.empty()) learned = &r;
    const float gap = ImGui::GetStyle().ItemSpacing.y;
    const float h = learned ? (a.y - 2 * gap) * 0.37f : (a.y - gap) * 0.5f;
    double emax = axis == TrainAxis::kEpoch ? 1 : 1e-9, lmax = 0.1;
    for (const TrainRun& r : runs)
        for (const TrainPoint& p : r.points) emax = std::max(emax, axis_value(p, axis)), lmax = std::max(lmax, p.loss);
    if (plot::begin_plot("##loss", tr("training loss"), ImVec2(0, h), plot::Limits{0, emax, 0, lmax * 1.05}, xlabel, nullptr)) {
        for (const TrainRun& r : runs) {
            if (hidden_.count(r.id)) continue;
            std::vector<float> x, y;
            for (const TrainPoint& p : r.points)
                if (p.loss >= 0) x.push_back(float(axis_value(p, axis))), y.push_back(float(p.loss));
            plot::line(run_label(r).c_str(), x.data(), y.data(), int(x.size()), plot::colors().series[size_t(r.id) % 8], 1.8f);
        }
        plot::end_plot();
    }
    // Fine-tuning runs: the validation images are held out of this run, not of the start model's own training
    // (the notebook's network saw them), so validation reads well above test accuracy; the note says so.
    bool fine_tune = false;
    for (const TrainRun& r : runs) fine_tune = fine_tune || !r.config.init_weights.empty();
    const char* note = fine_tune ? tr("Validation (solid) uses training images the loaded network was trained on, so it reads up to about 20 "
                                      "points above test accuracy (dashed: the app's test images).")
                                 : nullptr;
    const float note_h = note ? ImGui::GetTextLineHeightWithSpacing() * 2.2f : 0.0f;
    if (plot::begin_plot("##val", tr("validation and test accuracy"), ImVec2(0, h - note_h), plot::Limits{0, emax, 0, 100}, xlabel, "%",
                         plot::kYPercent)) {
        for (const TrainRun& r : runs) {
            if (hidden_.count(r.id)) continue;
            const ImU32 col = plot::colors().series[size_t(r.id) % 8];
            std::vector<float> x, y, tx, ty;
            for (const TrainPoint& p : r.points) {
                if (p.val_accuracy >= 0) x.push_back(float(axis_value(p, axis))), y.push_back(float(p.val_accuracy));
                if (p.test_accuracy >= 0) tx.push_back(float(axis_value(p, axis))), ty.push_back(float(p.test_accuracy));
            }
            plot::line(run_label(r).c_str(), x.data(), y.data(), int(x.size()), col, 2.2f);
            plot::markers("##m", x.data(), y.data(), int(x.size()), col, 3.0f);
            plot::line("##test", tx.data(), ty.data(), int(tx.size()), col, 1.6f, true);
            plot::markers("##tm", tx.data(), ty.data(), int(tx.size()), col, 2.5f);
        }
        plot::end_plot();
    }
    if (note) ImGui::TextWrapped("%s", note);
    if (learned) learned_steps_plot(*learned, emax, ImGui::GetContentRegionAvail().y, axis, xlabel);
    ImGui::EndChild();
}

}  // namespace

std::unique_ptr<PanelView> make_train_panel() { return std::make_unique<TrainPanel>(); }

}  // namespace quantlab::ui
