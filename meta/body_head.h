// How ANIL and Prototypical Networks see a model: a body and a head.
//
// Note [Body and head]
// Both algorithms split f_θ = head ∘ body. ANIL (Raghu et al. 2020) adapts only the
// head in its inner loop; ProtoNets (Snell et al. 2017) drop the head and use the
// body's output as the embedding. For an nn::Sequential model the split is:
//
//   head = the last layer that has parameters (the classifier or the output Linear:
//          "4" of the sinusoid MLP, the final Linear of conv4),
//   body = every layer before it (parameter-free layers after the head, if any, are
//          part of neither and run after it in forward()).
//
// Because Sequential lists parameters in layer order, the body's parameters are a
// prefix of model.parameters() and the head's the rest: θ = (θ_body, θ_head) is one
// split index, so both algorithms keep using the model's functional forward on the
// whole list. Nothing in nn/ had to change; the rule lives here, with its users.
#pragma once

#include <cstddef>
#include <span>

#include "autograd/tensor.h"
#include "nn/sequential.h"

namespace mg::meta {

struct BodyHead {
  std::size_t head_layer = 0;   // the index of the head in the Sequential
  std::size_t body_params = 0;  // parameters() [0, body_params) are the body's, the rest the head's
};

// The split of Note [Body and head]; ValueError naming `who` when no layer has parameters.
BodyHead split_body_head(nn::Sequential& model, const char* who);

// The body's output: layers [0, head_layer) of `model` run on x with `body`, the first
// body_params tensors of a parameter list (model.parameters() order).
Tensor embed(nn::Sequential& model, const BodyHead& split, const Tensor& x, std::span<const Tensor> body);

}  // namespace mg::meta
