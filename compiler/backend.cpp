#include "compiler/backend.h"

#include "support/errors.h"
#include "support/user_text.h"

namespace robocache {

std::vector<Config> Backend::config_space(const Spec& spec) const { return {default_config(spec)}; }

std::string Backend::emit(const KernelSource& source, const std::string& form) const {
  // The generated text itself, under the name the CLI gives it (`robocache compile --emit`).
  if ((form == "source" && source.language == "cuda") || (form == "ir" && source.language == "llvm-ir"))
    return source.text;
  throw ArgumentError("emit", "target '" + source.target.name() + "' cannot emit '" + shown(form) + "'");
}

}  // namespace robocache
