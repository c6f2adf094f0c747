// trainer_host.cpp: see trainer_host.hpp. The page numbers its runs itself (RemoteTrainer::start returns at once),
// so the host maps the page's ids to the trainer's; a start the trainer refuses becomes a failed run with its message.
#include "ui/trainer_host.hpp"

#include <chrono>
#include <map>

#include "core/inference.hpp"
#include "core/network.hpp"
#include "core/safetensors_io.hpp"
#include "ui/core_trainer.hpp"
#include "ui/i18n.hpp"
#include "ui/train_wire.hpp"

namespace quantlab::ui {

namespace {

constexpr double kWeightsEveryMs = 1000;  // a running run's weights go to the page at most this often

double now_ms() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

struct TrainerHost::Impl {
    // What the page has of a run (to send only what changed).
    struct Sent {
        int trainer_id = 0;        // 0: the trainer refused the start (`refusal`)
        std::string refusal;
        size_t points = 0;
        int64_t weights_steps = -1;
        TrainState weights_state = TrainState::kQueued;
        double weights_ms = 0;
        std::string update;        // the last update sent for the run
    };

    Send send;
    CoreTrainer trainer;
    std::map<int, Sent> runs;  // by the page's id
    std::shared_ptr<const Model> model;
    std::string model_name;
    std::shared_ptr<const Cifar10> test;

    explicit Impl(Send s) : send(std::move(s)), trainer(options()) {}
    static CoreTrainerOptions options() {
        CoreTrainerOptions o;
        o.threaded = false;  // the worker's own loop pumps it
        return o;
    }

    void error(const std::string& message) { send(nlohmann::json{{"op", "error"}, {"message", message}}.dump(), {}); }

    void receive(const nlohmann::json& j, const uint8_t* bytes, size_t size) {
        const std::string op = j.value("op", "");
        if (op == "lang") {
            set_language(j.value("lang", 0) == int(Lang::kJa) ? Lang::kJa : Lang::kEn);
        } else if (op == "options") {
            trainer.set_test_options(j.value("limit_train", int64_t(-1)), j.value("max_steps", int64_t(-1)), j.value("val_every", int64_t(50)),
                                     j.value("seed", uint64_t(1)));
        } else if (op == "loaded") {
            model.reset();
            model_name = j.value("name", "");
            if (size) {
                Result<StateDict> sd = read_safetensors_bytes(bytes, size, model_name);
                Result<NetworkDesc> net = sd.ok() ? parse_network(j.value("net", "")) : Result<NetworkDesc>(sd.status);
                if (net.ok()) net.value.name = j.value("net_name", net.value.name);  // the text form has no name ("notebook_net")
                Result<Model> m = net.ok() ? Model::create(net.value, sd.value, model_name) : Result<Model>(net.status);
                if (!m.ok()) return error("the training worker could not read the loaded model: " + m.message());
                model = std::make_shared<const Model>(std::move(m.value));
            }
            trainer.set_loaded(model, model_name, test);
        } else if (op == "test") {
            const int64_t n = j.value("count", int64_t(0));
            if (n < 0 || size != size_t(n) * (1 + kCifar10ImageBytes)) return error("the training worker got test images of the wrong size");
            Cifar10 d;
            d.count = n;
            d.labels.assign(bytes, bytes + n);
            d.pixels.assign(bytes + n, bytes + size);
            test = n ? std::make_shared<const Cifar10>(std::move(d)) : nullptr;
            trainer.set_loaded(model, model_name, test);
        } else if (op == "data") {
            trainer.set_train_data(j.value("name", ""), bytes, size);  // bad records fail the waiting runs
        } else if (op == "data_failed") {
            trainer.train_data_failed(j.value("message", ""));
        } else if (op == "start") {
            Sent& s = runs[j.value("id", 0)];
            Result<int> id = trainer.start(run_config_from_json(j.value("config", nlohmann::json::object())));
            if (id.ok()) s.trainer_id = id.value;
            else s.refusal = id.message();
        } else if (op == "stop" || op == "resume") {
            auto it = runs.find(j.value("id", 0));
            if (it != runs.end() && it->second.trainer_id) {
                if (op == "stop") trainer.stop(it->second.trainer_id);
                else trainer.resume(it->second.trainer_id);
            }
        } else {
            error("the training worker does not know the message '" + op + "'");
        }
    }

