// bench_meta's nav2d workload and the fixture of torch_nav_ref.py --check; see bench_nav.h.
#include "bench/bench_nav.h"

#include <fmt/format.h>

#include <fstream>
#include <vector>

#include "autograd/errors.h"
#include "autograd/random.h"
#include "datasets/navigation.h"
#include "datasets/task.h"
#include "meta/adapt.h"
#include "meta/policy_adapt.h"

namespace mg::bench {

namespace {

constexpr std::uint64_t kSeed = 1;  // of the initialisation, the goals and the sampling noise (as bench_meta's)

meta::NavMetaOptions nav_options(const std::string& algo, int inner_steps, int threads) {
  if (algo != "maml" && algo != "fomaml")
    throw ValueError(fmt::format("--workload nav2d runs --algo maml or fomaml, not {}", algo));
  meta::NavMetaOptions o;
  o.algo = algo == "maml" ? meta::NavAlgo::Maml : meta::NavAlgo::FoMaml;
  o.inner_steps = inner_steps;
  o.threads = threads;
  o.env.seed = kSeed;
  return o;
}

nn::GaussianPolicy initial_policy(DType dtype) {
  Generator gen(kSeed);
  return nn::nav_policy(gen, dtype);
}

// {"shape":[…],"data":[…]}, every value with 17 significant digits (float64 round trip).
std::string json_tensor(const Tensor& t) {
  std::string out = "{\"shape\":[";
  for (int d = 0; d < t.ndim(); ++d) out += fmt::format("{}{}", d ? "," : "", t.shape()[d]);
  out += "],\"data\":[";
  const std::vector<double> v = t.to_vector<double>();
  for (std::size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{:.17g}", i ? "," : "", v[i]);
  return out + "]}";
}

std::string json_tensors(const std::vector<Tensor>& ts) {
  std::string out = "[";
  for (std::size_t j = 0; j < ts.size(); ++j) {
    if (j) out += ",";
    out += json_tensor(ts[j]);
  }
  return out + "]";
}

std::string json_rollout(const data::NavRollout& r) {
  return fmt::format(R"({{"obs":{},"actions":{},"rewards":{},"mask":{}}})", json_tensor(r.observations),
                     json_tensor(r.actions), json_tensor(r.rewards), json_tensor(r.mask));
}

}  // namespace

NavBench::NavBench(const std::string& algo, int inner_steps, int threads)
    : policy_(initial_policy(DType::F32)), learner_(policy_, nav_options(algo, inner_steps, threads)) {}

void write_nav_fixture(const std::string& path) {
  meta::NavMetaOptions o = nav_options("maml", 1, 1);
  o.meta_batch = 3;
  o.trajectories = 4;
  nn::GaussianPolicy policy = initial_policy(DType::F64);
  const std::vector<Tensor> theta = policy.parameters();
  const std::string theta_json = json_tensors(theta);  // before step(0) updates the parameters in place
  const data::NavTasks goals(o.env);

  std::string tasks, goal_list;
  for (int i = 0; i < o.meta_batch; ++i) {
    // The task numbering and noise of NavMetaLearner::step(0) (meta/nav_meta.h, Determinism).
    const auto task = static_cast<std::uint64_t>(i);
    Generator gen = data::task_generator(splitmix64(o.env.seed), task);
    const data::NavGoal g = goals.goal(task);
    const meta::NavTaskSamples s = meta::sample_nav_task(policy, theta, g, gen, o);
    std::vector<Tensor> adapted;
    for (const Tensor& t : meta::nav_adapted(policy, theta, s, o, meta::AdaptMode::SecondOrder))
      adapted.push_back(t.detach());
    const double loss = meta::policy_surrogate(policy, adapted, s.post, o.pg).item();
    tasks += fmt::format(R"({}{{"pre":{},"post":{},"adapted":{},"loss":{:.17g}}})", i ? "," : "",
                         json_rollout(s.pre.at(0)), json_rollout(s.post), json_tensors(adapted), loss);
    goal_list += fmt::format("{}[{:.17g},{:.17g}]", i ? "," : "", g.x, g.y);
  }
  meta::NavMetaOptions first = o;
  first.algo = meta::NavAlgo::FoMaml;
  const std::vector<Tensor> g1 = meta::NavMetaLearner(policy, first).meta_gradient(0);
  meta::NavMetaLearner learner(policy, o);
  const std::vector<Tensor> g2 = learner.meta_gradient(0);
  const meta::NavStepStats step = learner.step(0);  // updates policy's parameters

  std::ofstream f(path);
  f << fmt::format(
      R"({{"options":{{"meta_batch":{},"trajectories":{},"horizon":{},"inner_lr":{:.17g},"discount":{:.17g},)"
      R"("baseline_ridge":{:.17g},"max_kl":{:.17g},"cg_iterations":{},"damping":{:.17g},"backtrack_ratio":{:.17g},)"
      R"("max_backtracks":{}}},"theta":{},"goals":[{}],"tasks":[{}],"meta_gradient":{},)"
      R"("meta_gradient_first_order":{},"theta_after":{},"accepted":{},"kl":{:.17g}}})",
      o.meta_batch, o.trajectories, o.env.horizon, o.inner_lr, o.pg.discount, o.pg.baseline_ridge, o.trpo.max_kl,
      o.trpo.cg_iterations, o.trpo.damping, o.trpo.backtrack_ratio, o.trpo.max_backtracks, theta_json,
      goal_list, tasks, json_tensors(g2), json_tensors(g1), json_tensors(policy.parameters()),
      step.accepted ? "true" : "false", step.kl);
  f << "\n";
  f.close();
  if (!f) throw DataError(fmt::format("cannot write the nav2d fixture {}", path));
}

}  // namespace mg::bench
