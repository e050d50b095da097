// The templates embedded at build time are exactly the files in templates/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/sha256.h"
#include "templates/embedded.h"

namespace robocache {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(EmbeddedTemplates, MatchTheFilesOnDisk) {
  const std::filesystem::path dir = std::filesystem::path(ROBOCACHE_SOURCE_DIR) / "templates";
  std::vector<std::string> on_disk;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".cuh") on_disk.push_back(e.path().filename().string());
  std::sort(on_disk.begin(), on_disk.end());
  std::vector<std::string> embedded;
  for (std::string_view n : template_names()) embedded.emplace_back(n);
  EXPECT_EQ(embedded, on_disk);
  Sha256 h;
  for (const std::string& name : on_disk) {
    std::string text = read_file(dir / name);
    EXPECT_EQ(template_source(name), text) << name;
    h.update(std::to_string(name.size()) + ":").update(name);
    h.update(std::to_string(text.size()) + ":").update(text);
  }
  EXPECT_EQ(templates_hash(), h.hex_digest());
}

TEST(EmbeddedTemplates, UnknownNameThrows) {
  EXPECT_THROW(template_source("nope.cuh"), std::out_of_range);
}

TEST(EmbeddedTemplates, ResampleIncludesNothing) {
  // NVRTC gets no include path, so a template must be self-contained.
  EXPECT_EQ(template_source("resample.cuh").find("#include"), std::string_view::npos);
}

}  // namespace
}  // namespace robocache
