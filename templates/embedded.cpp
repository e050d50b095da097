#include "templates/embedded.h"

#include <stdexcept>
#include <string>

#include "support/sha256.h"
#include "templates/embedded_table.h"

namespace robocache {

using templates_detail::kTemplateFileCount;
using templates_detail::kTemplateFiles;

std::string_view template_source(std::string_view name) {
  for (std::size_t i = 0; i < kTemplateFileCount; ++i)
    if (kTemplateFiles[i].name == name) return kTemplateFiles[i].text;
  throw std::out_of_range("no embedded CUDA template named '" + std::string(name) + "'");
}

std::vector<std::string_view> template_names() {
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < kTemplateFileCount; ++i) names.push_back(kTemplateFiles[i].name);
  return names;
}

std::string_view templates_hash() {
  // Length-prefixed fields, so moving text from one file to the next changes the hash.
  static const std::string hash = [] {
    Sha256 h;
    for (std::size_t i = 0; i < kTemplateFileCount; ++i) {
      const auto& f = kTemplateFiles[i];
      h.update(std::to_string(f.name.size()) + ":").update(f.name);
      h.update(std::to_string(f.text.size()) + ":").update(f.text);
    }
    return h.hex_digest();
  }();
  return hash;
}

}  // namespace robocache
