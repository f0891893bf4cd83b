// `metalearn train --dataset nav2d` as a library call (tools/nav_train.h): a small run,
// interrupted and resumed bit-identically, its files, its evaluation beside a pretrained
// checkpoint, `eval` of its checkpoint, and the nav2d settings' checks and round trip.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "nn/checkpoint.h"
#include "nn/gaussian_policy.h"
#include "tests/tools/fixtures.h"
#include "tools/nav_figures.h"
#include "tools/nav_train.h"
#include "tools/train_config.h"

using namespace mg;
using namespace mg::tools;
namespace fs = std::filesystem;

namespace nav_train_test {

TrainConfig tiny_nav(const fs::path& out, const std::string& algo) {
  TrainConfig c;
  c.dataset = "nav2d";
  c.algo = algo;
  c.iterations = 3;
  c.meta_batch = 2;
  c.eval_tasks = 3;
  c.threads = 2;
  c.checkpoint_every = 1;
  c.nav.trajectories = 3;
  c.nav.horizon = 10;
  c.out = out.string();
  return c;
}

std::vector<float> saved_weight(const fs::path& out) {
  return nn::read_checkpoint((out / "checkpoint.mgc").string()).tensors[1].tensor.to_vector<float>();
}

// `b` (written to `parts`) stopped after two iterations and resumed ends as the
// uninterrupted run in `whole`: the same metrics.csv and weights.
void check_resumed_run(TrainConfig b, const fs::path& parts, const fs::path& whole) {
  test::NullOut null;
  CHECK_FALSE(run_train(b, {null.f, false, 2}).finished);
  b.resume = true;
  CHECK(run_train(b, {null.f, false, -1}).finished);
  CHECK(test::slurp(parts / "metrics.csv") == test::slurp(whole / "metrics.csv"));
  CHECK(saved_weight(parts) == saved_weight(whole));
}

// Rewrites `out`'s checkpoint as runs wrote it before --sampling-term became opt-in:
// config.nav_sampling_term = true whatever the algorithm (Note [Checkpoints from before
// the sampling-term default] in tools/nav_train.cpp). The parameters and step are kept.
void write_old_style_checkpoint(const fs::path& out) {
  const std::string path = (out / "checkpoint.mgc").string();
  nn::Checkpoint ckpt = nn::read_checkpoint(path);
  Generator gen(0);
  nn::GaussianPolicy policy = nn::nav_policy(gen);
  const std::int64_t step = nn::load_checkpoint(path, policy, nullptr).step;
  bool found = false;
  for (auto& [key, value] : ckpt.metadata)
    if (key == "config.nav_sampling_term") {
      value = "true";
      found = true;
    }
  REQUIRE(found);
  nn::save_checkpoint(path, policy, nullptr, step, ckpt.metadata);
}

}  // namespace nav_train_test

using namespace nav_train_test;

