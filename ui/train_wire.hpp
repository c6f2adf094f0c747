// train_wire.hpp: the JSON form of a training run's config and curve points, for the single-threaded page's
// training worker (ui/trainer_host.hpp runs core's trainer in a Web Worker; ui/remote_trainer.hpp mirrors it in
// the page). Both ends are the same build, so enums travel as their values; doubles travel with 17 digits (exact),
// so a run started through the worker trains the weights a local one would.
#pragma once
#include <nlohmann/json.hpp>

#include "ui/trainer_hooks.hpp"

namespace quantlab::ui {

nlohmann::json run_config_json(const TrainRunConfig& c);
TrainRunConfig run_config_from_json(const nlohmann::json& j);  // missing keys keep TrainRunConfig's defaults

nlohmann::json point_json(const TrainPoint& p);
TrainPoint point_from_json(const nlohmann::json& j);

}  // namespace quantlab::ui
