// main.cpp: the `quantlab` command line. Subcommands live in cmd_*.cpp; this file only dispatches.
#include <cstdio>

#include "native/cli/commands.hpp"

int main(int argc, char** argv) {
    using namespace quantlab::cli;
    CLI::App app{"QuantLab: learn neural-network quantization on a real CIFAR-10 CNN.\n"
                 "Runs the notebook's network in float, fake-quant and integer arithmetic, sweeps bit widths,\n"
                 "and fine-tunes it with a straight-through estimator (core's engine, or LibTorch's where built).",
                 "quantlab"};
    app.set_version_flag("--version", std::string("quantlab ") + QUANTLAB_VERSION);
    app.require_subcommand(1);
    Commands cmds;
    add_eval_commands(app, cmds);
    add_sensitivity_command(app, cmds);
    add_mixed_command(app, cmds);
    add_file_commands(app, cmds);
    add_data_commands(app, cmds);
    add_train_commands(app, cmds);  // --engine core everywhere, --engine torch with LibTorch
    CLI11_PARSE(app, argc, argv);
    for (auto& [sub, run] : cmds)
        if (sub->parsed()) return run();
    return 0;
}
