// Meta-RL on 2-D navigation; see nav_meta.h.
#include "meta/nav_meta.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/task.h"
#include "meta/driver.h"
#include "meta/option_checks.h"

namespace mg::meta {

namespace {

std::vector<Tensor> detached(std::span<const Tensor> ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.detach());
  return out;
}

// d out / d theta, detached; zeros for a θ_j that `out` does not reach.
std::vector<Tensor> gradient(const Tensor& out, std::span<const Tensor> theta) {
  std::vector<Tensor> g = grad({out}, std::vector<Tensor>(theta.begin(), theta.end()), {.allow_unused = true});
  for (std::size_t j = 0; j < g.size(); ++j) g[j] = g[j].defined() ? g[j].detach() : theta[j].detach() * 0.0;
  return g;
}

int inner_steps(const NavMetaOptions& o) { return o.algo == NavAlgo::Pretrain ? 0 : o.inner_steps; }
AdaptMode inner_mode(const NavMetaOptions& o) {
  return o.algo == NavAlgo::Maml ? AdaptMode::SecondOrder : AdaptMode::FirstOrder;
}
bool uses_sampling_term(const NavMetaOptions& o) {
  return o.sampling_term && o.algo == NavAlgo::Maml && inner_steps(o) > 0;
}

void check_options(const NavMetaOptions& o) {
  if (o.trajectories < 1) throw ValueError(fmt::format("nav-meta: trajectories must be >= 1, got {}", o.trajectories));
  if (o.inner_steps < 0) throw ValueError(fmt::format("nav-meta: inner steps must be >= 0, got {}", o.inner_steps));
  if (!std::isfinite(o.inner_lr))
    throw ValueError(fmt::format("nav-meta: the inner learning rate must be finite, got {}", o.inner_lr));
}

// Σ mask · log π_θ on a rollout: its part of S(θ).
Tensor log_prob_sum(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const data::NavRollout& r) {
  return sum(rollout_log_prob(policy, theta, r) * r.mask);
}

// [B, T] flattened to the policy's [B·T, 2, act] on a rollout's states.
Tensor rollout_dist(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const data::NavRollout& r) {
  const std::int64_t b = r.mask.shape()[0], t = r.mask.shape()[1];
  return policy.forward(reshape(r.observations, {b * t, policy.obs_dim()}), theta);
}

std::vector<std::pair<std::size_t, std::size_t>> one_task_per_group(std::size_t n) {
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (std::size_t i = 0; i < n; ++i) ranges.emplace_back(i, i + 1);
  return ranges;
}

}  // namespace

NavTaskSamples sample_nav_task(nn::GaussianPolicy& policy, std::span<const Tensor> theta, data::NavGoal goal,
                               Generator& gen, const NavMetaOptions& options) {
  check_options(options);
  const DType dtype = theta.empty() ? DType::F32 : theta[0].dtype();
  std::vector<Tensor> th = detached(theta);
  const auto draw = [&] {
    data::NavBatch env(options.env, goal, options.trajectories);
    return data::rollout(
        env,
        [&](const Tensor& p) {
          NoGradGuard no_grad;
          return nn::gaussian_sample(policy.forward(p, th), gen);
        },
        dtype);
  };
  NavTaskSamples s;
  for (int k = 0; k < inner_steps(options); ++k) {
    s.pre.push_back(draw());
    th = detached(policy_adapt(policy, th, s.pre.back(), options.pg, options.inner_lr, AdaptMode::Detached));
  }
  s.adapted = th;
  s.post = draw();
  return s;
}

std::vector<Tensor> nav_adapted(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                const NavTaskSamples& samples, const NavMetaOptions& options, AdaptMode mode,
                                Tensor* score) {
  std::vector<Tensor> th(theta.begin(), theta.end());
  Tensor s;
  for (const data::NavRollout& pre : samples.pre) {
    if (score) {
      const Tensor part = log_prob_sum(policy, th, pre);
      s = s.defined() ? s + part : part;
    }
    th = policy_adapt(policy, th, pre, options.pg, options.inner_lr, mode);
  }
  if (score) *score = s;
  return th;
}

double nav_objective(const data::NavRollout& post, const PolicyGradientOptions& options) {
  const std::vector<double> r = post.rewards.to_vector<double>(), m = post.mask.to_vector<double>();
  double total = 0.0, steps = 0.0;
  for (std::size_t s = 0; s < r.size(); ++s) {
    total += m[s] * r[s];
    steps += m[s];
  }
  double scale = 1.0;
  if (options.normalise_advantages) {
    // The same σ as advantages() divides by (meta/policy_gradient.cpp).
    PolicyGradientOptions raw = options;
    raw.normalise_advantages = false;
    const std::vector<double> a = rollout_advantages(post, raw).to_vector<double>();
    double mean = 0.0, var = 0.0;
    for (std::size_t s = 0; s < a.size(); ++s) mean += m[s] * a[s] / steps;
    for (std::size_t s = 0; s < a.size(); ++s) var += m[s] * (a[s] - mean) * (a[s] - mean) / steps;
    scale = std::sqrt(var) + 1e-8;
  }
  return -total / (steps * scale);
}

