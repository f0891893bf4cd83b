#include "tools/algorithms.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "meta/anil.h"
#include "meta/maml_pp.h"
#include "meta/meta_sgd.h"
#include "meta/protonet.h"

namespace mg::tools {

std::unique_ptr<meta::MetaLearner> make_added_learner(const TrainConfig& c, nn::Sequential& model,
                                                      const meta::Objective& objective) {
  if (c.algo == "metasgd")
    return std::make_unique<meta::MetaSgd>(model, objective,
                                           meta::MetaSgdOptions{.inner_lr = *c.inner_lr,
                                                                .outer_lr = *c.meta_lr,
                                                                .inner_steps = *c.inner_steps,
                                                                .meta_batch = *c.meta_batch,
                                                                .threads = *c.threads,
                                                                .checkpoint_steps = c.checkpoint_steps});
  if (c.algo == "maml++") {
    const MamlppSettings& m = c.mamlpp;
    return std::make_unique<meta::MamlPlusPlus>(model, objective,
                                                meta::MamlPlusPlusOptions{.inner_lr = *c.inner_lr,
                                                                          .outer_lr = *c.meta_lr,
                                                                          .inner_steps = *c.inner_steps,
                                                                          .multi_step_loss = *m.msl,
                                                                          .msl_iterations = *m.msl_iterations,
                                                                          .per_step_bn = *m.per_step_bn,
                                                                          .learn_inner_lr = *m.lslr,
                                                                          .first_order_until = *m.first_order_until,
                                                                          .cosine_lr = *m.cosine_lr,
                                                                          .min_outer_lr = *m.min_meta_lr,
                                                                          .iterations = *c.iterations,
                                                                          .meta_batch = *c.meta_batch,
                                                                          .threads = *c.threads});
  }
  if (c.algo == "anil")
    return std::make_unique<meta::Anil>(model, objective,
                                        meta::AnilOptions{.inner_lr = *c.inner_lr,
                                                          .outer_lr = *c.meta_lr,
                                                          .inner_steps = *c.inner_steps,
                                                          .first_order = c.first_order,
                                                          .meta_batch = *c.meta_batch,
                                                          .threads = *c.threads});
  if (c.algo == "protonet")
    return std::make_unique<meta::ProtoNet>(
        model, objective, meta::ProtoNetOptions{.lr = *c.meta_lr, .meta_batch = *c.meta_batch, .threads = *c.threads});
  throw ValueError(fmt::format("train: internal error: '{}' is not an algorithm of tools/algorithms.h", c.algo));
}

}  // namespace mg::tools
