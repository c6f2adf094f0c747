// remote_trainer.cpp: see remote_trainer.hpp. Single-threaded (the page's main thread): no locks.
#include "ui/remote_trainer.hpp"

#include <map>

#include <nlohmann/json.hpp>

#include "core/dataset.hpp"
#include "core/safetensors_io.hpp"
#include "ui/core_trainer.hpp"
#include "ui/i18n.hpp"
#include "ui/train_wire.hpp"

namespace quantlab::ui {

struct RemoteTrainer::Impl {
    struct Run {
        TrainRun view;
        nlohmann::json numbers;       // the worker's status line (steps, loss, accuracies, ...)
        std::string worker_message;   // the worker's last message (a local one, "downloaded as", stays until it changes)
        std::vector<uint8_t> weights; // the latest the worker sent (empty: none yet)
    };

    RemoteTrainerOptions opt;
    std::map<int, Run> runs;
    int next_id = 1;
    bool connected = false;  // the worker has been started (with the first run)
    std::string dead;        // why the worker stopped ("": it did not); its runs are failed, new ones fail at once
    Lang sent_lang = Lang::kEn;
    // What the worker must have; kept until it is started.
    std::shared_ptr<const Model> model;
    std::string model_name;
    std::shared_ptr<const Cifar10> test;
    std::vector<uint8_t> train_bytes;  // until sent
    std::string data_name;
    int64_t data_count = 0;
    bool wants_data = false;
    int64_t limit_train = -1, max_steps = -1, val_every = 50;
    uint64_t seed = 1;

    void send(const nlohmann::json& j, const uint8_t* bytes = nullptr, size_t size = 0) { opt.send(j.dump(), bytes, size); }

    void send_lang() {
        sent_lang = language();
        send({{"op", "lang"}, {"lang", int(sent_lang)}});
    }
    void send_options() { send({{"op", "options"}, {"limit_train", limit_train}, {"max_steps", max_steps}, {"val_every", val_every}, {"seed", seed}}); }
    void send_model() {
        std::vector<uint8_t> bytes;
        if (model) {
            Result<std::vector<uint8_t>> b = write_safetensors_bytes(model->weights());
            if (b.ok()) bytes = std::move(b.value);
        }
        send({{"op", "loaded"},
              {"name", model_name},
              {"net", model ? model->desc().to_text() : std::string()},
              {"net_name", model ? model->desc().name : std::string()}},
             bytes.data(), bytes.size());
    }
    void send_test() {
        std::vector<uint8_t> bytes;
        if (test) {
            bytes.reserve(test->labels.size() + test->pixels.size());
            bytes.insert(bytes.end(), test->labels.begin(), test->labels.end());
            bytes.insert(bytes.end(), test->pixels.begin(), test->pixels.end());
        }
        send({{"op", "test"}, {"count", test ? test->count : 0}}, bytes.data(), bytes.size());
    }
    void send_data() {
        if (train_bytes.empty()) return;
        send({{"op", "data"}, {"name", data_name}}, train_bytes.data(), train_bytes.size());
        train_bytes = std::vector<uint8_t>();  // the worker has its copy
    }
    void connect() {
        if (connected) return;
        connected = true;
        send_lang();
        send_options();
        send_model();
        send_test();
        send_data();
    }

    Run* find(int id) {
        auto it = runs.find(id);
        return it == runs.end() ? nullptr : &it->second;
    }