NavTaskGradient nav_task_gradient(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                  const NavTaskSamples& samples, const NavMetaOptions& options) {
  TapeScope scope;
  const std::vector<Tensor> at = thread_aliases(theta);
  const bool term = uses_sampling_term(options) && !samples.pre.empty();
  Tensor s;
  const std::vector<Tensor> adapted =
      nav_adapted(policy, at, samples, options, inner_mode(options), term ? &s : nullptr);
  const Tensor loss = policy_surrogate(policy, adapted, samples.post, options.pg);
  NavTaskGradient r;
  r.loss = loss.item();
  r.objective = nav_objective(samples.post, options.pg);
  r.outer = gradient(loss, at);
  if (term) r.score = gradient(s, at);
  return r;
}

NavTaskGradient reptile_task_gradient(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                      const NavTaskSamples& samples, const NavMetaOptions& options) {
  if (samples.adapted.size() != theta.size())
    throw ValueError(fmt::format("nav-meta: reptile needs the samples' adapted parameters (θ'_K), got {} tensors for {}",
                                 samples.adapted.size(), theta.size()));
  NoGradGuard no_grad;
  NavTaskGradient r;
  for (std::size_t j = 0; j < theta.size(); ++j) r.outer.push_back((theta[j] - samples.adapted[j]).detach());
  r.loss = policy_surrogate(policy, samples.adapted, samples.post, options.pg).item();
  r.objective = nav_objective(samples.post, options.pg);
  return r;
}

std::vector<Tensor> nav_meta_gradient(const NavGradientSums& sums) {
  if (sums.tasks < 1) throw ValueError("nav-meta: the meta-gradient needs at least one task");
  NoGradGuard no_grad;
  const double n = static_cast<double>(sums.tasks);
  std::vector<Tensor> g;
  for (std::size_t j = 0; j < sums.outer.size(); ++j) {
    Tensor t = sums.outer[j];
    if (!sums.score.empty()) {
      if (sums.tasks == 1)
        t = t + sums.weighted_score[j];
      else
        t = t + sums.weighted_score[j] * (n / (n - 1.0)) - sums.score[j] * (sums.objective / (n - 1.0));
    }
    g.push_back((t * (1.0 / n)).detach());
  }
  return g;
}

// ---------------------------------------------------------------------------------------
// The learner.

// What a meta-step keeps of each task for the outer rule: the samples and, for TRPO,
// the constants of its surrogate at θ_0.
struct NavTaskState {
  NavTaskSamples samples;
  Tensor old_dist, old_log_prob, advantage;  // π_θ'(θ_0) on the post-update states; A'
  double weight = 0.0;                       // Ĵ_i − b_i (0 without the sampling term)
  double score0 = 0.0;                       // S_i(θ_0)
};

struct NavMetaLearner::Batch {
  std::vector<NavTaskState> tasks;
  NavGradientSums sums;
  NavStepStats stats;
};

NavMetaLearner::NavMetaLearner(nn::GaussianPolicy& policy, const NavMetaOptions& options)
    : policy_(policy), options_(options) {
  check_options(options);
  if (options.algo == NavAlgo::Reptile) {
    check_inner_steps("nav-meta: reptile", options.inner_steps, 1);
    check_reptile_epsilon("nav-meta: reptile", options.epsilon, options.anneal_iterations);
  }
  if (options.meta_batch < 1)
    throw ValueError(fmt::format("nav-meta: meta_batch must be >= 1, got {}", options.meta_batch));
  if (options.threads < 1) throw ValueError(fmt::format("nav-meta: threads must be >= 1, got {}", options.threads));
  if (options.outer == NavOuter::Adam && options.algo != NavAlgo::Reptile)
    adam_ = std::make_unique<nn::Adam>(policy.parameters(), nn::AdamOptions{.lr = options.adam_lr});
}

std::string NavMetaLearner::name() const {
  switch (options_.algo) {
    case NavAlgo::Maml:
      return "maml";
    case NavAlgo::FoMaml:
      return "fomaml";
    case NavAlgo::Reptile:
      return "reptile";
    case NavAlgo::Pretrain:
      break;
  }
  return "pretrain";
}

