// Meta-RL on navigation (meta/nav_meta.h): the meta-gradient estimator with the
// sampling-distribution term against finite differences of the objective averaged over
// fixed noise draws (and the same check failing without the term), the batch formula
// with its leave-one-out baseline, TRPO's Hessian-vector product against an explicit
// Hessian, TRPO's step, Reptile's step, and bit-identity across thread counts.
#include <doctest/doctest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "datasets/task.h"
#include "meta/nav_meta.h"
#include "nn/trpo.h"

using namespace mg;
using namespace mg::meta;

namespace nav_meta_test {

std::vector<Tensor> plus_scaled(const std::vector<Tensor>& theta, const std::vector<Tensor>& d, double h) {
  std::vector<Tensor> out;
  for (std::size_t j = 0; j < theta.size(); ++j) out.push_back((theta[j].detach() + d[j] * h).detach());
  return out;
}

double dot_list(const std::vector<Tensor>& a, const std::vector<Tensor>& b) { return dot(a, b).item(); }

// A tiny float64 problem on which the objective is a smooth function of θ for fixed
// noise: no action is ever clipped (max_step 100) and no episode ends early (goal radius
// 0). Discount 1, no baseline, no normalisation: the post-update surrogate is then an
// unbiased estimator of ∇(−Σ r / (B·T)). The output layer is scaled down (actions near 0)
// and each batch has 20 two-move trajectories: with fewer, the inner step's change of
// log σ has heavy tails and so has the score-function estimator (seen: a draw of 10⁴).
struct Problem {
  Generator init{5};
  nn::GaussianPolicy policy{2, 2, {3}, init, -0.7};
  NavMetaOptions options;
  data::NavGoal goal{0.4, -0.3};

  Problem() {
    policy.to(DType::F64);
    std::vector<Tensor> theta;
    for (const Tensor& t : policy.parameters()) theta.push_back(t.detach());
    for (std::size_t j = theta.size() - 2; j < theta.size(); ++j) theta[j] = theta[j] * 0.1;
    policy.set_parameters(theta);
    options.env = {.max_step = 100.0, .horizon = 2, .goal_radius = 0.0};
    options.trajectories = 20;
    options.inner_lr = 0.5;
    options.pg = {.discount = 1.0, .normalise_advantages = false, .fit_baseline = false};
    options.sampling_term = true;  // off by default (Note [The sampling-distribution term])
  }
  Generator draw(int i) const { return Generator(1000 + static_cast<std::uint64_t>(i)); }
  // Ĵ of draw i at θ: the post-update objective with that draw's noise.
  double objective(const std::vector<Tensor>& theta, int i) {
    Generator gen = draw(i);
    return nav_objective(sample_nav_task(policy, theta, goal, gen, options).post, options.pg);
  }
};

// Per draw: the estimator's pieces along d, and the pathwise derivative of Ĵ_i along d
// by central differences (the noise held fixed).
struct Draws {
  std::vector<double> outer, score, objective, pathwise;
  NavGradientSums sums;
};

Draws run_draws(Problem& p, const std::vector<Tensor>& d, int n) {
  const std::vector<Tensor> theta = p.policy.parameters();
  const double h = 1e-5;
  Draws out;
  out.sums.tasks = static_cast<std::size_t>(n);
  for (int i = 0; i < n; ++i) {
    Generator gen = p.draw(i);
    const NavTaskSamples s = sample_nav_task(p.policy, theta, p.goal, gen, p.options);
    const NavTaskGradient g = nav_task_gradient(p.policy, theta, s, p.options);
    out.outer.push_back(dot_list(g.outer, d));
    out.score.push_back(dot_list(g.score, d));
    out.objective.push_back(g.objective);
    out.pathwise.push_back((p.objective(plus_scaled(theta, d, h), i) - p.objective(plus_scaled(theta, d, -h), i)) /
                           (2 * h));
    std::vector<Tensor> weighted;
    for (const Tensor& t : g.score) weighted.push_back(t * g.objective);
    if (i == 0) {
      out.sums.outer = g.outer;
      out.sums.score = g.score;
      out.sums.weighted_score = weighted;
    } else {
      for (std::size_t j = 0; j < d.size(); ++j) {
        out.sums.outer[j] = out.sums.outer[j] + g.outer[j];
        out.sums.score[j] = out.sums.score[j] + g.score[j];
        out.sums.weighted_score[j] = out.sums.weighted_score[j] + weighted[j];
      }
    }
    out.sums.objective += g.objective;
  }
  return out;
}

// Mean and standard error of x_i − y_i.
std::pair<double, double> mean_se(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mean = 0.0, var = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) mean += (x[i] - y[i]) / n;
  for (std::size_t i = 0; i < x.size(); ++i) var += (x[i] - y[i] - mean) * (x[i] - y[i] - mean) / (n - 1);
  return {mean, std::sqrt(var / n)};
}

