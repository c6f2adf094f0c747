// web/train_worker.cpp: the single-threaded page's training worker. A Web Worker of its own (glue.js starts it with
// the first run) runs this wasm: core's trainer behind ui/trainer_host.hpp, no ImGui, no GL, no preloaded files. Its
// message loop is web/train_worker_pre.js; the page's end is ui/remote_trainer.hpp (web/main.cpp). Without wasm
// threads this is how training leaves the page's frames alone. Web only.
#include <emscripten.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ui/trainer_host.hpp"

namespace {

quantlab::ui::TrainerHost& host() {
    // To the page: {json, bytes} (bytes transferred, not copied twice).
    static quantlab::ui::TrainerHost h([](const std::string& json, std::vector<uint8_t> bytes) {
        EM_ASM(
            {
                const b = HEAPU8.slice($1, $1 + $2);
                postMessage({json : UTF8ToString($0), bytes : b}, [b.buffer]);
            },
            json.c_str(), bytes.data(), int(bytes.size()));
    });
    return h;
}

}  // namespace

extern "C" {
// A message from the page: its JSON and payload (copied into the heap by train_worker_pre.js).
EMSCRIPTEN_KEEPALIVE void tw_receive(const char* json, const uint8_t* bytes, int size) { host().receive(json, bytes, size_t(size > 0 ? size : 0)); }
// A slice of training (at least one step when there is work): 1 while runs remain.
EMSCRIPTEN_KEEPALIVE int tw_work(double budget_ms) { return host().work(budget_ms) ? 1 : 0; }
}

int main() { return 0; }  // the runtime stays alive (no EXIT_RUNTIME): the worker waits for messages
