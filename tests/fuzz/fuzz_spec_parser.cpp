// libFuzzer target: Spec::parse (and the JSON parser under it) on arbitrary bytes.
//
// SpecError is the expected way to reject input; any other exception escapes and is a finding.
// On success the canonical JSON must parse back to an equal spec with the same canonical text and
// hash. Independently, any document Json::parse accepts must dump to text that parses back to the
// same dump (the writer keeps whole doubles such as 1.0 and -0.0 doubles).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "support/errors.h"
#include "support/json.h"
#include "compiler/spec.h"
#include "tests/fuzz/fuzz_common.h"

using namespace robocache;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // The JSON layer alone: every dump() parses, and dump ∘ parse is the identity on dumped text.
  try {
    const std::string once = Json::parse(text).dump();
    std::string twice;
    try {
      twice = Json::parse(once).dump();
    } catch (const std::invalid_argument& e) {
      fuzz::fail("Json::dump() output does not parse", once + "\n" + e.what());
    }
    if (once != twice) fuzz::fail("Json dump/parse is not a fixed point", once + "\n" + twice);
  } catch (const std::invalid_argument&) {
    // Rejected: fine.
  }

  // The spec layer.
  std::optional<Spec> spec;
  try {
    spec.emplace(Spec::parse(text));
  } catch (const SpecError&) {
    return 0;
  }
  const std::string canon = spec->canonical_json();
  const std::string hash = spec->hash();
  try {
    Spec again = Spec::parse(canon);
    if (!(again == *spec)) fuzz::fail("canonical_json() parses to a different spec", canon);
    if (again.canonical_json() != canon)
      fuzz::fail("canonical_json() is not stable", canon + "\n" + again.canonical_json());
    if (again.hash() != hash) fuzz::fail("hash changed after a canonical round trip", canon);
    if (!(Spec::from_json(spec->to_json()) == *spec)) fuzz::fail("to_json()/from_json() round trip", canon);
  } catch (const SpecError& e) {
    fuzz::fail("canonical_json() does not parse back", canon + "\n" + e.what());
  }
  return 0;
}
