// arch_diagram.hpp: the network drawn as a row of blocks (input, conv, BN, ReLU, pool, flatten, linear,
// logits) with the fake-quant points of the notebook's QuantConv2d / QuantLinear marked: a diamond on each
// conv/linear layer's input (A, activation bits) and on its weight (W, weight bits), labelled with the
// state's current bits; float layers get a hollow marker. Built from the NetworkDesc, so a wider or deeper
// variant draws itself. ImGui draw lists only; shown at the top of the network panel.
#pragma once
#include "core/network.hpp"
#include "ui/state.hpp"

namespace quantlab::ui {

// The diagram's height at the current font size.
float arch_diagram_height();

// Draws the diagram across `width` pixels at the cursor (the text shrinks when the row would not fit) and
// advances the cursor. With `max_height` above one row's height, a row whose text would shrink below 0.8 of
// the font size wraps into two rows (at flatten, else halfway) when that fits: larger text at a projector.
// The selected conv/linear layer (s.net_layer) is outlined. Returns the index among the conv/linear layers
// of a block clicked this frame, else -1.
int draw_arch_diagram(const NetworkDesc& net, const UiState& s, float width, float max_height = 0);

}  // namespace quantlab::ui