double NavMetaLearner::epsilon_at(std::int64_t iteration) const {
  return annealed_epsilon(options_.epsilon, options_.anneal_iterations, iteration);
}

NavMetaLearner::Batch NavMetaLearner::sample_batch(std::int64_t iteration) const {
  const auto n = static_cast<std::size_t>(options_.meta_batch);
  const std::vector<Tensor> theta = policy_.parameters();
  const data::NavTasks goals(options_.env);
  const bool term = uses_sampling_term(options_);
  const bool reptile = options_.algo == NavAlgo::Reptile;
  Batch batch;
  batch.tasks.resize(n);
  const auto ranges = one_task_per_group(n);
  // Rows: return before adaptation, after it, Ĵ, S(θ_0).
  const BatchResult r = run_batch(n, ranges, options_.threads, 4, [&](std::size_t i) {
    const std::uint64_t task = static_cast<std::uint64_t>(iteration) * n + i;
    Generator gen = data::task_generator(splitmix64(options_.env.seed), task);
    NavTaskState& state = batch.tasks[i];  // each group writes its own slot
    state.samples = sample_nav_task(policy_, theta, goals.goal(task), gen, options_);
    const NavTaskGradient g = reptile ? reptile_task_gradient(policy_, theta, state.samples, options_)
                                      : nav_task_gradient(policy_, theta, state.samples, options_);
    GroupResult out;
    out.terms = g.outer;
    if (term)
      for (std::size_t pass = 0; pass < 2; ++pass)
        for (const Tensor& s : g.score) out.terms.push_back(pass == 0 ? (s * g.objective).detach() : s);
    out.loss = g.loss;
    const data::NavRollout& first = state.samples.pre.empty() ? state.samples.post : state.samples.pre[0];
    const double trajectories = static_cast<double>(options_.trajectories);
    out.metrics = {{sum(first.rewards).item() / trajectories},
                   {sum(state.samples.post.rewards).item() / trajectories},
                   {g.objective},
                   {0.0}};
    if (options_.outer == NavOuter::Trpo && !reptile) {
      TapeScope scope;
      Tensor s0;
      const std::vector<Tensor> adapted = nav_adapted(policy_, thread_aliases(theta), state.samples, options_,
                                                      AdaptMode::FirstOrder, term ? &s0 : nullptr);
      NoGradGuard no_grad;
      state.old_dist = rollout_dist(policy_, adapted, state.samples.post).detach();
      state.old_log_prob = rollout_log_prob(policy_, adapted, state.samples.post).detach();
      state.advantage = rollout_advantages(state.samples.post, options_.pg);
      if (term) state.score0 = out.metrics[3][0] = s0.item();
    }
    return out;
  });
  const std::size_t p = theta.size();
  batch.sums.tasks = n;
  batch.sums.outer.assign(r.sum.begin(), r.sum.begin() + static_cast<std::ptrdiff_t>(p));
  if (term) {
    batch.sums.weighted_score.assign(r.sum.begin() + static_cast<std::ptrdiff_t>(p),
                                     r.sum.begin() + static_cast<std::ptrdiff_t>(2 * p));
    batch.sums.score.assign(r.sum.begin() + static_cast<std::ptrdiff_t>(2 * p), r.sum.end());
  }
  double objective = 0.0, pre = 0.0, post = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    pre += r.metrics[0][i];
    post += r.metrics[1][i];
    objective += r.metrics[2][i];
  }
  batch.sums.objective = objective;
  for (std::size_t i = 0; term && i < n; ++i)
    batch.tasks[i].weight =
        r.metrics[2][i] - (n > 1 ? (objective - r.metrics[2][i]) / static_cast<double>(n - 1) : 0.0);
  batch.stats.loss = r.stats().loss;
  batch.stats.pre_return = pre / static_cast<double>(n);
  batch.stats.post_return = post / static_cast<double>(n);
  return batch;
}

std::vector<Tensor> NavMetaLearner::meta_gradient(std::int64_t iteration) {
  return nav_meta_gradient(sample_batch(iteration).sums);
}

NavStepStats NavMetaLearner::step(std::int64_t iteration) {
  const Batch batch = sample_batch(iteration);
  const std::vector<Tensor> g = nav_meta_gradient(batch.sums);
  if (!std::isfinite(batch.stats.loss) || !std::isfinite(dot(g, g).item()))
    throw DivergenceError(fmt::format("{}: iteration {}: the loss ({}) or the meta-gradient is not finite; the update "
                                      "was not applied",
                                      name(), iteration, batch.stats.loss),
                          iteration);
  if (options_.algo == NavAlgo::Reptile) {
    const double epsilon = epsilon_at(iteration);
    const std::vector<Tensor> theta = policy_.parameters();
    std::vector<Tensor> next;
    NoGradGuard no_grad;
    for (std::size_t j = 0; j < g.size(); ++j) next.push_back((theta[j] - g[j] * epsilon).detach());
    policy_.set_parameters(next);
    return batch.stats;
  }
  if (adam_) {
    adam_->step(g);
    return batch.stats;
  }
  return trpo_update(batch, g);
}

