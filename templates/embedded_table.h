#pragma once
/// The table the build writes from templates/*.cuh (see embed_templates.cmake); use embedded.h.
#include <cstddef>
#include <string_view>

namespace robocache::templates_detail {

/// One embedded template file.
struct TemplateFile {
  std::string_view name;  ///< file name, e.g. "resample.cuh"
  std::string_view text;  ///< its exact bytes
};

/// Every embedded template, sorted by name (defined in the generated embedded_templates_data.cpp).
extern const TemplateFile kTemplateFiles[];
/// Number of entries of kTemplateFiles.
extern const std::size_t kTemplateFileCount;

}  // namespace robocache::templates_detail