TEST_SUITE("nav_train") {
  TEST_CASE("a small nav2d run: resumed bit-identical, its files, a pretrained baseline beside it, eval") {
    test::NullOut null;
    const fs::path pre_out = test::scratch("nav", "pretrain"), whole = test::scratch("nav", "whole"),
                   parts = test::scratch("nav", "parts");
    const TrainResult pre = run_train(tiny_nav(pre_out, "pretrain"), {null.f, false, -1});
    CHECK(pre.finished);
    TrainConfig a = tiny_nav(whole, "maml");
    a.nav.pretrained = (pre_out / "checkpoint.mgc").string();
    const TrainResult r = run_train(a, {null.f, false, -1});
    REQUIRE(r.finished);
    CHECK(r.eval.steps == std::vector<int>{0, 1, 2, 3});
    REQUIRE(r.baseline.has_value());
    CHECK(r.baseline->metric[0].n == 3);
    for (const char* f : {"checkpoint.mgc", "metrics.csv", "results.txt", "nav_returns.svg", "nav_trajectories.svg",
                          "learning_curve.svg"})
      CHECK(fs::exists(whole / f));
    const std::string results = test::slurp(whole / "results.txt");
    CHECK(results.find("pretrained") != std::string::npos);
    CHECK(results.find("random init") != std::string::npos);
    CHECK(results.find("oracle") != std::string::npos);

    TrainConfig b = tiny_nav(parts, "maml");
    b.nav.pretrained = a.nav.pretrained;
    check_resumed_run(b, parts, whole);

    const meta::EvalResult e = run_eval(
        {.checkpoint = (whole / "checkpoint.mgc").string(), .eval_tasks = 3, .pretrained = a.nav.pretrained}, null.f);
    CHECK(e.metric[1].mean == r.eval.metric[1].mean);  // the same goals and noise as the run's own evaluation
    CHECK(test::slurp(whole / "results.txt") == results);  // eval rewrites the same table

    // --compare: another nav2d run scored beside, named by its algorithm.
    run_eval({.checkpoint = (whole / "checkpoint.mgc").string(),
              .eval_tasks = 3,
              .compare = {(pre_out / "checkpoint.mgc").string()}},
             null.f);
    const std::string compared = test::slurp(whole / "results.txt");
    CHECK(compared.find("pretrain   return after  1 steps") != std::string::npos);
    CHECK(compared.find("random init") != std::string::npos);
    CHECK(test::slurp(whole / "nav_returns.svg").find(">pretrain<") != std::string::npos);
    const fs::path sine = test::scratch("nav", "sine");
    REQUIRE(run_train(test::small_run(sine, "maml", 2, 2, 2), {null.f, false, -1}).finished);
    const std::string sine_ckpt = (sine / "checkpoint.mgc").string();
    CHECK_THROWS_WITH_AS(
        run_eval({.checkpoint = (whole / "checkpoint.mgc").string(), .eval_tasks = 3, .compare = {sine_ckpt}}, null.f),
        fmt::format("eval: --compare: {} was trained on sinusoid, not nav2d", sine_ckpt).c_str(), DataError);
    CHECK_THROWS_WITH_AS(run_eval({.checkpoint = sine_ckpt, .eval_tasks = 3, .compare = {sine_ckpt}}, null.f),
                         fmt::format("eval: --compare is for nav2d checkpoints; {} was trained on sinusoid", sine_ckpt)
                             .c_str(),
                         ValueError);
    CHECK_THROWS_WITH_AS(run_eval({.checkpoint = sine_ckpt, .eval_tasks = 3, .pretrained = sine_ckpt}, null.f),
                         fmt::format("eval: --pretrained is for nav2d checkpoints; {} was trained on sinusoid",
                                     sine_ckpt)
                             .c_str(),
                         ValueError);

    TrainConfig other = tiny_nav(parts, "maml");
    other.resume = true;
    other.nav.trajectories = 4;
    CHECK_THROWS_WITH_AS(run_train(other, {null.f, false, -1}),
                         doctest::Contains("has config.nav_trajectories = 3, this run has 4"), DataError);
    TrainConfig wrong = tiny_nav(test::scratch("nav", "wrong"), "maml");
    wrong.nav.pretrained = (pre_out / "metrics.csv").string();
    CHECK_THROWS_AS(run_train(wrong, {null.f, false, -1}), DataError);
  }

  TEST_CASE("reptile on nav2d: trains, resumes bit-identical (ε anneals by iteration), evaluates") {
    test::NullOut null;
    const fs::path whole = test::scratch("nav", "reptile-whole"), parts = test::scratch("nav", "reptile-parts");
    const TrainResult r = run_train(tiny_nav(whole, "reptile"), {null.f, false, -1});
    REQUIRE(r.finished);
    CHECK(r.eval.steps == std::vector<int>{0, 1, 2, 3});
    CHECK(test::slurp(whole / "results.txt").find("reptile") != std::string::npos);
    check_resumed_run(tiny_nav(parts, "reptile"), parts, whole);
    Generator gen(0);
    nn::GaussianPolicy start = nn::nav_policy(gen);  // tiny_nav's seed is the default 0
    CHECK(saved_weight(whole) != start.parameters()[1].to_vector<float>());  // it moved
  }

  TEST_CASE("checkpoints written before --sampling-term became opt-in: fomaml and pretrain resume, maml says how") {
    test::NullOut null;
    for (const char* algo : {"fomaml", "pretrain"}) {
      CAPTURE(algo);
      const fs::path out = test::scratch("nav", std::string("old_") + algo);
      TrainConfig c = tiny_nav(out, algo);
      CHECK_FALSE(run_train(c, {null.f, false, 1}).finished);
      write_old_style_checkpoint(out);
      c.resume = true;
      const TrainResult r = run_train(c, {null.f, false, -1});
      CHECK(r.finished);
      CHECK(r.iterations_done == 3);
      CHECK(from_metadata(nn::read_checkpoint((out / "checkpoint.mgc").string()).metadata).nav.sampling_term ==
            false);  // rewritten as what the run is
    }
    const fs::path out = test::scratch("nav", "old_maml");
    TrainConfig c = tiny_nav(out, "maml");
    CHECK_FALSE(run_train(c, {null.f, false, 1}).finished);
    write_old_style_checkpoint(out);
    c.resume = true;
    CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}),
                         doctest::Contains("has config.nav_sampling_term = true, this run has false; pass "
                                           "--sampling-term to resume it as it was trained (checkpoints written "
                                           "before the term became opt-in record true)"),
                         DataError);
    c.nav.sampling_term = true;
    CHECK(run_train(c, {null.f, false, -1}).finished);
  }

  TEST_CASE("nav2d settings: defaults, checks and the checkpoint round trip") {
    TrainConfig c;
    c.dataset = "nav2d";
    prepare(c);
    CHECK(*c.nav.trajectories == 20);
    CHECK(*c.nav.horizon == 100);
    CHECK(*c.meta_batch == 20);
    CHECK(*c.inner_lr == doctest::Approx(0.1));
    CHECK(*c.nav.outer == "trpo");
    CHECK_FALSE(c.nav.sampling_term);  // off unless --sampling-term (Note [The sampling-distribution term])
    CHECK_FALSE(nav_meta_options(c, "maml").sampling_term);
    c.nav.reward = "squared";
    c.nav.sampling_term = true;
    const TrainConfig back = from_metadata(to_metadata(c));
    CHECK(*back.nav.reward == "squared");
    CHECK(back.nav.sampling_term);
    CHECK(nav_meta_options(back, "maml").sampling_term);
    CHECK(*back.nav.horizon == 100);
    const meta::NavMetaOptions o = nav_meta_options(back, "fomaml");
    CHECK(o.algo == meta::NavAlgo::FoMaml);
    CHECK(o.env.reward == data::NavReward::SquaredDistance);
    TrainConfig r;  // Reptile's own defaults: three steps, ε = 1 annealed over the run
    r.dataset = "nav2d";
    r.algo = "reptile";
    prepare(r);
    CHECK(*r.inner_steps == 3);
    const meta::NavMetaOptions ro = nav_meta_options(r, "reptile");
    CHECK(ro.algo == meta::NavAlgo::Reptile);
    CHECK(ro.epsilon == 1.0);
    CHECK(ro.anneal_iterations == 200);

    auto invalid = [](auto edit, const char* message) {
      TrainConfig t;
      t.dataset = "nav2d";
      edit(t);
      CHECK_THROWS_WITH_AS(prepare(t), doctest::Contains(message), ValueError);
    };
    invalid([](TrainConfig& t) { t.nav.reward = "l1"; }, "train: --reward must be distance or squared, got 'l1'");
    invalid([](TrainConfig& t) { t.nav.outer = "sgd"; }, "train: --outer must be trpo or adam, got 'sgd'");
    invalid([](TrainConfig& t) { t.algo = "reptile", t.nav.outer = "adam"; },
            "train: --outer is for --algo maml, fomaml or pretrain: reptile's outer step is its interpolation "
            "(--meta-lr is its epsilon)");
    invalid([](TrainConfig& t) { t.algo = "reptile", t.inner_batch = 5; },
            "train: --inner-batch is not for --dataset nav2d (its inner steps are policy-gradient steps)");
    invalid([](TrainConfig& t) { t.algo = "reptile", t.inner_optimizer = "sgd"; },
            "train: --inner-optimizer is not for --dataset nav2d (its inner steps are policy-gradient steps)");
    invalid([](TrainConfig& t) { t.algo = "reptile", t.reset_inner_adam = true; },
            "train: --reset-inner-adam is not for --dataset nav2d (its inner steps are policy-gradient steps)");
    invalid([](TrainConfig& t) { t.algo = "fomaml", t.nav.sampling_term = true; },
            "train: --sampling-term is for --algo maml, not fomaml");
    invalid([](TrainConfig& t) { t.dataset = "sinusoid", t.nav.sampling_term = true; },
            "train: --sampling-term is for --dataset nav2d, not sinusoid");
    invalid([](TrainConfig& t) { t.algo = "pretrain", t.nav.pretrained = "x"; },
            "train: --pretrained does nothing with --algo pretrain (it is the baseline)");
    invalid([](TrainConfig& t) { t.dataset = "sinusoid", t.nav.horizon = 5; },
            "train: --horizon is for --dataset nav2d, not sinusoid");
    invalid([](TrainConfig& t) { t.nav.trajectories = 0; }, "train: --trajectories must be ");
    std::vector<std::pair<std::string, std::string>> bad = to_metadata(c);
    for (auto& [k, v] : bad)
      if (k == "config.nav_horizon") v = "many";
    CHECK_THROWS_WITH_AS(from_metadata(bad), "config.nav_horizon: expected a number, got 'many'", DataError);
    for (auto& [k, v] : bad)
      if (k == "config.nav_horizon")
        v = "100";
      else if (k == "config.nav_sampling_term")
        v = "maybe";
    CHECK_THROWS_WITH_AS(from_metadata(bad), "config.nav_sampling_term: expected true or false, got 'maybe'",
                         DataError);
  }

  TEST_CASE("the pictures: one curve per method and the oracle; trajectories per goal") {
    const meta::EvalResult r{"return", {0, 1}, {{-40.0, 2.0, 10}, {-20.0, 1.0, 10}}};
    const meta::Summary oracle{-0.5, 0.1, 10};
    const std::string svg = nav_returns_svg({{"maml", r}}, &oracle);
    CHECK(svg.find("maml") != std::string::npos);
    CHECK(svg.find("oracle") != std::string::npos);
    CHECK_THROWS_WITH_AS(nav_returns_svg({}, nullptr), "nav_returns_svg: no curves", ValueError);
    data::NavBatch env({.horizon = 3}, {0.2, 0.2}, 2);
    const data::NavRollout ro = data::rollout(env, [](const Tensor& p) { return full(p.shape(), 0.05); });
    const std::string t = nav_trajectories_svg({{0.2, 0.2}}, {{ro}}, {"before"}, 5);
    CHECK(t.find("before") != std::string::npos);
    CHECK(t.find("goal (0.20, 0.20)") != std::string::npos);
    CHECK_THROWS_WITH_AS(nav_trajectories_svg({{0.2, 0.2}}, {{ro}}, {"a", "b"}, 5),
                         "nav_trajectories_svg: goal 0 has 1 rollouts for 2 labels", ValueError);
  }
}