    void send_updates() {
        const std::vector<TrainRun> views = trainer.runs();
        std::map<int, nlohmann::json> numbers;  // the trainer's status line of each run, by its id
        nlohmann::json status = nlohmann::json::parse(trainer.status_json());
        for (const nlohmann::json& r : status["runs"]) numbers[r.value("id", 0)] = r;
        std::map<int, const TrainRun*> view_of;  // by the trainer's id
        for (const TrainRun& r : views) view_of[r.id] = &r;
        nlohmann::json list = nlohmann::json::array();
        for (auto& [id, s] : runs) {
            nlohmann::json u{{"id", id}};
            const TrainRun* v = s.trainer_id && view_of.count(s.trainer_id) ? view_of[s.trainer_id] : nullptr;
            if (!v) {
                u["state"] = int(TrainState::kFailed);
                u["message"] = s.refusal;
                u["points_from"] = 0;
                u["points"] = nlohmann::json::array();
            } else {
                nlohmann::json points = nlohmann::json::array();
                for (size_t i = s.points; i < v->points.size(); ++i) points.push_back(point_json(v->points[i]));
                u["state"] = int(v->state);
                u["message"] = v->message;
                u["layers"] = v->layers;
                u["points_from"] = s.points;
                u["points"] = std::move(points);
                nlohmann::json n = numbers.count(s.trainer_id) ? numbers[s.trainer_id] : nlohmann::json::object();
                n["id"] = id;
                u["status"] = std::move(n);
                s.points = v->points.size();
            }
            std::string text = u.dump();
            if (text == s.update) continue;
            s.update = text;
            list.push_back(std::move(u));
        }
        if (!list.empty()) send(nlohmann::json{{"op", "update"}, {"runs", std::move(list)}}.dump(), {});
        // The weights, for Use and Download on the page (it cannot wait for the worker).
        for (auto& [id, s] : runs) {
            if (!s.trainer_id || !view_of.count(s.trainer_id)) continue;
            const int64_t steps = numbers.count(s.trainer_id) ? numbers[s.trainer_id].value("steps", int64_t(0)) : 0;
            const TrainState state = view_of[s.trainer_id]->state;
            const bool running = state == TrainState::kRunning;
            if (steps == 0 || (steps == s.weights_steps && state == s.weights_state)) continue;
            if (running && s.weights_state == TrainState::kRunning && now_ms() - s.weights_ms < kWeightsEveryMs) continue;
            Result<std::vector<uint8_t>> w = trainer.weights_file(s.trainer_id);
            if (!w.ok()) continue;
            s.weights_steps = steps;
            s.weights_state = state;
            s.weights_ms = now_ms();
            send(nlohmann::json{{"op", "weights"}, {"id", id}, {"steps", steps}}.dump(), std::move(w.value));
        }
    }
};

TrainerHost::TrainerHost(Send send) : impl_(std::make_unique<Impl>(std::move(send))) {}
TrainerHost::~TrainerHost() = default;

void TrainerHost::receive(const std::string& json, const uint8_t* bytes, size_t size) {
    nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return impl_->error("the training worker got a message that is not JSON");
    try {
        impl_->receive(j, bytes, size);
    } catch (const nlohmann::json::exception& e) {  // a field of the wrong type
        impl_->error(std::string("the training worker could not read a message: ") + e.what());
    }
    impl_->send_updates();
}

bool TrainerHost::work(double budget_ms) {
    impl_->trainer.pump(budget_ms);
    impl_->send_updates();
    return impl_->trainer.busy();
}

}  // namespace quantlab::ui
