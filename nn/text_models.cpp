#include "nn/text_models.h"

#include <fmt/format.h>

#include <memory>

#include "autograd/errors.h"
#include "autograd/ops.h"
#include "nn/activations.h"
#include "nn/linear.h"
#include "nn/text_layers.h"

namespace mg::nn {

namespace {

// y = Σ_k child_k(x): the branches of a network that read the same input.
class ParallelSum : public Module {
 public:
  ParallelSum() : Module("ParallelSum") {}
  void add(std::unique_ptr<Module> branch) { add_module(std::to_string(num_children()), std::move(branch)); }
  Tensor forward_with(const Tensor& x, ParamCursor& params) override {
    Tensor y = child(0).run(x, params);
    for (std::size_t i = 1; i < num_children(); ++i) y = y + child(i).run(x, params);
    return y;
  }
};

void check_sizes(const char* builder, std::initializer_list<std::pair<const char*, std::int64_t>> sizes) {
  for (const auto& s : sizes)
    if (s.second < 1) throw ValueError(fmt::format("{}: {} must be >= 1, got {}", builder, s.first, s.second));
}

}  // namespace

Sequential text_bag_model(const TextBagOptions& o, Generator& gen) {
  check_sizes("text_bag_model", {{"num_ids", o.num_ids}, {"dim", o.dim}, {"hidden", o.hidden}, {"ways", o.ways}});
  auto mlp = std::make_unique<Sequential>();
  mlp->emplace<EmbeddingBag>(o.num_ids, o.dim, gen, o.dtype);
  mlp->emplace<Linear>(o.dim, o.hidden, gen, true, o.dtype);
  mlp->emplace<ReLU>();
  mlp->emplace<Linear>(o.hidden, o.ways, gen, true, o.dtype);
  if (!o.count_path) return std::move(*mlp);
  auto sum = std::make_unique<ParallelSum>();
  sum->add(std::move(mlp));
  sum->add(std::make_unique<CountHead>(o.num_ids, o.ways, o.count_scale, o.dtype));
  Sequential net;
  net.add(std::move(sum));
  return net;
}

Sequential text_cnn(const TextCnnOptions& o, Generator& gen) {
  check_sizes("text_cnn", {{"num_ids", o.num_ids}, {"dim", o.dim}, {"filters", o.filters}, {"ways", o.ways}});
  Sequential net;
  net.emplace<Embedding>(o.num_ids, o.dim, gen, o.dtype);
  net.emplace<TextConv>(o.dim, o.filters, o.widths, gen, o.dtype);
  net.emplace<Linear>(o.filters * static_cast<std::int64_t>(o.widths.size()), o.ways, gen, true, o.dtype);
  return net;
}

}  // namespace mg::nn
