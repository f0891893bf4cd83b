#include "tools/experiment.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "datasets/episodes.h"
#include "datasets/omniglot.h"
#include "datasets/sinusoid.h"
#include "datasets/splits.h"
#include "meta/maml.h"
#include "meta/pretrain.h"
#include "meta/reptile.h"
#include "nn/models.h"
#include "tools/algorithms.h"
#include "tools/text_config.h"
#include "tools/text_experiment.h"

namespace mg::tools {

namespace {

// Sets e.test_tasks and returns the training episodes.
std::unique_ptr<data::EpisodeSampler> omniglot_sources(Experiment& e) {
  const TrainConfig& c = e.config;
  const std::string root = checked_omniglot_root(c.data);
  const std::vector<std::string> all = data::list_omniglot_characters(root);
  const data::CharacterSplit split =
      *c.split == "official" ? data::official_omniglot_split(all) : data::vinyals_omniglot_split(all);
  std::vector<std::string> both = split.train;
  both.insert(both.end(), split.test.begin(), split.test.end());
  const auto images = std::make_shared<const data::Omniglot>(data::Omniglot::load(root, both));
  // Rotations by 90°, 180° and 270° are new classes, for training and testing alike (as in MAML's code).
  const auto train_pool = std::make_shared<const data::OmniglotClasses>(images, split.train, true);
  const auto test_pool = std::make_shared<const data::OmniglotClasses>(images, split.test, true);
  const data::EpisodeConfig train{*c.train_ways, *c.train_shots, *c.queries, c.seed};
  const data::EpisodeConfig test{*c.ways, *c.shots, *c.queries, kTestTaskSeed};
  e.test_tasks = std::make_unique<data::EpisodeSampler>(test_pool, test);
  return std::make_unique<data::EpisodeSampler>(train_pool, train);
}

void sinusoid_sources(Experiment& e) {
  const TrainConfig& c = e.config;
  data::SinusoidConfig train;
  train.k_shot = *c.train_shots;
  train.q_query = *c.queries;
  train.seed = c.seed;
  data::SinusoidConfig test = train;
  test.k_shot = *c.shots;
  test.seed = kTestTaskSeed;
  e.train_tasks = std::make_unique<data::SinusoidTasks>(train);
  e.test_tasks = std::make_unique<data::SinusoidTasks>(test);
}

std::unique_ptr<meta::MetaLearner> make_learner(const TrainConfig& c, const std::string& algo, nn::Sequential& model,
                                                std::shared_ptr<nn::Module> test_model) {
  const meta::Objective objective = c.dataset == "sinusoid" ? meta::regression() : meta::classification();
  if (is_added_algo(algo)) return make_added_learner(c, model, objective);  // metasgd, anil, protonet
  if (algo == "maml" || algo == "fomaml") {
    meta::MamlOptions o;
    o.inner_lr = *c.inner_lr;
    o.outer_lr = *c.meta_lr;
    o.inner_steps = *c.inner_steps;
    o.first_order = algo == "fomaml";
    o.learn_inner_lr = c.learn_inner_lr;
    o.checkpoint_steps = c.checkpoint_steps;
    o.meta_batch = *c.meta_batch;
    o.threads = *c.threads;
    return std::make_unique<meta::Maml>(model, objective, o);
  }
  if (algo == "reptile") {
    meta::ReptileOptions o;
    o.inner_lr = *c.inner_lr;
    o.inner_steps = *c.inner_steps;
    // Reptile §5: Adam in the inner loop for Omniglot, plain SGD for the sinusoid (--inner-optimizer).
    o.inner_optimizer = *c.inner_optimizer == "adam" ? meta::InnerOptimizer::Adam : meta::InnerOptimizer::Sgd;
    o.epsilon = *c.meta_lr;
    o.anneal_iterations = *c.iterations;
    o.eval_inner_lr = *c.inner_lr;
    o.inner_batch = *c.inner_batch;
    o.keep_adam_state = !c.reset_inner_adam;
    o.seed = c.seed;
    o.meta_batch = *c.meta_batch;
    o.threads = *c.threads;
    return std::make_unique<meta::Reptile>(model, objective, o);
  }
  meta::PretrainOptions o;
  o.lr = *c.meta_lr;
  o.eval_inner_lr = *c.inner_lr;
  o.meta_batch = *c.meta_batch;
  o.threads = *c.threads;
  o.test_model = std::move(test_model);
  return std::make_unique<meta::Pretrain>(model, objective, o);
}

}  // namespace

void set_classifier(Experiment& e, std::unique_ptr<data::ClassEpisodes> train, Generator& gen,
                    const MakeClassifier& make_model) {
  const std::int64_t ways = *e.config.ways;
  if (e.config.algo != "pretrain") {
    e.model = make_model(ways, gen);
    e.train_tasks = std::move(train);
    return;
  }
  auto global = std::make_unique<data::GlobalLabelTasks>(std::shared_ptr<const data::ClassEpisodes>(std::move(train)));
  e.model = make_model(global->num_classes(), gen);
  Generator unused(e.config.seed);  // the test head starts at zero whatever is drawn here
  e.test_model = make_model(ways, unused);
  e.train_tasks = std::move(global);
}

Experiment build_experiment(const TrainConfig& config, const std::string& algo) {
  Experiment e;
  e.config = config;
  if (!algo.empty()) e.config.algo = algo;
  Generator gen(config.seed);
  if (config.dataset == "sinusoid") {
    sinusoid_sources(e);
    e.model = std::make_unique<nn::Sequential>(nn::sinusoid_mlp(gen));
  } else if (is_text_dataset(config.dataset)) {
    build_text_experiment(e, gen);
  } else {
    set_classifier(e, omniglot_sources(e), gen, [strided = config.strided](std::int64_t outputs, Generator& g) {
      return std::make_unique<nn::Sequential>(nn::omniglot_conv4(outputs, g, strided));
    });
  }
  e.learner = make_learner(e.config, e.config.algo, *e.model, e.test_model);
  return e;
}

}  // namespace mg::tools
