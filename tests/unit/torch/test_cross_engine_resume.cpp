// test_cross_engine_resume.cpp: a checkpoint of one engine resumes in the other (the shared training state file,
// core/train/resume_state.hpp): 2 steps on engine A, a stop (checkpoint), then 3 more steps resumed on A and,
// from a copy of the same checkpoint, on B. B's losses and weights must be A's, up to the engines' float
// rounding: both directions (core -> torch, torch -> core), for SGD and Adam in float (the optimizer state crosses:
// momentum buffers, moments and step counts) and SGD with LSQ at W4A4 (the learned steps cross too).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/safetensors_io.hpp"
#include "core/train/run.hpp"
#include "native/trainer/trainer.hpp"
#include "tests/support/test_files.hpp"
#include "tests/support/torch_runs.hpp"
#include "tests/support/bias_before_bn.hpp"

using namespace quantlab;
using quantlab::test::bias_before_bn;
using namespace quantlab::trainer;
namespace fs = std::filesystem;

namespace {

struct Leg {
    TrainReport rep;
    StateDict weights;
};

TrainReport run_on(Engine e, const TrainOptions& o) { return e == Engine::kCore ? train_core(o) : train(o); }

// Resumes the checkpoint in `dir` on engine e for 3 steps (stopping there writes the checkpoint read back).
Leg resume_on(Engine e, TrainOptions o, const fs::path& dir) {
    o.checkpoint_dir = dir.string();
    o.resume = (dir / "last.safetensors").string();
    o.stop_after = 3;
    Leg l;
    l.rep = run_on(e, o);
    REQUIRE(l.rep.status.ok());
    REQUIRE(l.rep.stopped);
    Result<StateDict> w = read_safetensors(o.resume);
    REQUIRE(w.ok());
    CHECK(w.value.metadata.at("checkpoint_step") == "5");
    l.weights = std::move(w.value);
    return l;
}

}  // namespace

TEST_CASE("a checkpoint of either engine resumes in the other with its optimizer state and learned steps",
          "[torch][trainer][resume]") {
    struct Case {
        const char* name;
        int bits;
        Optimizer opt;
        QuantizerKind qz;
        double first_tol, loss_tol, tol;  // the first resumed loss (the same weights and batch); the later ones; the weights
    };
    // Relative tolerances: |B - A| / |A| per loss, max |B - A| / max |A| per tensor, from measurement (x86-64 AVX2,
    // LibTorch 1.13; worst seen in brackets). Float: the engines' rounding (SGD 1.4e-6 losses and weights; Adam
    // 5.3e-6, 6.1e-6): 1e-4. A fresh optimizer state instead would be off by about 3e-3 (SGD's missing momentum).
    // W4A4: the first resumed loss is of the same weights, learned steps and codes, so it is the crossing's own
    // test: 1e-5. Later steps differ where rounding decides a max-pool tie or a code (test_core_trajectory.cpp):
    // the losses by up to 1.0e-2, bound 5e-2; the weights by 4.1e-4, bound 1e-2.
    const Case cases[] = {
        {"float SGD", kFloatBits, Optimizer::kSgd, QuantizerKind::kFixed, 1e-4, 1e-4, 1e-4},
        {"float Adam", kFloatBits, Optimizer::kAdam, QuantizerKind::kFixed, 1e-4, 1e-4, 1e-4},
        {"LSQ W4A4 SGD", 4, Optimizer::kSgd, QuantizerKind::kLsq, 1e-5, 5e-2, 1e-2},
    };
    const NetworkDesc net = notebook_net();
    for (const Case& c : cases)
        for (Engine a : {Engine::kCore, Engine::kTorch}) {
            const Engine b = a == Engine::kCore ? Engine::kTorch : Engine::kCore;
            CAPTURE(c.name, a == Engine::kCore ? "core -> torch" : "torch -> core");
            const fs::path root = test::scratch_dir(
                "quantlab_cross_resume", std::string(c.name).substr(0, 5) + (a == Engine::kCore ? "_c" : "_t"));
            TrainOptions o = test::tiny_run_options((root / "start").string());
            o.quant = make_config(net, c.bits, c.bits);
            o.optimizer = c.opt;
            o.quantizer = c.qz;
            o.lr = c.opt == Optimizer::kSgd ? 0.01 : 1e-3;
            o.weight_decay = 5e-4;
            o.limit_train = 128;  // 4 steps of 32 an epoch, no validation: the test is about the steps
            o.batch = 32;
            o.val_fraction = 0;
            o.val_every = 0;
            o.final_eval = false;
            o.stop_after = 2;
            const TrainReport first = run_on(a, o);
            REQUIRE(first.status.ok());
            REQUIRE(first.stopped);
            fs::copy(root / "start", root / "a");
            fs::copy(root / "start", root / "b");
            const Leg la = resume_on(a, o, root / "a"), lb = resume_on(b, o, root / "b");
            REQUIRE(la.rep.losses.size() == 3);
            REQUIRE(lb.rep.losses.size() == 3);
            double worst_loss = 0, worst_w = 0;
            std::string worst_name;
            for (size_t i = 0; i < 3; ++i) {
                const double e = std::fabs(lb.rep.losses[i] - la.rep.losses[i]) / std::fabs(la.rep.losses[i]);
                CAPTURE(i, la.rep.losses[i], lb.rep.losses[i]);
                CHECK(e < (i == 0 ? c.first_tol : c.loss_tol));
                worst_loss = std::max(worst_loss, e);
            }
            for (const ParamDesc& p : net.params()) {
                if (p.int64 || (c.opt != Optimizer::kSgd && bias_before_bn(net, p.name))) continue;
                const std::vector<float>& x = la.weights.find(p.name)->data;
                const std::vector<float>& y = lb.weights.find(p.name)->data;
                double e = 0, m = 0;
                for (size_t k = 0; k < x.size(); ++k)
                    e = std::max(e, std::fabs(double(x[k]) - y[k])), m = std::max(m, std::fabs(double(x[k])));
                const double rel = m > 0 ? e / m : e;
                CAPTURE(p.name, rel);
                CHECK(rel < c.tol);
                if (rel > worst_w) worst_w = rel, worst_name = p.name;
            }
            if (c.qz != QuantizerKind::kFixed) {  // the learned steps, in both runs' training state files
                Result<StateDict> sa = read_safetensors((root / "a" / "last.state.safetensors").string());
                Result<StateDict> sb = read_safetensors((root / "b" / "last.state.safetensors").string());
                REQUIRE(sa.ok());
                REQUIRE(sb.ok());
                int learned = 0;
                for (const std::string& n : sa.value.names) {
                    if (n.rfind("learned.", 0) != 0) continue;
                    ++learned;
                    const float x = sa.value.find(n)->data[0], y = sb.value.find(n)->data[0];
                    CAPTURE(n, x, y);
                    CHECK(x > 0);
                    CHECK(std::fabs(x - y) <= c.tol * x);
                }
                CHECK(learned == 10);  // 5 layers: a weight step and an input step each
            }
            WARN(c.name << (a == Engine::kCore ? " core -> torch" : " torch -> core") << ": worst loss error "
                        << worst_loss << ", worst weight error " << worst_w << " (" << worst_name << ")");
        }
}
