// export_text_run: everything a PyTorch reference needs to train and score the same
// text model as a `metalearn train --dataset clinc150` run (issue 17: "the same model
// trained by the PyTorch reference must land within the confidence intervals").
//
//   export_text_run --model bag-counts --algo fomaml --iterations 300 --out DIR
//                   [--seed S] [--test-shots 1,5] [--eval-tasks 600]
//
// The config is metalearn's (tools/train_config.h: the text defaults, one thread), so the
// experiment built here is the run's: the initial θ (float32, parameters() order), the
// tasks of every meta-iteration (task it·B + i of the meta-training source, as
// MetaLearner::train samples them), and the test tasks `metalearn eval` scores (tasks
// 0 … eval-tasks − 1, once per --test-shots K, K-shot as `eval --shots K` makes them).
// Also the check's reference: the mean query loss and meta-gradient of batch 0 in float64
// from the same θ. Files as Note [Feeding PyTorch the same ids] (bench/text_workload.h):
// raw little-endian arrays listed in DIR/index.json. bench/torch_train_text.py reads them.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "autograd/errors.h"
#include "bench/text_workload.h"
#include "nn/text_models.h"
#include "tools/experiment.h"
#include "tools/train_config.h"

namespace {

using namespace mg;

int run(const tools::TrainConfig& request, const std::vector<int>& test_shots, const std::string& out) {
  tools::TrainConfig c = request;
  tools::prepare(c);
  if (c.algo != "maml" && c.algo != "fomaml")
    throw ValueError(fmt::format("--algo must be maml or fomaml, got '{}'", c.algo));
  if (*c.model != "bag" && *c.model != "bag-counts")
    throw ValueError(fmt::format("--model must be bag or bag-counts, got '{}'", *c.model));
  tools::Experiment e = tools::build_experiment(c);
  const std::filesystem::path dir(out);
  std::filesystem::create_directories(dir);
  std::vector<bench::detail::ExportEntry> index;
  const std::vector<Tensor> theta = e.model->parameters();
  for (std::size_t j = 0; j < theta.size(); ++j)
    bench::detail::export_tensor(dir, index, fmt::format("theta{}", j), theta[j]);
  const auto batch = static_cast<std::uint64_t>(*c.meta_batch);
  std::vector<data::Task> first_batch;
  for (std::int64_t it = 0; it < *c.iterations; ++it) {
    const std::vector<data::Task> tasks = data::sample_tasks(*e.train_tasks, static_cast<std::uint64_t>(it) * batch,
                                                             batch, 1);
    for (std::size_t i = 0; i < tasks.size(); ++i)
      bench::detail::export_task(dir, index, fmt::format("b{}_t{}_", it, i), tasks[i]);
    if (it == 0) first_batch = tasks;
  }
  for (int k : test_shots) {
    tools::TrainConfig t = c;  // train_shots is resolved: as `metalearn eval --shots K`, only the test tasks change
    t.shots = k;
    const tools::Experiment te = tools::build_experiment(t);
    for (int i = 0; i < c.eval_tasks; ++i)
      bench::detail::export_task(dir, index, fmt::format("test{}_t{}_", k, i),
                                 te.test_tasks->sample(static_cast<std::uint64_t>(i)));
  }
  // The check's reference: the run's network (tools/text_experiment.cpp's) in float64
  // from the same θ, on batch 0.
  Generator gen(c.seed);
  nn::Sequential wide = nn::text_bag_model(
      {.num_ids = theta[0].shape()[0], .ways = *c.ways, .count_path = *c.model == "bag-counts", .dtype = DType::F64},
      gen);
  double loss = 0.0;
  const std::vector<Tensor> g = bench::detail::reference_meta_gradient(wide, theta, first_batch, *c.inner_lr,
                                                                       *c.inner_steps, c.algo == "fomaml", &loss);
  for (std::size_t j = 0; j < g.size(); ++j) bench::detail::export_tensor(dir, index, fmt::format("grad{}", j), g[j]);
  bench::detail::write_index(
      dir,
      fmt::format(R"("model":"{}","algo":"{}","iterations":{},"meta_batch":{},"inner_lr":{:.17g},"meta_lr":{:.17g},)"
                  R"("steps":{},"eval_inner_steps":{},"ways":{},"test_shots":[{}],"eval_tasks":{},"num_params":{},)"
                  R"("loss":{:.17g})",
                  *c.model, c.algo, *c.iterations, *c.meta_batch, *c.inner_lr, *c.meta_lr, *c.inner_steps,
                  *c.eval_inner_steps, *c.ways, fmt::join(test_shots, ","), c.eval_tasks, theta.size(), loss),
      index);
  fmt::print("export_text_run: wrote θ, {} meta-iterations of {} tasks, {} test tasks per K in {{{}}} and the float64 "
             "check to {}\n",
             *c.iterations, batch, c.eval_tasks, fmt::join(test_shots, ","), out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("export_text_run: a metalearn clinc150 run's θ, training batches and test tasks for PyTorch");
  tools::TrainConfig c;
  c.dataset = "clinc150";
  c.threads = 1;
  std::string model = "bag-counts", algo = "fomaml", out;
  std::int64_t iterations = 300;
  std::vector<int> test_shots = {1, 5};
  app.add_option("--model", model, "bag | bag-counts (default bag-counts)");
  app.add_option("--algo", algo, "maml | fomaml (default fomaml)");
  app.add_option("--iterations", iterations, "meta-iterations to export (default 300)");
  app.add_option("--seed", c.seed, "metalearn's --seed (default 0)");
  app.add_option("--test-shots", test_shots, "K of the exported test tasks (default 1,5)")->delimiter(',');
  app.add_option("--eval-tasks", c.eval_tasks, "test tasks per K (default 600)");
  app.add_option("--out", out, "the folder to write")->required();
  CLI11_PARSE(app, argc, argv);
  c.model = model;
  c.algo = algo;
  c.iterations = iterations;
  try {
    return run(c, test_shots, out);
  } catch (const std::exception& e) {
    fmt::print(stderr, "export_text_run: {}\n", e.what());
    return 2;
  }
}
