// bundled_model.hpp: the notebook's pretrained network from assets/ as a float Model, for the unit tests that
// evaluate a real model (sensitivity, the evaluation service). Fails the test when the file cannot be opened.
#pragma once
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "core/model_file.hpp"

namespace quantlab::test {

inline Model bundled_model() {
    Result<ModelFile> f = open_model(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
    REQUIRE(f.ok());
    return std::move(f.value.model);
}

}  // namespace quantlab::test