// The TRPO step of nn/trpo.h, with every sum over tasks on the driver's workers: each
// KL-Hessian-vector product and each line-search point is one run_batch.
NavStepStats NavMetaLearner::trpo_update(const Batch& batch, const std::vector<Tensor>& g) {
  const nn::TrpoOptions& o = options_.trpo;
  const std::vector<Tensor> theta = detached(policy_.parameters());
  const std::size_t n = batch.tasks.size();
  const auto ranges = one_task_per_group(n);
  const AdaptMode mode = inner_mode(options_);
  const bool term = uses_sampling_term(options_);

  // Mean over the post-update steps of KL(π_θ'(θ_0) ‖ π_θ'(θ)).
  const auto kl = [&](const NavTaskState& t, std::span<const Tensor> th, AdaptMode m) {
    const std::vector<Tensor> adapted = nav_adapted(policy_, th, t.samples, options_, m);
    const Tensor per_step = nn::gaussian_kl(t.old_dist, rollout_dist(policy_, adapted, t.samples.post));
    const Tensor mask = reshape(t.samples.post.mask, {per_step.shape()[0]});
    return mul_scalar(sum(per_step * mask), 1.0 / sum(mask).item());
  };
  const nn::LinearMap fisher = [&](std::span<const Tensor> v) {
    const BatchResult r = run_batch(n, ranges, options_.threads, 0, [&](std::size_t i) {
      GroupResult out;
      out.terms = nn::hessian_vector_product([&](std::span<const Tensor> th) { return kl(batch.tasks[i], th, mode); },
                                             theta, v);
      return out;
    });
    std::vector<Tensor> fv = r.mean();
    NoGradGuard no_grad;
    for (std::size_t j = 0; j < fv.size(); ++j) fv[j] = (fv[j] + v[j] * o.damping).detach();
    return fv;
  };
  std::vector<Tensor> minus_g;
  for (const Tensor& t : g) minus_g.push_back((t * -1.0).detach());
  const std::vector<Tensor> x = nn::conjugate_gradient(fisher, minus_g, o.cg_iterations);
  const double xfx = dot(x, fisher(x)).item();
  NavStepStats stats = batch.stats;
  stats.accepted = false;
  stats.kl = 0.0;
  if (!(xfx > 0.0) || !std::isfinite(xfx)) return stats;

  // The line search's objective: the importance-weighted post-update surrogate, plus the
  // sampling term to first order (Note [The sampling-distribution term]).
  const auto at = [&](std::span<const Tensor> th) {
    return run_batch(n, ranges, options_.threads, 1, [&](std::size_t i) {
      const NavTaskState& t = batch.tasks[i];
      TapeScope scope;
      const std::vector<Tensor> leaves = thread_aliases(th);
      Tensor s;
      const std::vector<Tensor> adapted =
          nav_adapted(policy_, leaves, t.samples, options_, AdaptMode::FirstOrder, term ? &s : nullptr);
      const double divergence = kl(t, leaves, AdaptMode::FirstOrder).item();
      NoGradGuard no_grad;
      const data::NavRollout& post = t.samples.post;
      const Tensor ratio = exp(rollout_log_prob(policy_, adapted, post) - t.old_log_prob);
      double loss = -sum(ratio * t.advantage * post.mask).item() / sum(post.mask).item();
      if (term) loss += t.weight * (s.item() - t.score0);
      GroupResult out;
      out.loss = loss;
      out.metrics = {{divergence}};
      return out;
    });
  };
  const double loss_before = at(theta).stats().loss;
  double scale = std::sqrt(2.0 * o.max_kl / xfx);
  for (int k = 0; k <= o.max_backtracks; ++k, scale *= o.backtrack_ratio) {
    std::vector<Tensor> candidate;
    {
      NoGradGuard no_grad;
      for (std::size_t j = 0; j < theta.size(); ++j) candidate.push_back((theta[j] + x[j] * scale).detach());
    }
    const StepStats s = at(candidate).stats();
    if (s.loss < loss_before && s.metric <= o.max_kl) {
      policy_.set_parameters(candidate);
      stats.accepted = true;
      stats.kl = s.metric;
      return stats;
    }
  }
  return stats;
}

}  // namespace mg::meta
