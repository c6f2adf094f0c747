// quant_config_io.hpp: QuantConfig <-> JSON text, as stored in a weights file's __metadata__ under
// "quant_config" (per-layer weight/activation specs, activation mode, calibrated ranges) and as the
// command line and the web page's URL state describe it. Reading validates everything it parses.
#pragma once
#include <string>

#include "core/quant_config.hpp"

namespace quantlab {

std::string quant_config_to_json(const QuantConfig& config, const NetworkDesc& net);
Result<QuantConfig> quant_config_from_json(const std::string& text, const NetworkDesc& net, const std::string& source);

// Metadata keys QuantLab writes into the safetensors header.
constexpr const char* kMetaFormatVersion = "quantlab_format_version";
constexpr const char* kMetaQuantConfig = "quant_config";
constexpr const char* kMetaModelDesc = "model_desc";
constexpr const char* kCurrentFormatVersion = "1";

}  // namespace quantlab
