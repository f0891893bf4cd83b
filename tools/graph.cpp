// metalearn graph; see graph.h.
#include "tools/graph.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/graph_export.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "autograd/tape.h"
#include "datasets/sinusoid.h"
#include "meta/adapt.h"
#include "nn/activations.h"
#include "nn/linear.h"
#include "nn/sequential.h"
#include "tools/atomic_file.h"
#include "tools/paths.h"

extern char** environ;

namespace mg::tools {

namespace {

// Few points keep every shape in the picture small: [2, 1] inputs, [2, H] activations.
constexpr int kSupportPoints = 2;
constexpr int kQueryPoints = 2;
constexpr double kInnerLr = 0.01;

// Runs `dot -Tsvg -o svg dot_file` and waits for it.
void render_svg(const std::string& dot_program, const std::string& dot_file, const std::string& svg) {
  std::vector<std::string> args = {dot_program, "-Tsvg", "-o", svg, dot_file};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, dot_program.c_str(), nullptr, nullptr, argv.data(), environ);
  if (err == ENOENT)
    throw DataError(fmt::format("graph: --svg needs Graphviz: '{}' is not on PATH (Debian: apt install graphviz)",
                                dot_program));
  if (err != 0) throw DataError(fmt::format("graph: cannot run '{}': {}", dot_program, std::strerror(err)));
  int status = 0;
  const bool exited = waitpid(pid, &status, 0) == pid && WIFEXITED(status);
  if (!exited || WEXITSTATUS(status) != 0)  // -1: killed by a signal, or the wait failed
    throw DataError(fmt::format("graph: '{} -Tsvg' failed (status {}); {} was not written", dot_program,
                                exited ? WEXITSTATUS(status) : -1, svg));
}

}  // namespace

namespace {

std::string record_step(const GraphRequest& request) {
  if (request.algo != "maml" && request.algo != "fomaml")
    throw ValueError(fmt::format("graph: --algo must be maml or fomaml, got '{}'", request.algo));
  if (request.inner_steps < 1)
    throw ValueError(fmt::format("graph: --inner-steps must be >= 1, got {}", request.inner_steps));
  if (request.hidden < 1) throw ValueError(fmt::format("graph: --hidden must be >= 1, got {}", request.hidden));

  Generator gen(0);
  nn::Sequential model;
  model.emplace<nn::Linear>(1, request.hidden, gen).emplace<nn::ReLU>().emplace<nn::Linear>(request.hidden, 1, gen);
  const data::Task task =
      data::SinusoidTasks({.k_shot = kSupportPoints, .q_query = kQueryPoints}).sample(0);
  const meta::AdaptMode mode =
      request.algo == "maml" ? meta::AdaptMode::SecondOrder : meta::AdaptMode::FirstOrder;

  TapeScope scope;
  const std::int32_t first = Tape::current().size();
  const std::vector<Tensor> theta = meta::thread_aliases(model.parameters());
  // Bound now, outside every label, θ's leaves sit apart from the inner steps' boxes.
  for (const Tensor& t : theta) (void)Tape::current().node_for(t, "graph");
  // adapt() labels its steps "inner step 1", … (meta/adapt.cpp).
  const std::vector<Tensor> theta_i = meta::adapt(model, mse_loss, theta, task.support_x, task.support_y,
                                                  {.value = kInnerLr}, request.inner_steps, mode);
  {
    TapeLabel label("query loss");
    (void)mse_loss(model.forward(task.query_x, theta_i), task.query_y);
  }
  const std::string title =
      fmt::format("{} meta-step: 1-{}-1 ReLU MLP, {} inner step{}, {} support and {} query points", request.algo,
                  request.hidden, request.inner_steps, request.inner_steps == 1 ? "" : "s", kSupportPoints,
                  kQueryPoints);
  return tape_dot(first, {.title = title});
}

}  // namespace

// On a thread of its own: its tape starts empty, so the node numbers (%n, the tape's
// positions) are the same whatever the calling thread recorded before.
std::string maml_step_dot(const GraphRequest& request) {
  std::string dot;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      dot = record_step(request);
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  return dot;
}

void run_graph(const GraphRequest& request) {
  check_path("graph: --out", request.out, PathUse::kOutputFile);
  if (!request.svg.empty()) check_path("graph: --svg", request.svg, PathUse::kOutputFile);
  write_text_file(request.out, maml_step_dot(request));
  if (!request.svg.empty()) render_svg(request.dot_program, request.out, request.svg);
}

}  // namespace mg::tools
