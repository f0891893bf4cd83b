// A fresh folder under the system temp dir for one test, removed with its contents at
// scope end: the one home of the tests' temporary folders (several test files share a
// translation unit in the unity build, so each defining its own clashed).
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace mg::test {

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("metagrad-test-" + std::to_string(rd()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A path inside the folder, as a string.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace mg::test