    void update(const nlohmann::json& u) {
        Run* r = find(u.value("id", 0));
        if (!r || !dead.empty()) return;
        TrainRun& v = r->view;
        v.state = TrainState(u.value("state", int(v.state)));
        if (const std::string m = u.value("message", ""); m != r->worker_message) v.message = r->worker_message = m;
        if (auto it = u.find("layers"); it != u.end()) v.layers = it->get<std::vector<std::string>>();
        const size_t from = u.value("points_from", v.points.size());
        if (from < v.points.size()) v.points.resize(from);
        if (from == v.points.size())
            for (const nlohmann::json& p : u.value("points", nlohmann::json::array())) v.points.push_back(point_from_json(p));
        if (auto it = u.find("status"); it != u.end()) r->numbers = *it;
    }
};

RemoteTrainer::RemoteTrainer(RemoteTrainerOptions options) : impl_(std::make_unique<Impl>()) { impl_->opt = std::move(options); }
RemoteTrainer::~RemoteTrainer() = default;

void RemoteTrainer::receive(const std::string& json, const uint8_t* bytes, size_t size) {
    const nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    try {
        const std::string op = j.value("op", "");
        if (op == "update") {
            for (const nlohmann::json& u : j.value("runs", nlohmann::json::array())) impl_->update(u);
        } else if (op == "weights") {
            if (Impl::Run* r = impl_->find(j.value("id", 0))) r->weights.assign(bytes, bytes + size);
        } else if (op == "error") {  // a message the worker could not use: the page's bug, said where it shows
            worker_failed(j.value("message", ""));
        }
    } catch (const nlohmann::json::exception&) {  // a field of the wrong type: the message is dropped
    }
}

void RemoteTrainer::worker_failed(const std::string& message) {
    if (impl_->dead.empty()) impl_->dead = message;
    for (auto& [id, r] : impl_->runs)
        if (train_active(r.view.state)) {
            r.view.state = TrainState::kFailed;
            r.view.message = "train: " + message;
        }
}

Status RemoteTrainer::set_train_data(const std::string& name, const uint8_t* data, size_t size) {
    Impl& m = *impl_;
    // Checked here too (the caller gets the message now), without a copy: all five batches are 150 MB.
    Result<int64_t> count = check_dataset_bytes(data, size, Dataset::kCifar10, name);
    if (!count.ok()) {
        train_data_failed("the training images could not be used: " + count.message());
        return count.status;
    }
    m.data_name = name;
    m.data_count = count.value;
    m.wants_data = false;
    if (m.connected) m.send({{"op", "data"}, {"name", name}}, data, size);
    else m.train_bytes.assign(data, data + size);  // until the worker starts
    return Status::success();
}

void RemoteTrainer::train_data_failed(const std::string& message) {
    Impl& m = *impl_;
    m.wants_data = false;
    for (auto& [id, r] : m.runs)
        if (r.view.state == TrainState::kQueued && !r.view.points.size()) {
            r.view.state = TrainState::kFailed;
            r.view.message = "train: " + message;
        }
    if (m.connected) m.send({{"op", "data_failed"}, {"message", message}});
}

bool RemoteTrainer::wants_train_data() const { return impl_->wants_data && !impl_->data_count; }
int64_t RemoteTrainer::train_images() const { return impl_->data_count; }

void RemoteTrainer::set_test_options(int64_t limit_train, int64_t max_steps, int64_t val_every, uint64_t seed) {
    Impl& m = *impl_;
    m.limit_train = limit_train;
    m.max_steps = max_steps;
    m.val_every = val_every;
    m.seed = seed;
    if (m.connected) m.send_options();
}

std::string RemoteTrainer::device() const { return tr(impl_->opt.device.c_str()); }

Result<int> RemoteTrainer::start(const TrainRunConfig& config) {
    Impl& m = *impl_;
    m.connect();
    const int id = m.next_id++;
    Impl::Run& r = m.runs[id];
    r.view.id = id;
    r.view.config = config;
    if (!m.dead.empty()) {  // no worker to train it
        r.view.state = TrainState::kFailed;
        r.view.message = "train: " + m.dead;
        return id;
    }
    r.view.state = TrainState::kQueued;
    r.view.message = tr(m.data_count ? "queued" : "loading the training images...");
    if (!m.data_count) m.wants_data = true;
    m.send({{"op", "start"}, {"id", id}, {"config", run_config_json(config)}});
    return id;
}

Status RemoteTrainer::stop(int run_id) {
    Impl::Run* r = impl_->find(run_id);
    if (!r) return Status::error("train: no run #" + std::to_string(run_id));
    if (r->view.state != TrainState::kQueued && r->view.state != TrainState::kRunning)
        return Status::error("train: run #" + std::to_string(run_id) + " is not running");
    r->view.message = tr("stopping after the current step...");
    impl_->send({{"op", "stop"}, {"id", run_id}});
    return Status::success();
}

Status RemoteTrainer::resume(int run_id) {
    Impl::Run* r = impl_->find(run_id);
    if (!r) return Status::error("train: no run #" + std::to_string(run_id));
    if (r->view.state != TrainState::kStopped) return Status::error("train: run #" + std::to_string(run_id) + " is not stopped");
    r->view.state = TrainState::kQueued;
    r->view.message = tr("queued to resume");
    impl_->send({{"op", "resume"}, {"id", run_id}});
    return Status::success();
}

std::vector<TrainRun> RemoteTrainer::runs() const {
    std::vector<TrainRun> out;
    for (const auto& [id, r] : impl_->runs) out.push_back(r.view);
    return out;
}

Result<std::vector<uint8_t>> RemoteTrainer::weights_file(int run_id) {
    Impl::Run* r = impl_->find(run_id);
    if (!r) return Status::error("train: no run #" + std::to_string(run_id));
    if (r->weights.empty()) return Status::error("train: run #" + std::to_string(run_id) + " has no trained weights yet (it has not taken a step)");
    return r->weights;
}

Status RemoteTrainer::export_weights(int run_id, const std::string& path) {
    if (path.empty()) return Status::error("export: no file name given");
    Result<std::vector<uint8_t>> bytes = weights_file(run_id);
    if (!bytes.ok()) return bytes.status;
    Status s = impl_->opt.save_file ? impl_->opt.save_file(path, bytes.value) : Status::error("export: this page cannot save files");
    if (s) impl_->find(run_id)->view.message = tr_format("downloaded as %s", path.c_str());
    return s;
}

void RemoteTrainer::set_loaded(std::shared_ptr<const Model> model, const std::string& name, std::shared_ptr<const Cifar10> test) {
    Impl& m = *impl_;
    const bool new_model = model != m.model || name != m.model_name, new_test = test != m.test;
    m.model = std::move(model);
    m.model_name = name;
    m.test = std::move(test);
    if (!m.connected) return;
    if (new_model) m.send_model();
    if (new_test) m.send_test();
}

void RemoteTrainer::pump(double /*budget_ms*/) {
    if (impl_->connected && language() != impl_->sent_lang) impl_->send_lang();
}

bool RemoteTrainer::busy() const {
    for (const auto& [id, r] : impl_->runs)
        if (train_active(r.view.state)) return true;
    return false;
}

std::string RemoteTrainer::train_data_label() const { return train_data_label_for(impl_->data_name, impl_->data_count); }

std::string RemoteTrainer::status_json() const {
    const Impl& m = *impl_;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [id, r] : m.runs) {
        nlohmann::json n = r.numbers.is_object() ? r.numbers
                                                 : nlohmann::json{{"steps", 0}, {"epoch", 0.0}, {"loss", -1.0}, {"first_loss", -1.0}, {"val", -1.0},
                                                                  {"test", -1.0}, {"ptq_test", -1.0}, {"images_per_s", 0.0}};
        n["id"] = id;
        n["state"] = train_state_name(r.view.state);
        n["message"] = r.view.message;
        n["points"] = r.view.points.size();
        list.push_back(std::move(n));
    }
    return nlohmann::json{{"runs", list}, {"device", device()}, {"train_images", m.data_count}, {"data", m.data_name}, {"wants_data", wants_train_data()}, {"busy", busy()}}
        .dump();
}

}  // namespace quantlab::ui
