// The atomic writer shared by checkpoints and the tools' text files (autograd/atomic_file.h).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/atomic_file.h"
#include "autograd/errors.h"
#include "tests/temp_dir.h"

using namespace mg;
namespace fs = std::filesystem;

// A named namespace: the unity build puts this file beside others with helpers of these names.
namespace atomic_file_test {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace atomic_file_test

namespace aft = atomic_file_test;

TEST_SUITE("atomic_file") {
  TEST_CASE("write_file_atomically replaces the file whole and leaves no temporary file") {
    mg::test::TempDir t;
    const std::string path = (t.path() / "out.txt").string(), temp = path + ".tmp";
    int failures = 0;
    auto count = [&](const WriteFailure&) { ++failures; };
    write_file_atomically(path, temp, aft::bytes_of("first"), count);
    CHECK(aft::slurp(path) == "first");
    { std::ofstream(temp) << "stale"; }  // a temporary file left by a crash is replaced
    write_file_atomically(path, temp, aft::bytes_of("second, longer"), count);
    CHECK(aft::slurp(path) == "second, longer");
    CHECK(!fs::exists(temp));
    CHECK(failures == 0);
  }

  TEST_CASE("write_file_atomically reports the failed step and removes the temporary file") {
    mg::test::TempDir t;
    // Create: the folder of the temporary file does not exist.
    const std::string nowhere = (t.path() / "missing" / "out.txt").string();
    std::vector<WriteFailure> seen;
    auto record_and_throw = [&](const WriteFailure& f) {
      seen.push_back(f);
      throw DataError("failed");
    };
    CHECK_THROWS_AS(write_file_atomically(nowhere, nowhere + ".tmp", aft::bytes_of("x"), record_and_throw), DataError);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].step == WriteStep::Create);
    CHECK(seen[0].file == nowhere + ".tmp");
    CHECK(seen[0].error == ENOENT);

    // Rename: the target is a folder that is not empty; the temporary file goes.
    const fs::path folder = t.path() / "occupied";
    fs::create_directories(folder / "inside");
    const std::string temp = (t.path() / "occupied.tmp").string();
    seen.clear();
    CHECK_THROWS_AS(write_file_atomically(folder.string(), temp, aft::bytes_of("x"), record_and_throw), DataError);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].step == WriteStep::Rename);
    CHECK(seen[0].file == folder.string());
    CHECK(!fs::exists(temp));
    CHECK(fs::is_directory(folder / "inside"));
  }

  TEST_CASE("write_file_atomically: every error message") {
    mg::test::TempDir t;
    const std::string nowhere = (t.path() / "missing" / "out.txt").string();
    CHECK_THROWS_WITH_AS(
        write_file_atomically(nowhere, nowhere + ".tmp", aft::bytes_of("x"), [](const WriteFailure&) {}),
        doctest::Contains("write_file_atomically: internal error: the failure handler must throw for this step"),
        ValueError);
  }
}
