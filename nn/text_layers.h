// Layers for few-shot text classification (issue 17), over padded token matrices
// ids [n, L] int64 with 0 as the pad (Note [Padded token matrices] in
// datasets/text_episodes.h). Like every module they run with their own parameters
// or with an explicit list (MAML's θ'ᵢ), in float32 or float64.
//
//   EmbeddingBag(V, D)      ids -> [n, D]       the mean of each text's id vectors
//   Embedding(V, D)         ids -> [n, D, L]    word vectors, channels first (for conv1d), zeros at pads
//   TextConv(D, F, widths)  [n, D, L] -> [n, F·|widths|]   per width k: max over time of relu(conv1d)
//   CountHead(V, ways)      ids -> [n, ways]    s · ⟨x̂ᵢ, W⟩, x̂ᵢ the L2-normalised id counts of text i
//
// Note [The count path]: the training-free floor of ../shared/REFERENCE.md ("Few-shot
// text") classifies a query by the nearest class mean of x̂. CountHead gives a learned
// model that same evidence: W [V, ways] starts at zero, so before adaptation it adds
// nothing, and one inner SGD step on the support set's cross-entropy (mean over the
// n = N·K support texts, step α) makes
//   W = α·s/n · Σᵢ (onehot(yᵢ) − pᵢ) x̂ᵢᵀ,   pᵢ = softmax of the logits before the step,
// so a query's count logits become α·s²/n · Σᵢ (onehot(yᵢ) − pᵢ)_c ⟨x̂_q, x̂ᵢ⟩: with
// uniform pᵢ (an unadapted head) that is, up to a term equal for every class, K·α·s²/n
// times ⟨x̂_q, μ_c⟩, the floor's nearest-mean score with cosine similarity. The scalar s
// (a parameter) is the temperature meta-learning sets. The rest of the network adds
// what it learns on top. The path is an embedding bag over W: Σ_v count_v W[v] / c
// times c/‖count‖₂ (c the number of ids), so it costs one bag of width `ways`.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/random.h"
#include "nn/module.h"

namespace mg::nn {

class EmbeddingBag : public Module {
 public:
  // weight [num_ids, dim] ~ N(0, 1), as PyTorch's.
  EmbeddingBag(std::int64_t num_ids, std::int64_t dim, Generator& gen, DType dtype = DType::F32);
  Tensor forward_with(const Tensor& ids, ParamCursor& params) override;
  using Module::forward;
};

class Embedding : public Module {
 public:
  // weight [num_ids, dim] ~ N(0, 1); the pad's row is read as zeros.
  Embedding(std::int64_t num_ids, std::int64_t dim, Generator& gen, DType dtype = DType::F32);
  Tensor forward_with(const Tensor& ids, ParamCursor& params) override;
  using Module::forward;
};

class TextConv : public Module {
 public:
  // One conv1d of `filters` filters per width (PyTorch's default init), padded by
  // width − 1 on each side so that a text shorter than the widest filter still has outputs.
  TextConv(std::int64_t channels, std::int64_t filters, const std::vector<int>& widths, Generator& gen,
           DType dtype = DType::F32);
  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  using Module::forward;

 private:
  std::vector<int> widths_;
};

class CountHead : public Module {
 public:
  // W [num_ids, ways] zeros, s = scale (Note [The count path]).
  CountHead(std::int64_t num_ids, std::int64_t ways, double scale, DType dtype = DType::F32);
  Tensor forward_with(const Tensor& ids, ParamCursor& params) override;
  using Module::forward;
};

// c/‖count‖₂ for each row of ids [n, L] (0 for a row of pads only) as a [n, 1] tensor of
// `dtype`: what turns a mean over a row's ids into the inner product with its L2-normalised counts.
Tensor count_norm_scale(const Tensor& ids, DType dtype);

}  // namespace mg::nn