std::vector<Tensor> unit_direction(const std::vector<Tensor>& theta, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> d;
  for (const Tensor& t : theta) d.push_back(randn(t.shape(), gen, DType::F64));
  const double norm = std::sqrt(dot_list(d, d));
  for (Tensor& t : d) t = t * (1.0 / norm);
  return d;
}

}  // namespace nav_meta_test

using namespace nav_meta_test;

TEST_SUITE("nav_meta") {
  TEST_CASE(
      "with the sampling term the estimator matches finite differences of the averaged objective; "
      "without it, it does not") {
    CHECK_FALSE(NavMetaOptions{}.sampling_term);  // the default leaves the term out (nav_meta.h)
    Problem p;
    const int n = 6000;
    // Measured: with the term 0.7 and 0.1 standard errors from the finite differences,
    // without it 4.6 and 8.8.
    for (std::uint64_t seed : {12u, 13u}) {
      const std::vector<Tensor> d = unit_direction(p.policy.parameters(), seed);
      const Draws r = run_draws(p, d, n);
      // The estimator of each draw with the leave-one-out baseline b_i (nav_meta.h);
      // its mean must be nav_meta_gradient's.
      double total = 0.0;
      for (double j : r.objective) total += j;
      std::vector<double> with, without;
      for (int i = 0; i < n; ++i) {
        const double b = (total - r.objective[static_cast<std::size_t>(i)]) / (n - 1);
        with.push_back(r.outer[static_cast<std::size_t>(i)] +
                       (r.objective[static_cast<std::size_t>(i)] - b) * r.score[static_cast<std::size_t>(i)]);
        without.push_back(r.outer[static_cast<std::size_t>(i)]);
      }
      double mean_with = 0.0;
      for (double v : with) mean_with += v / n;
      CHECK(dot_list(nav_meta_gradient(r.sums), d) == doctest::Approx(mean_with).epsilon(1e-9));
      // Both estimators target ∇E[Ĵ]·d; so does the pathwise derivative (finite differences
      // of Ĵ_i with draw i's noise fixed), whose mean is the finite difference of the
      // average objective over the draws. Their per-draw differences have mean 0 when the
      // estimator is unbiased: within 4 standard errors (a false alarm ~1 in 16,000).
      const std::pair<double, double> w = mean_se(with, r.pathwise), wo = mean_se(without, r.pathwise);
      const double bias_with = w.first, se_with = w.second, bias_without = wo.first, se_without = wo.second;
      double pathwise = 0.0;
      for (double v : r.pathwise) pathwise += v / n;
      INFO("direction seed ", seed, ": finite differences ", pathwise, ", with the term ", mean_with, " (bias ",
           bias_with, " ± ", se_with, "), without ", pathwise + bias_without, " (bias ", bias_without, " ± ",
           se_without, ")");
      CHECK(std::fabs(bias_with) < 4 * se_with);
      CHECK(std::fabs(bias_without) > 4 * se_without);  // the term is needed: dropping it is detectably biased
    }
  }

  TEST_CASE("TRPO's Hessian-vector product through the inner step matches the explicit Hessian of the KL") {
    // The KL that TRPO's products differentiate (NavMetaLearner::trpo_update): from π_θ'(θ0)
    // to π_θ'(θ) on the post-update states, θ' one second-order inner step from θ. Its
    // Hessian at θ0 is built column by column from central differences of the gradient,
    // a matrix that owes nothing to hessian_vector_product, and compared along random v.
    Problem p;
    p.options.sampling_term = false;
    const std::vector<Tensor> theta0 = p.policy.parameters();
    Generator noise = p.draw(0);
    const NavTaskSamples samples = sample_nav_task(p.policy, theta0, p.goal, noise, p.options);
    const auto dist = [&](std::span<const Tensor> th) {
      const std::vector<Tensor> adapted = nav_adapted(p.policy, th, samples, p.options, AdaptMode::SecondOrder);
      const Tensor obs = samples.post.observations;
      return p.policy.forward(reshape(obs, {obs.shape()[0] * obs.shape()[1], obs.shape()[2]}), adapted);
    };
    const Tensor old = dist(theta0).detach();
    const nn::ParamFunction kl = [&](std::span<const Tensor> th) { return mean(nn::gaussian_kl(old, dist(th))); };
    const auto gradient_at = [&](const std::vector<Tensor>& th) {
      std::vector<Tensor> at;
      for (const Tensor& t : th) at.push_back(t.detach().requires_grad_());
      std::vector<double> flat;
      for (const Tensor& g : grad({kl(at)}, at)) {
        const std::vector<double> part = g.to_vector<double>();
        flat.insert(flat.end(), part.begin(), part.end());
      }
      return flat;
    };
    std::vector<double> start;  // θ0 flattened, and where each element lives
    std::vector<std::pair<std::size_t, std::size_t>> where;
    for (std::size_t j = 0; j < theta0.size(); ++j) {
      const std::vector<double> part = theta0[j].to_vector<double>();
      for (std::size_t e = 0; e < part.size(); ++e) where.emplace_back(j, e);
      start.insert(start.end(), part.begin(), part.end());
    }
    const std::size_t n = start.size();
    const auto moved = [&](std::size_t i, double h) {
      std::vector<Tensor> th;
      for (std::size_t j = 0; j < theta0.size(); ++j) {
        std::vector<double> part = theta0[j].to_vector<double>();
        if (where[i].first == j) part[where[i].second] += h;
        th.push_back(from_vector(part, theta0[j].shape()));
      }
      return th;
    };
    const double h = 1e-5;
    std::vector<std::vector<double>> hessian(n);  // hessian[i] = column i
    for (std::size_t i = 0; i < n; ++i) {
      const std::vector<double> gp = gradient_at(moved(i, h)), gm = gradient_at(moved(i, -h));
      for (std::size_t r = 0; r < n; ++r) hessian[i].push_back((gp[r] - gm[r]) / (2 * h));
    }
    double asymmetry = 0.0, largest = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t r = 0; r < n; ++r) {
        asymmetry = std::max(asymmetry, std::fabs(hessian[i][r] - hessian[r][i]));
        largest = std::max(largest, std::fabs(hessian[i][r]));
      }
    CHECK(largest > 1e-3);                 // a Hessian worth the name
    CHECK(asymmetry < 1e-6 * largest);     // and symmetric, as a Hessian must be
    for (std::uint64_t seed : {1u, 2u}) {
      const std::vector<Tensor> v = unit_direction(theta0, seed);
      std::vector<double> flat_v;
      for (const Tensor& t : v) {
        const std::vector<double> part = t.to_vector<double>();
        flat_v.insert(flat_v.end(), part.begin(), part.end());
      }
      std::vector<double> got;
      for (const Tensor& t : nn::hessian_vector_product(kl, theta0, v)) {
        const std::vector<double> part = t.to_vector<double>();
        got.insert(got.end(), part.begin(), part.end());
      }
      REQUIRE(got.size() == n);
      for (std::size_t r = 0; r < n; ++r) {
        double want = 0.0;
        for (std::size_t i = 0; i < n; ++i) want += hessian[i][r] * flat_v[i];
        CHECK(got[r] == doctest::Approx(want).epsilon(1e-6).scale(largest));
      }
    }
  }

  TEST_CASE("the batch formula: one task has no baseline; no task is an error") {
    NavGradientSums s;
    s.tasks = 1;
    s.outer = {from_vector(std::vector<double>{1.0, 2.0}, Shape{2})};
    s.weighted_score = {from_vector(std::vector<double>{0.5, -1.0}, Shape{2})};
    s.score = {from_vector(std::vector<double>{7.0, 7.0}, Shape{2})};
    s.objective = 3.0;
    CHECK(nav_meta_gradient(s)[0].to_vector<double>() == std::vector<double>{1.5, 1.0});
    s.tasks = 2;  // (1/2)[outer + 2·weighted − 3·score]
    CHECK(nav_meta_gradient(s)[0].to_vector<double>() == std::vector<double>{-9.5, -10.5});
    s.score.clear();  // without the term: the mean of the outer gradients
    CHECK(nav_meta_gradient(s)[0].to_vector<double>() == std::vector<double>{0.5, 1.0});
    s.tasks = 0;
    CHECK_THROWS_WITH_AS(nav_meta_gradient(s), "nav-meta: the meta-gradient needs at least one task", ValueError);
  }

  TEST_CASE("settings that cannot run are refused") {
    Generator gen(1);
    nn::GaussianPolicy policy = nn::nav_policy(gen);
    const std::vector<Tensor> theta = policy.parameters();
    const auto sample = [&](NavMetaOptions o) { return sample_nav_task(policy, theta, {0.1, 0.1}, gen, o); };
    CHECK_THROWS_WITH_AS(sample({.trajectories = 0}), "nav-meta: trajectories must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(sample({.inner_steps = -1}), "nav-meta: inner steps must be >= 0, got -1", ValueError);
    CHECK_THROWS_WITH_AS(sample({.inner_lr = std::nan("")}),
                         "nav-meta: the inner learning rate must be finite, got nan", ValueError);
    CHECK_THROWS_WITH_AS(NavMetaLearner(policy, {.meta_batch = 0}), "nav-meta: meta_batch must be >= 1, got 0",
                         ValueError);
    CHECK_THROWS_WITH_AS(NavMetaLearner(policy, {.threads = 0}), "nav-meta: threads must be >= 1, got 0", ValueError);
  }

  TEST_CASE("samples: K pre-update batches then the post-update one, the same noise for the same generator") {
    Generator init(2);
    nn::GaussianPolicy policy = nn::nav_policy(init);
    const NavMetaOptions o{.env = {.horizon = 7}, .trajectories = 3, .inner_steps = 2};
    Generator a(9), b(9);
    const NavTaskSamples s = sample_nav_task(policy, policy.parameters(), {0.2, 0.3}, a, o);
    const NavTaskSamples t = sample_nav_task(policy, policy.parameters(), {0.2, 0.3}, b, o);
    REQUIRE(s.pre.size() == 2);
    CHECK(s.post.actions.shape()[0] == 3);
    CHECK(s.post.actions.to_vector<float>() == t.post.actions.to_vector<float>());
    CHECK(s.pre[0].actions.to_vector<float>() != s.post.actions.to_vector<float>());
    NavMetaOptions pretrain = o;
    pretrain.algo = NavAlgo::Pretrain;
    CHECK(sample_nav_task(policy, policy.parameters(), {0.2, 0.3}, a, pretrain).pre.empty());
  }

  TEST_CASE("a TRPO meta-step keeps the KL within its limit; the learners are bit-identical at 1 and 2 threads") {
    // MAML twice: without the sampling term (the default) and with it (the term's sums and
    // its part of TRPO's line search).
    for (const auto& run : {std::pair{NavAlgo::Maml, false}, std::pair{NavAlgo::Maml, true},
                            std::pair{NavAlgo::FoMaml, false}, std::pair{NavAlgo::Pretrain, false}}) {
      const NavAlgo algo = run.first;
      const bool term = run.second;
      for (NavOuter outer : {NavOuter::Trpo, NavOuter::Adam}) {
        std::vector<std::vector<float>> after[2];
        for (int threads : {1, 2}) {
          Generator init(3);
          nn::GaussianPolicy policy = nn::nav_policy(init);
          const std::vector<float> before = policy.parameters()[1].to_vector<float>();
          NavMetaLearner learner(policy, {.algo = algo,
                                          .outer = outer,
                                          .env = {.horizon = 12, .seed = 4},
                                          .trajectories = 4,
                                          .adam_lr = 0.01,
                                          .meta_batch = 3,
                                          .threads = threads,
                                          .sampling_term = term});
          for (std::int64_t it = 0; it < 2; ++it) {
            const NavStepStats s = learner.step(it);
            CHECK(std::isfinite(s.loss));
            CHECK(s.pre_return < 0.0);
            if (outer == NavOuter::Trpo && s.accepted) CHECK(s.kl <= 0.01);
          }
          for (const Tensor& t : policy.parameters()) after[threads - 1].push_back(t.to_vector<float>());
          CHECK(after[threads - 1][1] != before);  // something moved
          CHECK(learner.name() == (algo == NavAlgo::Maml ? "maml" : algo == NavAlgo::FoMaml ? "fomaml" : "pretrain"));
          CHECK((learner.optimizer() != nullptr) == (outer == NavOuter::Adam));
        }
        CHECK(after[0] == after[1]);
      }
    }
  }

  TEST_CASE("a Reptile step is θ − ε_s · mean(θ − θ'_K) over the batch's tasks, bit-identical at 1 and 2 threads") {
    const NavMetaOptions base{.algo = NavAlgo::Reptile,
                              .env = {.horizon = 9, .seed = 6},
                              .trajectories = 3,
                              .inner_steps = 2,
                              .epsilon = 0.5,
                              .anneal_iterations = 4,
                              .meta_batch = 3};
    std::vector<std::vector<float>> after[2];
    for (int threads : {1, 2}) {
      Generator init(3);
      nn::GaussianPolicy policy = nn::nav_policy(init);
      NavMetaOptions o = base;
      o.threads = threads;
      NavMetaLearner learner(policy, o);
      CHECK(learner.name() == "reptile");
      CHECK(learner.optimizer() == nullptr);
      CHECK(learner.epsilon_at(0) == 0.5);
      CHECK(learner.epsilon_at(1) == 0.375);
      CHECK(learner.epsilon_at(9) == 0.0);  // never below 0
      learner.step(0);
      // Iteration 1 by hand: each task's θ'_K from its own generator, then the interpolation.
      const std::vector<Tensor> theta = policy.parameters();
      const std::vector<double> before = theta[1].to_vector<double>();
      std::vector<double> expected = before;
      const data::NavTasks goals(o.env);
      std::vector<double> mean(expected.size(), 0.0);
      for (std::uint64_t i = 0; i < 3; ++i) {
        const std::uint64_t task = 1 * 3 + i;
        Generator gen = data::task_generator(splitmix64(o.env.seed), task);
        const NavTaskSamples s = sample_nav_task(policy, theta, goals.goal(task), gen, o);
        REQUIRE(s.adapted.size() == theta.size());
        const std::vector<double> w = s.adapted[1].to_vector<double>();
        for (std::size_t e = 0; e < w.size(); ++e) mean[e] += (expected[e] - w[e]) / 3.0;
      }
      for (std::size_t e = 0; e < expected.size(); ++e) expected[e] -= 0.375 * mean[e];
      const NavStepStats stats = learner.step(1);
      CHECK(std::isfinite(stats.loss));
      CHECK(stats.post_return < 0.0);
      const std::vector<double> got = policy.parameters()[1].to_vector<double>();
      REQUIRE(got.size() == expected.size());
      double worst = 0.0;
      for (std::size_t e = 0; e < got.size(); ++e) worst = std::max(worst, std::fabs(got[e] - expected[e]));
      CHECK(worst < 1e-6);
      CHECK(got != before);  // it moved
      for (const Tensor& t : policy.parameters()) after[threads - 1].push_back(t.to_vector<float>());
    }
    CHECK(after[0] == after[1]);
  }

  TEST_CASE("Reptile's settings that cannot run are refused") {
    Generator init(3);
    nn::GaussianPolicy policy = nn::nav_policy(init);
    CHECK_THROWS_WITH_AS(NavMetaLearner(policy, {.algo = NavAlgo::Reptile, .inner_steps = 0}),
                         "nav-meta: reptile: inner_steps must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(NavMetaLearner(policy, {.algo = NavAlgo::Reptile, .epsilon = 0.0}),
                         "nav-meta: reptile: epsilon must be finite and > 0, got 0", ValueError);
    CHECK_THROWS_WITH_AS(NavMetaLearner(policy, {.algo = NavAlgo::Reptile, .anneal_iterations = -1}),
                         "nav-meta: reptile: anneal_iterations must be >= 0, got -1", ValueError);
    const NavTaskSamples none;  // no adapted parameters
    CHECK_THROWS_WITH_AS(reptile_task_gradient(policy, policy.parameters(), none, {}),
                         "nav-meta: reptile needs the samples' adapted parameters (θ'_K), got 0 tensors for 7",
                         ValueError);
  }

  TEST_CASE("meta_gradient updates nothing and is the direction of the step's batch") {
    Generator init(3);
    nn::GaussianPolicy policy = nn::nav_policy(init);
    NavMetaLearner learner(policy, {.env = {.horizon = 8}, .trajectories = 3, .meta_batch = 2});
    const std::vector<float> before = policy.parameters()[1].to_vector<float>();
    const std::vector<Tensor> g = learner.meta_gradient(0), again = learner.meta_gradient(0);
    CHECK(policy.parameters()[1].to_vector<float>() == before);
    REQUIRE(g.size() == policy.parameters().size());
    CHECK(g[1].to_vector<float>() == again[1].to_vector<float>());
    CHECK(dot(g, g).item() > 0.0);
  }
}
