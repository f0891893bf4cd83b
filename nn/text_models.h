// The few-shot text classifiers of issue 17 as builders, over padded token
// matrices ids [n, L] (datasets/text_episodes.h), layers from nn/text_layers.h.
//
//  * text_bag_model: the mean of each text's token and hashed n-gram embeddings
//    (fastText's bag, Joulin et al. 2017), a ReLU layer, a head of `ways` outputs:
//      ids -> EmbeddingBag(V, dim) -> Linear(dim, hidden) -> ReLU -> Linear(hidden, ways)
//    With count_path, a CountHead (Note [The count path], nn/text_layers.h) is added to
//    the logits, so that the network starts from what the training-free floor uses:
//      logits = mlp(bag(ids)) + s · ⟨x̂, W⟩, built as Sequential[ParallelSum(mlp ∘ bag, CountHead)].
//  * text_cnn: word embeddings, 1-D convolutions of several widths, max over time, a head
//    (Kim 2014):  ids -> Embedding(V, dim) -> TextConv(dim, filters, widths) -> Linear(filters·|widths|, ways)
// Parameters in parameters() order; the functional forward (MAML's θ'ᵢ) works as for any Sequential.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/random.h"
#include "nn/sequential.h"

namespace mg::nn {

struct TextBagOptions {
  std::int64_t num_ids = 0;  // the tokenizer's vocab_size()
  std::int64_t dim = 64;
  std::int64_t hidden = 128;
  std::int64_t ways = 5;
  bool count_path = false;
  double count_scale = 4.0;  // s at initialisation
  DType dtype = DType::F32;
};

struct TextCnnOptions {
  std::int64_t num_ids = 0;
  std::int64_t dim = 64;
  std::int64_t filters = 32;  // per width
  std::vector<int> widths = {3, 4, 5};
  std::int64_t ways = 5;
  DType dtype = DType::F32;
};

// ValueError when a size is < 1.
Sequential text_bag_model(const TextBagOptions& options, Generator& gen);
Sequential text_cnn(const TextCnnOptions& options, Generator& gen);

}  // namespace mg::nn
