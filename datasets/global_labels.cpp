#include "datasets/global_labels.h"

#include "autograd/errors.h"

namespace mg::data {

GlobalLabelTasks::GlobalLabelTasks(std::shared_ptr<const ClassEpisodes> episodes) : episodes_(std::move(episodes)) {
  if (!episodes_) throw ValueError("global label tasks: no episode sampler (null pointer)");
}

Task GlobalLabelTasks::sample(std::uint64_t task_index) const {
  Task task = episodes_->sample(task_index);
  const std::vector<std::int64_t> classes = episodes_->classes(task_index);  // label order
  for (Tensor* y : {&task.support_y, &task.query_y}) {
    std::int64_t* labels = y->mutable_data<std::int64_t>();
    for (std::int64_t i = 0; i < y->numel(); ++i) labels[i] = classes[static_cast<std::size_t>(labels[i])];
  }
  return task;
}

}  // namespace mg::data
