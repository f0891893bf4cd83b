#include "meta/body_head.h"

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg::meta {

BodyHead split_body_head(nn::Sequential& model, const char* who) {
  for (std::size_t i = model.size(); i-- > 0;) {
    const std::int64_t own = static_cast<std::int64_t>(model[i].parameters().size());
    if (own == 0) continue;
    return {i, model.parameters().size() - static_cast<std::size_t>(own)};
  }
  throw ValueError(fmt::format("{}: the model has no layer with parameters to be its head", who));
}

Tensor embed(nn::Sequential& model, const BodyHead& split, const Tensor& x, std::span<const Tensor> body) {
  if (body.size() < split.body_params)
    throw ValueError(fmt::format("embed: {} tensors for a body of {} parameters", body.size(), split.body_params));
  nn::ParamCursor cursor(body.first(split.body_params));
  Tensor h = x;
  for (std::size_t i = 0; i < split.head_layer; ++i) h = model[i].run(h, cursor);
  return h;
}

}  // namespace mg::meta
