// commands.hpp: how subcommands plug into `quantlab`: each cmd_*.cpp adds its CLI11 subcommand(s) and
// the function that runs them; main() parses and runs the one the user chose.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <utility>
#include <vector>

namespace quantlab::cli {

using Commands = std::vector<std::pair<CLI::App*, std::function<int()>>>;

void add_eval_commands(CLI::App& root, Commands& cmds);   // eval, sweep
void add_sensitivity_command(CLI::App& root, Commands& cmds);  // sensitivity
void add_mixed_command(CLI::App& root, Commands& cmds);        // mixed
void add_file_commands(CLI::App& root, Commands& cmds);   // info, convert
void add_data_commands(CLI::App& root, Commands& cmds);   // data fetch / data check
void add_train_commands(CLI::App& root, Commands& cmds);  // train (--engine core|torch), export

}  // namespace quantlab::cli
