// trainer_host.hpp: core's trainer (ui/core_trainer.hpp, pumped) driven by messages, for a Web Worker of its own.
// The single-threaded page has no wasm threads, so a training step there held up a frame (150-300 ms at batch
// 64-128); in a dedicated worker with its own wasm instance the steps run beside the page's frames. The page's side
// is ui/remote_trainer.hpp; the messages are JSON (ui/train_wire.hpp) with a byte payload (a model, images,
// weights). ImGui-free: the unit tests connect the two ends directly.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace quantlab::ui {

class TrainerHost {
public:
    // A message to the page: JSON text and its payload (a run's weights; else empty).
    using Send = std::function<void(const std::string& json, std::vector<uint8_t> bytes)>;
    explicit TrainerHost(Send send);
    ~TrainerHost();
    TrainerHost(const TrainerHost&) = delete;
    TrainerHost& operator=(const TrainerHost&) = delete;

    // One message from the page (RemoteTrainer): the language, the loaded model, the test or training images, a run
    // to start, stop or resume. A message that cannot be read is reported back as an error, never thrown.
    void receive(const std::string& json, const uint8_t* bytes, size_t size);
    // Trains for about budget_ms (at least one step when there is work), then sends what changed: the runs' states,
    // messages and new curve points, and a run's weights when its steps moved on (at most every second while it
    // runs, and whenever it stops, fails or finishes). Returns whether a run is still queued or running.
    bool work(double budget_ms);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quantlab::ui
