#include "tools/nav_train.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/errors.h"
#include "nn/checkpoint.h"
#include "tools/atomic_file.h"
#include "tools/experiment.h"
#include "tools/metrics_log.h"
#include "tools/nav_figures.h"
#include "tools/paths.h"
#include "tools/progress.h"
#include "tools/svg_plot.h"

namespace mg::tools {

namespace {

namespace fs = std::filesystem;

constexpr const char* kNavOutputFiles[] = {"checkpoint.mgc",  "metrics.csv",          "results.txt",
                                           "nav_returns.svg", "nav_trajectories.svg", "learning_curve.svg"};

std::string out_file(const TrainConfig& c, const char* name) { return (fs::path(c.out) / name).string(); }

meta::NavAlgo algo_of(const std::string& algo) {
  if (algo == "maml") return meta::NavAlgo::Maml;
  if (algo == "fomaml") return meta::NavAlgo::FoMaml;
  if (algo == "reptile") return meta::NavAlgo::Reptile;
  return meta::NavAlgo::Pretrain;
}

data::NavConfig env_of(const TrainConfig& c, std::uint64_t seed) {
  data::NavConfig env;
  env.horizon = *c.nav.horizon;
  env.reward = *c.nav.reward == "squared" ? data::NavReward::SquaredDistance : data::NavReward::Distance;
  env.seed = seed;
  return env;
}

// The policy a run starts from: the MAML paper's 2-100-100-2, initialised from the seed.
nn::GaussianPolicy initial_policy(const TrainConfig& c) {
  Generator gen(c.seed);
  return nn::nav_policy(gen);
}

meta::EvalResult as_eval_result(const meta::NavEvalResult& r) { return {"return", r.steps, r.returns}; }

// Note [Checkpoints from before the sampling-term default]
// Until --sampling-term became opt-in (Note [The sampling-distribution term] in
// meta/nav_meta.h), every nav2d checkpoint recorded config.nav_sampling_term = true,
// fomaml and pretrain ones included, although the term is used by second-order MAML
// only. For those algorithms the entry says nothing about how the run was trained, so
// resume does not compare it (and refusing would leave no way out: --sampling-term is
// refused for them). For maml it is compared, and the error says which flag continues
// the run as it was trained.
void check_resumable(const TrainConfig& c, const std::string& checkpoint,
                     const std::vector<std::pair<std::string, std::string>>& saved_metadata) {
  for (const auto& [key, value] : to_metadata(c))
    for (const auto& [saved_key, saved] : saved_metadata) {
      if (key != saved_key || value == saved) continue;
      const bool sampling_term = key == "config.nav_sampling_term";
      if (sampling_term && c.algo != "maml") continue;
      std::string message =
          fmt::format("train: --resume: {} has {} = {}, this run has {}", checkpoint, key, saved, value);
      if (sampling_term && saved == "true")
        message += "; pass --sampling-term to resume it as it was trained (checkpoints written before the term "
                   "became opt-in record true)";
      throw DataError(message);
    }
}

// A checkpoint's policy, checked to be a nav2d run, and the algorithm that trained it.
struct LoadedPolicy {
  nn::GaussianPolicy policy;
  std::string algo;
};
LoadedPolicy load_policy(const std::string& path, const char* what) {
  check_path(what, path, PathUse::kInputFile);
  const nn::Checkpoint ckpt = nn::read_checkpoint(path);
  const TrainConfig saved = from_metadata(ckpt.metadata);
  if (saved.dataset != "nav2d")
    throw DataError(fmt::format("{}: {} was trained on {}, not nav2d", what, path, saved.dataset));
  LoadedPolicy loaded{initial_policy(saved), saved.algo};
  nn::load_checkpoint(path, loaded.policy, nullptr);
  return loaded;
}

// The final evaluation: the table, results.txt and the two pictures.
meta::EvalResult evaluate_run(const TrainConfig& c, nn::GaussianPolicy& policy, const std::string& name, std::FILE* out,
                              std::optional<meta::EvalResult>* pretrained_result) {
  const meta::NavEvalOptions o = nav_eval_options(c);
  std::vector<std::pair<std::string, meta::EvalResult>> curves;
  curves.emplace_back(name, as_eval_result(meta::evaluate_nav(policy, policy.parameters(), o)));
  // Another run's checkpoint scored beside, as `label` (its algorithm when empty).
  const auto score_beside = [&](const std::string& path, const char* what, const std::string& label) {
    LoadedPolicy other = load_policy(path, what);
    curves.emplace_back(label.empty() ? other.algo : label,
                        as_eval_result(meta::evaluate_nav(other.policy, other.policy.parameters(), o)));
  };
  for (const std::string& path : c.nav.compare) score_beside(path, "eval: --compare", "");
  if (c.nav.pretrained) {
    score_beside(*c.nav.pretrained, "--pretrained", "pretrained");
    if (pretrained_result) *pretrained_result = curves.back().second;
  }
  nn::GaussianPolicy random = initial_policy(c);
  curves.emplace_back("random init", as_eval_result(meta::evaluate_nav(random, random.parameters(), o)));
  const meta::Summary oracle = meta::nav_oracle(o);
  std::string table;
  for (const auto& [who, r] : curves) table += format_eval(r, who);
  table += fmt::format("{:<10} return (the analytic optimum): {:.4f} ± {:.4f}  ({} tasks)\n", "oracle", oracle.mean,
                       oracle.ci95, oracle.n);
  fmt::print(out, "{}", table);
  write_text_file(out_file(c, "results.txt"), table);
  write_text_file(out_file(c, "nav_returns.svg"), nav_returns_svg(curves, &oracle));

  // Four held-out goals: five trajectories before adaptation, after one step and after k.
  const data::NavTasks goals(o.env);
  std::vector<data::NavGoal> shown;
  std::vector<std::vector<data::NavRollout>> rollouts;
  for (std::uint64_t g = 0; g < 4; ++g) {
    shown.push_back(goals.goal(g));
    Generator gen = data::task_generator(splitmix64(o.env.seed), g);
    const std::vector<data::NavRollout> all =
        meta::nav_adaptation_rollouts(policy, policy.parameters(), shown.back(), gen, o);
    rollouts.push_back({all.front(), all[1 < all.size() ? 1 : 0], all.back()});
  }
  write_text_file(
      out_file(c, "nav_trajectories.svg"),
      nav_trajectories_svg(shown, rollouts,
                           {"before adaptation", "after 1 step", fmt::format("after {} steps", o.max_steps)}, 5));
  return curves.front().second;
}

void write_returns_curve(const TrainConfig& c, const std::vector<MetricsRow>& rows, const std::string& name) {
  Series post{"return after adaptation", {}, {}, "#1f5fa8"};
  for (const MetricsRow& r : rows) {
    post.x.push_back(static_cast<double>(r.iteration));
    post.y.push_back(r.metric);
  }
  PlotOptions o;
  o.title = fmt::format("{} on nav2d: return of the post-update trajectories", name);
  o.x_label = "meta-iteration";
  o.y_label = "average return";
  write_text_file(out_file(c, "learning_curve.svg"), svg_plot({post}, o));
}

}  // namespace

meta::NavMetaOptions nav_meta_options(const TrainConfig& c, const std::string& algo) {
  meta::NavMetaOptions o;
  o.algo = algo_of(algo);
  o.outer = *c.nav.outer == "adam" ? meta::NavOuter::Adam : meta::NavOuter::Trpo;
  o.env = env_of(c, c.seed);
  o.trajectories = *c.nav.trajectories;
  o.inner_steps = *c.inner_steps;
  o.inner_lr = *c.inner_lr;
  o.adam_lr = *c.meta_lr;
  o.epsilon = *c.meta_lr;  // reptile: ε, annealed to 0 over the run
  o.anneal_iterations = *c.iterations;
  o.meta_batch = *c.meta_batch;
  o.threads = *c.threads;
  o.sampling_term = c.nav.sampling_term;
  return o;
}

meta::NavEvalOptions nav_eval_options(const TrainConfig& c) {
  meta::NavEvalOptions o;
  o.num_goals = c.eval_tasks;
  o.max_steps = *c.eval_inner_steps;
  o.inner_lr = *c.inner_lr;
  o.trajectories = *c.nav.trajectories;
  o.env = env_of(c, kTestTaskSeed);
  o.threads = *c.threads;
  return o;
}

TrainResult run_nav_train(const TrainConfig& c, const RunOptions& run) {
  check_path("train: --out", c.out, PathUse::kOutputFolder);
  for (const char* name : kNavOutputFiles) check_path("train: output file", out_file(c, name), PathUse::kOutputFile);
  if (c.nav.pretrained) check_path("train: --pretrained", *c.nav.pretrained, PathUse::kInputFile);
  nn::GaussianPolicy policy = initial_policy(c);
  meta::NavMetaLearner learner(policy, nav_meta_options(c, c.algo));
  const std::string checkpoint = out_file(c, "checkpoint.mgc");
  std::int64_t first = 0;
  if (c.resume) {
    check_path("train: --resume: checkpoint", checkpoint, PathUse::kInputFile);
    check_resumable(c, checkpoint, nn::read_checkpoint(checkpoint).metadata);
    first = nn::load_checkpoint(checkpoint, policy, learner.optimizer()).step;
  }
  MetricsLog log = c.resume ? MetricsLog::resume(out_file(c, "metrics.csv"), "return", first)
                            : MetricsLog(out_file(c, "metrics.csv"), "return");
  const auto save = [&](std::int64_t done) {
    log.save();
    nn::save_checkpoint(checkpoint, policy, learner.optimizer(), done, to_metadata(c));
  };
  if (first > 0) fmt::print(run.out, "resuming {} at iteration {}\n", checkpoint, first);
  const std::string outer = c.algo == "reptile" ? fmt::format("interpolation (epsilon {} annealed to 0)", *c.meta_lr)
                                                : fmt::format("{} outer step", *c.nav.outer);
  fmt::print(run.out, "training {} on nav2d: {} iterations, meta-batch {}, {} trajectories, {}, {} thread(s)\n",
             learner.name(), *c.iterations, *c.meta_batch, *c.nav.trajectories, outer, *c.threads);

  TrainResult result;
  std::int64_t last = *c.iterations;
  if (run.stop_after >= 0) last = std::min(last, first + run.stop_after);
  Progress progress(first, *c.iterations, "return", c.log_every, run.out, run.terminal);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t done = first;
  try {
    for (std::int64_t it = first; it < last; ++it) {
      const meta::NavStepStats s = learner.step(it);
      log.append({it, s.loss, s.post_return});
      progress.update(it, s.loss, s.post_return);
      done = it + 1;
      if (done % c.checkpoint_every == 0) save(done);
    }
  } catch (const NonFiniteError&) {
    progress.finish();
    save(done);  // the state after the last finite iteration (Note [Divergence] in meta/meta_learner.h)
    throw;
  }
  progress.finish();
  result.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  save(done);
  result.iterations_done = done;
  result.finished = done == *c.iterations;
  if (done > first)
    fmt::print(run.out, "{:.2f} s per meta-iteration\n", result.train_seconds / static_cast<double>(done - first));
  if (!result.finished) return result;
  std::optional<meta::EvalResult> pretrained;
  result.eval = evaluate_run(c, policy, learner.name(), run.out, &pretrained);
  result.baseline = pretrained;
  write_returns_curve(c, log.rows(), learner.name());
  fmt::print(run.out,
             "wrote {}/{{checkpoint.mgc, metrics.csv, results.txt, learning_curve.svg, nav_returns.svg, "
             "nav_trajectories.svg}}\n",
             c.out);
  return result;
}

meta::EvalResult run_nav_eval(const TrainConfig& c, const std::string& checkpoint, std::FILE* out) {
  if (c.nav.pretrained) check_path("eval: --pretrained", *c.nav.pretrained, PathUse::kInputFile);
  for (const std::string& path : c.nav.compare) check_path("eval: --compare", path, PathUse::kInputFile);
  LoadedPolicy loaded = load_policy(checkpoint, "eval: --checkpoint");
  return evaluate_run(c, loaded.policy, c.algo, out, nullptr);
}

}  // namespace mg::tools
