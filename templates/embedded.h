#pragma once
/// The CUDA kernel templates (templates/*.cuh), embedded into the library when it was built.
#include <string_view>
#include <vector>

namespace robocache {

/// The text of the embedded template `name` (e.g. "resample.cuh"); throws std::out_of_range.
std::string_view template_source(std::string_view name);

/// Names of every embedded template, sorted.
std::vector<std::string_view> template_names();

/// Hex SHA-256 over all embedded templates (names and text), for the kernel cache key.
std::string_view templates_hash();

}  // namespace robocache
